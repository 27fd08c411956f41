//! The public's requests and feedback in the web UI: the "request a dataset" form
//! (`/request`), the feedback form on a dataset's page, and the management page
//! where an agency reads and answers what was sent to it (`/admin/requests`).

use super::{error_page, page, require_login, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use kho_catalog::requests::{CitizenRequest, NewRequest, RequestKind};
use kho_core::agency::AgencyKind;
use kho_core::Error;
use maud::{html, Markup};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    message: String,
}

impl RequestForm {
    /// Sends the form as a request of `kind` (about `resource`, for feedback). Sessions
    /// must send their form token; anonymous citizens have no session to abuse.
    async fn send(
        &self,
        state: &AppState,
        caller: &Caller,
        client: std::net::IpAddr,
        kind: RequestKind,
        resource: Option<String>,
    ) -> Result<CitizenRequest, Error> {
        if caller.session.is_some() {
            caller.check_csrf(&self.csrf_token)?;
        }
        let new = NewRequest {
            kind,
            resource_id: resource,
            agency_id: self.agency_id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            message: self.message.clone(),
        };
        state.kho.submit_request(&caller.ctx(), client, new).await
    }
}

/// The name, e-mail and message fields both forms share.
pub fn contact_fields(l: Lang, f: &RequestForm) -> Markup {
    html! {
        label for="name" { (l.t("Họ và tên", "Your name")) }
        input #name name="name" value=(f.name) required autocomplete="name";
        label for="email" { (l.t("Thư điện tử (để nhận trả lời)", "E-mail (for the answer)")) }
        input #email name="email" type="email" value=(f.email) required autocomplete="email";
        label for="message" { (l.t("Nội dung", "Message")) }
        textarea #message name="message" rows="5" required { (f.message) }
    }
}

async fn request_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    f: &RequestForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let agencies = state.kho.list_agencies().await.unwrap_or_default();
    let choices: Vec<_> = agencies.iter().filter(|a| a.kind != AgencyKind::Commune).collect();
    let content = html! {
        p { (l.t(
            "Chưa tìm thấy dữ liệu bạn cần? Hãy đề nghị cơ quan công bố. Cơ quan sẽ trả lời qua thư điện tử.",
            "Did not find the data you need? Ask an agency to publish it. The agency answers by e-mail.")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action="/request" {
            input type="hidden" name="csrf_token" value=(caller.csrf_token());
            label for="agency_id" { (l.t("Cơ quan", "Agency")) }
            select #agency_id name="agency_id" required {
                @for a in &choices { option value=(a.id) selected[a.id == f.agency_id] { (a.name) } }
            }
            (contact_fields(l, f))
            button type="submit" { (l.t("Gửi đề nghị", "Send the request")) }
        }
    };
    page(caller, uri, l.t("Đề nghị công bố dữ liệu", "Request a dataset"), status, content)
}

pub async fn request_form(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    request_page(&state, &caller, &uri, &RequestForm::default(), None, StatusCode::OK).await
}

fn thanks(caller: &Caller, uri: &Uri, r: &CitizenRequest) -> Response {
    let l = caller.lang;
    let content = html! {
        p.ok role="status" #request-sent { (l.t("Đã gửi. Mã yêu cầu của bạn là", "Sent. Your request number is")) " " code { (r.id) } "." }
        p { a href="/datasets" { (l.t("Tiếp tục tìm dữ liệu", "Go on searching")) } }
    };
    page(caller, uri, l.t("Cảm ơn bạn", "Thank you"), StatusCode::CREATED, content)
}

pub async fn submit_request(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Form(f): Form<RequestForm>,
) -> Response {
    let result = f.send(&state, &caller, client.ip(), RequestKind::DatasetRequest, None);
    match result.await {
        Ok(r) => thanks(&caller, &uri, &r),
        Err(e) => request_page(&state, &caller, &uri, &f, Some(&e.message), super::status_of(&e)).await,
    }
}

