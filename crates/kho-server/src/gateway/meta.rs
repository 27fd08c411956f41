//! Metaservices as X-Road names them: `listClients` (members and subsystems),
//! `listMethods` (a provider's services and endpoints), `allowedMethods` (what the
//! calling client's agreements open) and `getOpenAPI?serviceCode=`.

use super::exchange::{authenticate, Exchange};
use super::{header, Gateway};
use crate::services::Kho;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;
use kho_core::identity::SubsystemId;
use kho_exchange::{Fault, FaultKind, ServiceTarget};
use serde_json::json;
use std::sync::Arc;

pub enum Meta {
    ListClients,
    ListMethods(SubsystemId),
    AllowedMethods(SubsystemId),
    GetOpenApi(SubsystemId),
}

/// Which metaservice a path names, if any.
pub fn which(path: &str) -> Option<Meta> {
    if path == "/listClients" {
        return Some(Meta::ListClients);
    }
    // At most six parts: a service call's longer path is no metaservice.
    let mut parts = [""; 6];
    let mut count = 0;
    for part in path.strip_prefix("/r1/")?.trim_end_matches('/').split('/') {
        if count == parts.len() {
            return None;
        }
        parts[count] = part;
        count += 1;
    }
    match &parts[..count] {
        [_, "listClients"] => Some(Meta::ListClients),
        [i, c, m, s, name] => {
            let provider = SubsystemId::from_parts([i, c, m, s]).ok()?;
            match *name {
                "listMethods" => Some(Meta::ListMethods(provider)),
                "allowedMethods" => Some(Meta::AllowedMethods(provider)),
                "getOpenAPI" => Some(Meta::GetOpenApi(provider)),
                _ => None,
            }
        }
        _ => None,
    }
}

pub async fn serve(gw: Arc<Gateway>, mut ex: Exchange, meta: Meta, request: Request) -> Response {
    let id = ex.record.message_id.clone();
    let headers = request.headers();
    let client = match header(headers, "x-road-client").map(SubsystemId::parse) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            return ex.fail(Fault::new(FaultKind::BadRequest, format!("X-Road-Client: {}", e.message), &id), None).await
        }
        None => {
            let fault =
                Fault::new(FaultKind::BadRequest, "the X-Road-Client header is missing; send your subsystem", &id);
            return ex.fail(fault, None).await;
        }
    };
    ex.record.service = match &meta {
        Meta::ListClients => "listClients".into(),
        Meta::ListMethods(p) => format!("{p}/listMethods"),
        Meta::AllowedMethods(p) => format!("{p}/allowedMethods"),
        Meta::GetOpenApi(p) => format!("{p}/getOpenAPI"),
    };
    let directory = match gw.directory().await {
        Ok(d) => d,
        Err(e) => return ex.fail(Fault::new(FaultKind::Internal, e.message, &id), None).await,
    };
    if let Err(fault) = authenticate(&directory, &request, &client, ex.record.request_in_ts, &id) {
        return ex.fail(fault, None).await;
    }
    let body = match meta {
        Meta::ListClients => {
            let instance = query_param(&request, "xRoadInstance");
            let mut members = std::collections::BTreeSet::new();
            let mut list = Vec::new();
            for s in directory.subsystems.iter().filter(|s| instance.as_ref().is_none_or(|i| *i == s.xroad_id.instance))
            {
                let x = &s.xroad_id;
                members.insert((x.instance.clone(), x.member_class.clone(), x.member_code.clone()));
                list.push(json!({"id": {"object_type": "SUBSYSTEM", "xroad_instance": x.instance, "member_class": x.member_class,
                    "member_code": x.member_code, "subsystem_code": x.subsystem_code}, "name": s.name}));
            }
            let mut all: Vec<serde_json::Value> = members
                .into_iter()
                .map(|(i, c, m)| json!({"id": {"object_type": "MEMBER", "xroad_instance": i, "member_class": c, "member_code": m}}))
                .collect();
            all.extend(list);
            json!({"member": all})
        }
        Meta::ListMethods(p) => json!({"service": Kho::methods(&directory, &p, None)}),
        Meta::AllowedMethods(p) => json!({"service": Kho::methods(&directory, &p, Some(&client))}),
        Meta::GetOpenApi(p) => {
            let Some(code) = query_param(&request, "serviceCode") else {
                let fault = Fault::new(FaultKind::BadRequest, "name the service: getOpenAPI?serviceCode=CODE", &id);
                return ex.fail(fault, None).await;
            };
            let Some(entry) = directory.services.get(&format!("{p}/{code}")).cloned() else {
                let fault = Fault::new(FaultKind::UnknownService, format!("{p} offers no service {code:?}"), &id);
                return ex.fail(fault, None).await;
            };
            match &entry.service.target {
                ServiceTarget::Proxied { openapi: Some(doc), .. } => doc.clone(),
                ServiceTarget::Proxied { openapi: None, .. } => {
                    let message = format!("the provider registered no OpenAPI document for {code:?}");
                    return ex.fail(Fault::new(FaultKind::UnknownService, message, &id), None).await;
                }
                // It reads the table's columns: on the main runtime, as dataset reads do.
                ServiceTarget::Dataset { .. } => {
                    let kho = gw.kho.clone();
                    let generated =
                        super::on_main(&gw.main, async move { super::dataset::openapi(&kho, &entry.service).await });
                    match generated.await {
                        Ok(Ok(doc)) => doc,
                        Ok(Err(e)) => return ex.fail(Fault::new(FaultKind::Internal, e.message, &id), None).await,
                        Err(_) => {
                            let fault = Fault::new(FaultKind::Internal, "the OpenAPI document could not be made", &id);
                            return ex.fail(fault, None).await;
                        }
                    }
                }
            }
        }
    };
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).expect("JSON serialises")));
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    ex.respond(response).await
}

/// A query parameter of the request, decoded.
fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
