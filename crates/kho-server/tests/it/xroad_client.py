#!/usr/bin/env python3
"""A plain X-Road REST client, written from the X-Road Message Protocol for REST alone
(with the purpose header a Vietnamese exchange platform requires), using only the
standard library.

It calls the metaservices (listClients, listMethods, allowedMethods, getOpenAPI), a
dataset service (/rows?limit=2 and /rows/{key}) and a proxied service, checks status
codes, the X-Road response headers and the shape of an error body, prints a summary and
exits with status 1 when any check failed.

Settings come from flags or from the environment:

  XROAD_BASE             the gateway's base URL, e.g. http://127.0.0.1:8080
  XROAD_CLIENT           the calling subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM
  XROAD_TOKEN            the subsystem's bearer token
  XROAD_PURPOSE          the purpose code (X-Road-Purpose)
  XROAD_PROVIDER         the provider subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM
  XROAD_DATASET_SERVICE  a dataset service code of the provider
  XROAD_ROW_KEY          a key of that dataset (GET /rows/{key})
  XROAD_PROXIED_SERVICE  a proxied service code of the provider
  XROAD_PROXIED_PATH     a path of that service, e.g. /v1/persons/1
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

XROAD_RESPONSE_HEADERS = ["X-Road-Client", "X-Road-Service", "X-Road-Id", "X-Road-Request-Id", "X-Road-Request-Hash"]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed.append(what)
            print(f"FAIL  {what}")
        return condition


def settings():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, var in [
        ("base", "XROAD_BASE"),
        ("client", "XROAD_CLIENT"),
        ("token", "XROAD_TOKEN"),
        ("purpose", "XROAD_PURPOSE"),
        ("provider", "XROAD_PROVIDER"),
        ("dataset-service", "XROAD_DATASET_SERVICE"),
        ("row-key", "XROAD_ROW_KEY"),
        ("proxied-service", "XROAD_PROXIED_SERVICE"),
        ("proxied-path", "XROAD_PROXIED_PATH"),
    ]:
        p.add_argument(f"--{name}", default=env(var), help=f"default: ${var}")
    args = p.parse_args()
    missing = [k for k, v in vars(args).items() if not v]
    if missing:
        p.error("missing settings: " + ", ".join(missing))
    args.base = args.base.rstrip("/")
    return args


def encode_id(identifier):
    """Each part of an identifier percent-encoded on its own."""
    return "/".join(urllib.parse.quote(part, safe="") for part in identifier.split("/"))


class Gateway:
    def __init__(self, args):
        self.args = args

    def headers(self, message_id=None, purpose=True, token=None):
        h = {
            "X-Road-Client": self.args.client,
            "Authorization": f"Bearer {token if token is not None else self.args.token}",
            "Accept": "application/json",
            "X-Road-Id": message_id or str(uuid.uuid4()),
        }
        if purpose:
            h["X-Road-Purpose"] = self.args.purpose
        return h

    def get(self, path, headers):
        request = urllib.request.Request(self.args.base + path, method="GET", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def as_json(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def check_xroad_headers(checks, what, headers, client, service, message_id):
    for name in XROAD_RESPONSE_HEADERS:
        checks.check(headers.get(name), f"{what}: {name} is set")
    checks.check(headers.get("X-Road-Client") == client, f"{what}: X-Road-Client is {client}")
    if service is not None:
        checks.check(headers.get("X-Road-Service") == service, f"{what}: X-Road-Service is {service}")
    checks.check(headers.get("X-Road-Id") == message_id, f"{what}: X-Road-Id is the id sent")
    checks.check(headers.get("X-Road-Request-Id") not in (None, "", message_id), f"{what}: X-Road-Request-Id is its own")
    try:
        digest = base64.b64decode(headers.get("X-Road-Request-Hash") or "", validate=True)
    except ValueError:
        digest = b""
    checks.check(len(digest) == 64, f"{what}: X-Road-Request-Hash is a base64 SHA-512")
    checks.check(headers.get("X-Road-Error") is None, f"{what}: no X-Road-Error")


def check_service_list(checks, what, body, provider, codes):
    services = body.get("service") if isinstance(body, dict) else None
    if not checks.check(isinstance(services, list), f"{what}: a JSON object with a service list"):
        return
    instance, member_class, member_code, subsystem = provider.split("/")
    listed = set()
    for s in services:
        keys = {"xroad_instance", "member_class", "member_code", "subsystem_code", "service_code", "service_type",
                "endpoint_list"}
        code = s.get("service_code") if isinstance(s, dict) else repr(s)
        if not checks.check(isinstance(s, dict) and keys <= set(s), f"{what}: {code} has {sorted(keys)}"):
            continue
        same = (s["xroad_instance"], s["member_class"], s["member_code"], s["subsystem_code"]) == (
            instance, member_class, member_code, subsystem)
        checks.check(same, f"{what}: {s['service_code']} belongs to {provider}")
        checks.check(s["service_type"] in ("REST", "OPENAPI"), f"{what}: {s['service_code']} is REST or OPENAPI")
        endpoints = s["endpoint_list"]
        checks.check(isinstance(endpoints, list) and endpoints and all(
            isinstance(e, dict) and {"method", "path"} <= set(e) for e in endpoints),
            f"{what}: {s['service_code']} lists endpoints with method and path")
        listed.add(s["service_code"])
    for code in codes:
        checks.check(code in listed, f"{what}: lists {code}")


def check_fault(checks, what, status, headers, body, expected_status):
    checks.check(status == expected_status, f"{what}: status {expected_status} (got {status})")
    fault = as_json(body)
    shaped = isinstance(fault, dict) and set(fault) == {"type", "message", "detail"}
    if not checks.check(shaped, f"{what}: the error body is {{type, message, detail}}"):
        return
    checks.check(fault["type"].startswith("Client."), f"{what}: a Client.* fault ({fault['type']})")
    checks.check(bool(fault["message"]), f"{what}: the fault says why")
    checks.check(bool(fault["detail"]), f"{what}: the fault names the request in detail")
    checks.check(headers.get("X-Road-Error") == fault["type"], f"{what}: X-Road-Error names the fault")


def main():
    args = settings()
    gw = Gateway(args)
    checks = Checks()
    provider = encode_id(args.provider)
    dataset = f"{args.provider}/{args.dataset_service}"
    proxied = f"{args.provider}/{args.proxied_service}"

    # listClients: members and subsystems, as JSON.
    status, headers, body = gw.get("/listClients", gw.headers(purpose=False))
    members = as_json(body)
    checks.check(status == 200, f"listClients: status 200 (got {status})")
    entries = members.get("member") if isinstance(members, dict) else None
    if checks.check(isinstance(entries, list), "listClients: a member list"):
        subsystems = {
            "/".join(e["id"].get(k, "") for k in ("xroad_instance", "member_class", "member_code", "subsystem_code"))
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("id"), dict) and e["id"].get("object_type") == "SUBSYSTEM"
        }
        checks.check(args.provider in subsystems, f"listClients: names the provider {args.provider}")
        checks.check(args.client in subsystems, f"listClients: names this client {args.client}")

    # listMethods and allowedMethods.
    codes = [args.dataset_service, args.proxied_service]
    for meta in ("listMethods", "allowedMethods"):
        status, headers, body = gw.get(f"/r1/{provider}/{meta}", gw.headers(purpose=False))
        checks.check(status == 200, f"{meta}: status 200 (got {status})")
        check_service_list(checks, meta, as_json(body), args.provider, codes)

    # getOpenAPI for the dataset service.
    query = urllib.parse.urlencode({"serviceCode": args.dataset_service})
    status, headers, body = gw.get(f"/r1/{provider}/getOpenAPI?{query}", gw.headers(purpose=False))
    doc = as_json(body)
    checks.check(status == 200, f"getOpenAPI: status 200 (got {status})")
    checks.check(isinstance(doc, dict) and "openapi" in doc and isinstance(doc.get("paths"), dict),
                 "getOpenAPI: an OpenAPI document with paths")

    # The dataset service: a page of rows, then one row by its key.
    service_path = f"/r1/{provider}/{urllib.parse.quote(args.dataset_service, safe='')}"
    message_id = str(uuid.uuid4())
    status, headers, body = gw.get(f"{service_path}/rows?limit=2", gw.headers(message_id))
    page = as_json(body)
    checks.check(status == 200, f"dataset /rows: status 200 (got {status})")
    check_xroad_headers(checks, "dataset /rows", headers, args.client, dataset, message_id)
    items = page.get("items") if isinstance(page, dict) else None
    checks.check(isinstance(items, list) and 0 < len(items) <= 2, "dataset /rows: one or two rows")
    message_id = str(uuid.uuid4())
    key = urllib.parse.quote(args.row_key, safe="")
    status, headers, body = gw.get(f"{service_path}/rows/{key}", gw.headers(message_id))
    checks.check(status == 200, f"dataset /rows/{{key}}: status 200 (got {status})")
    check_xroad_headers(checks, "dataset /rows/{key}", headers, args.client, dataset, message_id)
    checks.check(isinstance(as_json(body), dict), "dataset /rows/{key}: one row as a JSON object")

    # The proxied service.
    message_id = str(uuid.uuid4())
    path = f"/r1/{provider}/{urllib.parse.quote(args.proxied_service, safe='')}{args.proxied_path}"
    status, headers, body = gw.get(path, gw.headers(message_id))
    checks.check(status == 200, f"proxied {args.proxied_path}: status 200 (got {status})")
    check_xroad_headers(checks, f"proxied {args.proxied_path}", headers, args.client, proxied, message_id)
    checks.check(as_json(body) is not None, f"proxied {args.proxied_path}: the backend's JSON")

    # Errors: no purpose (400) and a wrong token (401), as X-Road faults.
    status, headers, body = gw.get(f"{service_path}/rows?limit=2", gw.headers(purpose=False))
    check_fault(checks, "no X-Road-Purpose", status, headers, body, 400)
    status, headers, body = gw.get(f"{service_path}/rows?limit=2", gw.headers(token="not-a-token"))
    check_fault(checks, "a wrong token", status, headers, body, 401)

    print()
    if checks.failed:
        print(f"{len(checks.failed)} of {checks.passed + len(checks.failed)} checks failed:")
        for what in checks.failed:
            print(f"  - {what}")
        return 1
    print(f"all checks passed: {checks.passed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
