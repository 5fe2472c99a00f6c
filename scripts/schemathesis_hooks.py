"""Schemathesis hooks (SCHEMATHESIS_HOOKS, loaded by scripts/schemathesis.sh): who each request is.

One token for a whole surface stops the fuzzer at the door of the routes that check who the
caller is, so each request gets a caller for whom it can succeed:

- customer create: a fresh anonymous uid, so every create makes a customer (201) whose uid is
  remembered;
- customer link: a phone sign-in whose uid is the body's `firebase_uid`; when the body names a
  customer made here (a followed link), the body and token become that customer's own uid;
- client verify and account delete: a customer made here, when there is one;
- mitra verify: the mitra the script registered (ST_MITRA_PHONE), under one uid;
- anything else: the surface's caller (ST_CALLER, the arguments of `halo-dev token`), minted
  and signed in again after a 401 (or an unbound uid's 403) to it: the fuzzer may revoke its
  sessions (the super admin's own revoke-sessions is a request it is allowed to make), which
  refuses its earlier tokens and clears its uid's binding for the rest of the run.

Tokens come from `halo-dev tokens` (ST_HALO_DEV), signed by the dev key the server trusts.
"""

import itertools
import json
import os
import random
import re
import subprocess
import time
import urllib.error
import urllib.request

import schemathesis
from schemathesis.generation.meta import TestPhase

CREATE = "POST /api/shared/customer/anonymous"
LINK = "POST /api/shared/customer/link"
MITRA_VERIFY = "POST /api/mitra/auth/verify"
OWN_ACCOUNT = {"POST /api/client/auth/verify", "DELETE /api/client/account"}
MITRA_CREATE = "POST /internal/mitras"
STAFF_CREATE = "POST /internal/control-center-users"
PHONE = re.compile(r"^(\+62|62|0)8[0-9]{7,11}$")
EMAIL = re.compile(r"^( *)[^@]+(@.*)$")

RUN = os.environ.get("ST_RUN", str(os.getpid()))
# Seeded like the fuzzer (ST_SEED), so a run's callers repeat with its cases.
PICK = random.Random(os.environ.get("ST_SEED", "1"))

minted = {}  # (kind, uid, phone) -> token
caller = None  # the surface's current token
uid_of = {}  # token -> uid
customers = {}  # customer id -> (uid, phone) it was created and linked with
phones = iter(range(10**7, 10**8))
serial = itertools.count(1)


# One minting process for the run: starting one per token would cost more than the requests.
minter = subprocess.Popen(
    [os.environ["ST_HALO_DEV"], "tokens"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
)


def mint(kind, uid, phone=None):
    key = (kind, uid, phone)
    if key not in minted:
        minter.stdin.write(f"{kind} --uid={uid}" + (f" --phone={phone}" if phone else "") + "\n")
        minter.stdin.flush()
        token = minter.stdout.readline().strip()
        if not token:
            raise RuntimeError(f"halo-dev tokens could not mint a {kind} token")
        minted[key] = token
        uid_of[token] = uid
    return minted[key]


def fresh_phone():
    return f"+62813{next(phones)}"


def is_uid(value):
    # Firebase uids are 1-128 characters; these ones also fit on a `halo-dev tokens` line.
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 128
        and value.isascii()
        and value.isprintable()
        and not any(c.isspace() for c in value)
    )


def token_for(case):
    label = case.operation.label
    if label == CREATE:
        return mint("anonymous", f"st-anon-{RUN}-{len(minted)}")
    if label == MITRA_VERIFY:
        return mint("mitra", os.environ["ST_MITRA_UID"], os.environ["ST_MITRA_PHONE"])
    if label in OWN_ACCOUNT and customers:
        uid, phone = PICK.choice(sorted(customers.values()))
        return mint("phone", uid, phone) if phone else mint("anonymous", uid)
    return surface_caller()


def surface_caller():
    global caller
    if caller is None:
        caller = sign_in()
    return caller


def sign_in():
    """A fresh token of the surface's caller. On the internal surface it also signs in
    (ST_SIGN_IN_URL, `POST /internal/auth/verify`): revoke-sessions clears the uid's binding,
    and only that route binds a uid again. A token minted within the revocation's second is
    still refused (401), so that one waits for the next second."""
    url = os.environ.get("ST_SIGN_IN_URL")
    for _ in range(3):
        minter.stdin.write(os.environ["ST_CALLER"] + "\n")
        minter.stdin.flush()
        token = minter.stdout.readline().strip()
        if not token:
            raise RuntimeError(f"halo-dev tokens could not mint {os.environ['ST_CALLER']}")
        if not url:
            return token
        request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                return token
        except urllib.error.HTTPError as refused:
            if refused.code != 401:
                raise RuntimeError(f"the surface's caller could not sign in again: {refused.code}") from refused
        time.sleep(1)
    raise RuntimeError("the surface's caller could not sign in again: 401 three times")


@schemathesis.auth(refresh_interval=None, retry_on=[])
class Callers:
    def get(self, case, context):
        return token_for(case)

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


def stateful(case):
    meta = case._meta
    return meta is not None and meta.phase.name == TestPhase.STATEFUL


def make_unique(case):
    """A stateful create whose phone or email is valid gets one nobody has, so it makes what its
    links then follow (an earlier phase took the simple ones, and a 409 follows no link). The
    phone keeps its form (+62, 62 or 0), the email its domain and its spaces."""
    body = case.body
    if case.operation.label == MITRA_CREATE and isinstance(body.get("phone"), str):
        form = PHONE.match(body["phone"])
        if form:
            body["phone"] = f"{form[1]}8{RUN[-3:]:0>3}{next(serial):07d}"
    if case.operation.label == STAFF_CREATE and isinstance(body.get("email"), str):
        parts = EMAIL.match(body["email"])
        if parts:
            body["email"] = f"{parts[1]}st{RUN}.{next(serial)}{parts[2]}"


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, dict) and stateful(case):
        make_unique(case)
    sign_link(case)


def sign_link(case):
    """A link is signed in as the body's uid (the body is final only now); a link to a customer
    made here is made by that customer's own uid, as the app would."""
    if case.operation.label != LINK or not isinstance(case.body, dict):
        return
    bearer = (case.headers or {}).get("Authorization", "")
    uid, customer = case.body.get("firebase_uid"), case.body.get("customer_id")
    if not is_uid(uid) or not bearer.startswith("Bearer "):
        return
    made = customers.get(customer) if isinstance(customer, str) else None
    if made:
        uid, phone = made[0], made[1] or fresh_phone()
        customers[customer] = (uid, phone)
    else:
        phone = fresh_phone()
    case.body["firebase_uid"] = uid
    case.headers["Authorization"] = f"Bearer {mint('phone', uid, phone)}"


@schemathesis.hook
def after_call(context, case, response):
    global caller
    # Signed out (401) or unbound (403 "not a control-center user") by the fuzzer's own
    # revoke-sessions: the next request signs in again.
    signed_out = response.status_code == 401 or (
        response.status_code == 403 and b"not a control-center user" in response.content
    )
    if signed_out and (case.headers or {}).get("Authorization") == f"Bearer {caller}":
        caller = None
    if case.operation.label != CREATE or response.status_code != 201:
        return
    token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
    customer = json.loads(response.content)["data"]["id"]
    if token in uid_of:
        customers[customer] = (uid_of[token], None)