/// Feedback on a dataset, from its page.
pub async fn submit_feedback(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Form(f): Form<RequestForm>,
) -> Response {
    let result = f.send(&state, &caller, client.ip(), RequestKind::Feedback, Some(key));
    match result.await {
        Ok(r) => thanks(&caller, &uri, &r),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

/// The feedback form and the answered feedback, for a dataset's page.
pub fn feedback_section(l: Lang, caller: &Caller, slug: &str, answered: &[CitizenRequest]) -> Markup {
    html! {
        section.card aria-labelledby="feedback-h" {
            h2 #feedback-h { (l.t("Góp ý về bộ dữ liệu", "Feedback on this dataset")) }
            @for r in answered {
                blockquote.feedback {
                    p { strong { (r.name) } ": " (r.message) }
                    p { em { (l.t("Trả lời", "Answer")) } ": " (r.answer.as_deref().unwrap_or("")) }
                }
            }
            form method="post" action={ "/dataset/" (slug) "/feedback" } {
                input type="hidden" name="csrf_token" value=(caller.csrf_token());
                (contact_fields(l, &RequestForm::default()))
                button type="submit" { (l.t("Gửi góp ý", "Send feedback")) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    all: Option<String>,
}

/// `/admin/requests`: what was sent to the user's agency subtree, unanswered first.
pub async fn admin_list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<ListParams>,
) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    admin_page(&state, &caller, &uri, p.all.is_some(), None, StatusCode::OK).await
}

async fn admin_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    all: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let listed = match state.kho.list_requests(&caller.subject, !all, 200, 0).await {
        Ok(p) => p,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let agencies: std::collections::BTreeMap<String, String> =
        state.kho.list_agencies().await.unwrap_or_default().into_iter().map(|a| (a.id, a.name)).collect();
    let content = html! {
        p {
            @if all { a href="/admin/requests" { (l.t("Chỉ xem yêu cầu chưa trả lời", "Only unanswered")) } }
            @else { a href="/admin/requests?all=1" { (l.t("Xem cả yêu cầu đã trả lời", "Include answered")) } }
        }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        @if listed.items.is_empty() { p.muted #no-requests { (l.t("Không có yêu cầu nào.", "No requests.")) } }
        @for r in &listed.items {
            article.card.request {
                p.muted {
                    (match r.kind { RequestKind::DatasetRequest => l.t("Đề nghị công bố dữ liệu", "Dataset request"), RequestKind::Feedback => l.t("Góp ý", "Feedback") })
                    " · " (agencies.get(&r.agency_id).map(String::as_str).unwrap_or("")) " · " (r.created_at.format("%d/%m/%Y %H:%M"))
                    @if let Some(id) = &r.resource_id { " · " a href={ "/admin/resources/" (id) } { (l.t("bộ dữ liệu", "dataset")) } }
                }
                p { strong { (r.name) } " <" (r.email) ">: " (r.message) }
                @match &r.answer {
                    Some(a) => p.answer { em { (l.t("Đã trả lời", "Answered")) } ": " (a) },
                    None => form method="post" action={ "/admin/requests/" (r.id) "/answer" } {
                        input type="hidden" name="csrf_token" value=(caller.csrf_token());
                        label for={ "answer-" (r.id) } { (l.t("Trả lời", "Answer")) }
                        textarea id={ "answer-" (r.id) } name="answer" rows="3" required {}
                        button type="submit" { (l.t("Gửi trả lời", "Send the answer")) }
                    },
                }
            }
        }
    };
    page(caller, uri, l.t("Yêu cầu và góp ý của người dân", "Requests and feedback from the public"), status, content)
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf_token: String,
    answer: String,
}

pub async fn admin_answer(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.answer_request(&caller.subject, &caller.ctx(), &id, &f.answer).await
    };
    match result.await {
        Ok(_) => Redirect::to("/admin/requests").into_response(),
        Err(e) => admin_page(&state, &caller, &uri, false, Some(&e.message), super::status_of(&e)).await,
    }
}
