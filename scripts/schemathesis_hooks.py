"""Schemathesis hooks (SCHEMATHESIS_HOOKS, loaded by scripts/schemathesis.sh): who each request is.

One token for a whole surface stops the fuzzer at the door of the routes that check who the
caller is, so each request gets a caller for whom it can succeed:

- customer create: a fresh anonymous uid, so every create makes a customer (201) whose uid is
  remembered;
- customer link: a phone sign-in whose uid is the body's `firebase_uid`; when the body names a
  customer made here (a followed link), the body and token become that customer's own uid;
- client verify and account delete: a customer made here, when there is one;
- mitra verify: the mitra the script registered (ST_MITRA_PHONE), under one uid;
- anything else: the surface's token (ST_TOKEN).

Tokens come from `halo-dev tokens` (ST_HALO_DEV), signed by the dev key the server trusts.
"""

import json
import os
import random
import subprocess

import schemathesis

CREATE = "POST /api/shared/customer/anonymous"
LINK = "POST /api/shared/customer/link"
MITRA_VERIFY = "POST /api/mitra/auth/verify"
OWN_ACCOUNT = {"POST /api/client/auth/verify", "DELETE /api/client/account"}

RUN = os.environ.get("ST_RUN", str(os.getpid()))
# Seeded like the fuzzer (ST_SEED), so a run's callers repeat with its cases.
PICK = random.Random(os.environ.get("ST_SEED", "1"))

minted = {}  # (kind, uid, phone) -> token
uid_of = {}  # token -> uid
customers = {}  # customer id -> (uid, phone) it was created and linked with
phones = iter(range(10**7, 10**8))


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
    return os.environ["ST_TOKEN"]


@schemathesis.auth(refresh_interval=None, retry_on=[])
class Callers:
    def get(self, case, context):
        return token_for(case)

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.hook
def before_call(context, case, kwargs):
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
    if case.operation.label != CREATE or response.status_code != 201:
        return
    token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
    customer = json.loads(response.content)["data"]["id"]
    if token in uid_of:
        customers[customer] = (uid_of[token], None)
