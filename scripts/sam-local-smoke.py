"""The same tour of every route against `sam local start-api` and against the local gateway.

    python3 scripts/sam-local-smoke.py HALO_DEV SAM_URL PUBLIC_URL INTERNAL_URL

Each side has its own tables, so the tour builds the same state on both: a customer, a mitra,
a control-center user, then reads, changes and deletes them, and a few refusals. For every
request it compares the status, the error code and the body's shape (keys and JSON types, not
values: ids and times differ), and that an x-request-id came back. Tokens are dev tokens
(`halo-dev token`), verified by both sides against the dev certificate server.
Prints one line per request and, last, `sam-local: N passed, M failed`.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

HALO_DEV, SAM, PUBLIC, INTERNAL = sys.argv[1:5]
PHONE = "+6281234567801"
MITRA_PHONE = "+6281299990077"


def token(*args):
    return subprocess.run([HALO_DEV, "token", *args], check=True, capture_output=True, text=True).stdout.strip()


ANON = token("anonymous", "--uid", "smoke-customer")
PHONE_TOKEN = token("phone", "--uid", "smoke-customer", "--phone", PHONE)
MITRA = token("mitra", "--uid", "smoke-mitra", "--phone", MITRA_PHONE)
ADMIN = token("admin")


def call(base, method, path, tok=None, body=None):
    headers = {"content-type": "application/json"} if body is not None else {}
    if tok:
        headers["authorization"] = f"Bearer {tok}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            status, raw, rid = r.status, r.read(), r.headers.get("x-request-id")
    except urllib.error.HTTPError as e:
        status, raw, rid = e.code, e.read(), e.headers.get("x-request-id")
    try:
        return status, json.loads(raw), rid
    except ValueError:
        return status, raw.decode(errors="replace")[:200], rid


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


# (what, method, path, token, body); {names} in path and body come from earlier answers.
TOUR = [
    ("anonymous customer, no token", "POST", "/api/shared/customer/anonymous", None, {"display_name": "Angin Malam"}),
    ("anonymous customer, bound", "POST", "/api/shared/customer/anonymous", ANON, {"display_name": "Angin Malam"}),
    ("link", "POST", "/api/shared/customer/link", PHONE_TOKEN, {"customer_id": "{customer}", "firebase_uid": "smoke-customer"}),
    ("client verify", "POST", "/api/client/auth/verify", PHONE_TOKEN, None),
    ("public anonymity", "GET", "/api/shared/config/anonymity", ANON, None),
    ("internal verify", "POST", "/internal/auth/verify", ADMIN, None),
    ("roles", "GET", "/internal/roles", ADMIN, None),
    ("create mitra", "POST", "/internal/mitras", ADMIN, {"phone": "081299990077", "display_name": "Dr. Budi"}),
    ("create mitra again", "POST", "/internal/mitras", ADMIN, {"phone": MITRA_PHONE, "display_name": "Dr. Budi"}),
    ("list mitras", "GET", "/internal/mitras?page=1&limit=20", ADMIN, None),
    ("get mitra", "GET", "/internal/mitras/{mitra}", ADMIN, None),
    ("activate mitra", "PATCH", "/internal/mitras/{mitra}/status", ADMIN, {"is_active": True}),
    ("mitra verify", "POST", "/api/mitra/auth/verify", MITRA, None),
    ("rename mitra", "PATCH", "/internal/mitras/{mitra}", ADMIN, {"display_name": "Dr. Budi S."}),
    ("revoke mitra sessions", "POST", "/internal/mitras/{mitra}/revoke-sessions", ADMIN, None),
    ("create user", "POST", "/internal/control-center-users", ADMIN,
     {"email": "operator.smoke@halobestie.com", "display_name": "Operator", "role_id": "{operator_role}"}),
    ("list users", "GET", "/internal/control-center-users", ADMIN, None),
    ("get user", "GET", "/internal/control-center-users/{user}", ADMIN, None),
    ("rename user", "PATCH", "/internal/control-center-users/{user}", ADMIN, {"display_name": "Operator 2"}),
    ("revoke user sessions", "POST", "/internal/control-center-users/{user}/revoke-sessions", ADMIN, None),
    ("delete user", "DELETE", "/internal/control-center-users/{user}", ADMIN, None),
    ("internal anonymity", "GET", "/internal/config/anonymity", ADMIN, None),
    ("set anonymity", "PATCH", "/internal/config/anonymity", ADMIN, {"anonymity_enabled": False}),
    ("audit log", "GET", "/internal/audit-log?limit=5", ADMIN, None),
    ("delete mitra", "DELETE", "/internal/mitras/{mitra}", ADMIN, None),
    ("delete account", "DELETE", "/api/client/account", PHONE_TOKEN, None),
    ("no token", "POST", "/internal/mitras", None, {"phone": "081299990078", "display_name": "X"}),
    ("bad body", "POST", "/internal/mitras", ADMIN, {"phone": "12", "display_name": ""}),
    ("unknown mitra", "GET", f"/internal/mitras/{uuid.uuid4()}", ADMIN, None),
    ("deleted customer", "POST", "/api/client/auth/verify", PHONE_TOKEN, None),
]


class Side:
    def __init__(self, public, internal):
        self.public, self.internal, self.known = public, internal, {}

    def fill(self, value):
        if isinstance(value, str):
            return value.format(**self.known)
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def step(self, method, path, tok, body):
        path = self.fill(path)
        base = self.internal if path.startswith("/internal") else self.public
        answer = call(base, method, path, tok, self.fill(body))
        self.remember(path, answer[1])
        return answer

    def remember(self, path, body):
        data = body.get("data") if isinstance(body, dict) else None
        if path == "/api/shared/customer/anonymous" and isinstance(data, dict):
            self.known["customer"] = data["id"]
        elif path == "/internal/mitras" and isinstance(data, dict) and "id" in data:
            self.known["mitra"] = data["id"]
        elif path == "/internal/control-center-users" and isinstance(data, dict) and "id" in data:
            self.known["user"] = data["id"]
        elif path == "/internal/roles" and isinstance(data, list):
            self.known["operator_role"] = next(r["id"] for r in data if r["name"] == "operator")


def main():
    gateway, sam = Side(PUBLIC, INTERNAL), Side(SAM, SAM)
    passed = failed = 0
    for what, method, path, tok, body in TOUR:
        try:
            want, got = gateway.step(method, path, tok, body), sam.step(method, path, tok, body)
        except (KeyError, OSError) as e:  # an earlier step left nothing to fill in, or no answer
            print(f"FAIL {what}: {method} {path}: {e!r}")
            failed += 1
            continue
        same = (want[0], code(want[1]), shape(want[1])) == (got[0], code(got[1]), shape(got[1]))
        same = same and bool(got[2])
        label = f"{method} {gateway.fill(path) if '{' not in path else path}"
        if same:
            passed += 1
            print(f"ok   {what}: {label} -> {got[0]} {code(got[1]) or ''}".rstrip())
        else:
            failed += 1
            print(f"FAIL {what}: {label}: gateway {want[0]} {code(want[1])} {json.dumps(want[1])[:300]}")
            print(f"     sam local {got[0]} {code(got[1])} x-request-id {got[2]} {json.dumps(got[1])[:300]}")
    print(f"sam-local: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
