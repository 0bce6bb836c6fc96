"""Credentials and test data for the Schemathesis run against the platform (scripts/conformance.sh).

Authentication: each operation gets the credentials its `security` in
docs/openapi.yaml asks for: the demo channel adapter's secret for
`adapterBearer`, the platform's metrics token (DATA_DIR/metrics-token) for
`metricsBearer`, the access token of the agent this run signs in as
(CONFORMANCE_AGENT) for `agentBearer`, the `hd_chat` cookie of a web chat
customer this run opens (POST /chat/api/session, at start) for
`customerCookie`, nothing for `security: []`. An operation that takes either
of two (POST /v1/attachments; POST /chat/api/session, which takes no cookie
or a cookie) gets them in turn. Sign-out
revokes the token it is called with, so every DELETE /v1/sessions case signs
in afresh and ends that new sign-in (with its access token, or every other
time its refresh token: sign-out takes either), never the one the other
operations use.

Photos (images.py): a raw image body is something a schema cannot describe,
so POST /v1/attachments gets bodies from a strategy of our own under every
media type the file lists: mostly real JPEG, PNG and WebP files of random
sizes and content (stored, 201, or 200 when drawn again), and some a platform
must refuse (not an image, truncated, a 30000×30000 header). Image answers
are read as Latin-1 text, one character per byte, so the schema's
`maxLength` (30 KB for a thumbnail) is checked on the real size.

Ingress: a generated photo id names no stored photo (404), so some
ingress cases name photos the demo adapter uploaded before the run instead.

Web chat: the customer this run opens uploads photos and sends them in a
message before the run, so GET /chat/api/attachments/{id} (and its
thumbnail) can name photos of the customer's own conversation (200, 304)
besides generated ids (404); GET /chat/{queue} and POST /chat/api/messages
name a queue of the demo data in some cases (a generated one is 404), and
messages carry those stored photos in some cases, like ingress.
conformance.sh raises the web chat's rate limits so the run is never 429.

Egress reports: a generated message id names no reply, so each run first
makes a few real replies to a conversation of the demo adapter (which
conformance.sh gave a webhook, so the replies are the adapter's) and gives
the report operations one of their ids in some cases: 200, and 409 for
`failed` after `delivered`, are checked as well as 404. GET
/v1/conversations/{id} reads that conversation in some cases, for the same
reason (the stateful phase also reads those ingress opened).

Updates: conformance.sh publishes release 1.0.0 of a small .deb for
linux-x86_64-deb. A generated check rarely names that target (one operating
system, processor and bundle type in a hundred), so some valid cases ask for
it from an older version (200 with the manifest) or the same one (204), and
some package downloads name the published package (200, 206 with a Range)
instead of a generated id (404). Packages are read as Latin-1 text, like
images.
"""

import os
import re
import sys

import requests
import schemathesis
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
import images  # noqa: E402  (next to this file)

URL = os.environ["CONFORMANCE_URL"]
CA = os.environ["CONFORMANCE_CA"]
AGENT_TOKEN = os.environ["CONFORMANCE_AGENT_TOKEN"]
AGENT = os.environ["CONFORMANCE_AGENT"]
INGRESS_TOKEN = os.environ["CONFORMANCE_INGRESS_TOKEN"]
METRICS_TOKEN = os.environ["CONFORMANCE_METRICS_TOKEN"]
PASSWORD = os.environ["CONFORMANCE_PASSWORD"]

SESSION = requests.Session()


def call(method: str, path: str, token: str, **kwargs) -> requests.Response:
    # Per request: REQUESTS_CA_BUNDLE in the environment would override a session's `verify`.
    return SESSION.request(
        method,
        f"{URL}{path}",
        headers={"Authorization": f"Bearer {token}"} if token else {},
        timeout=30,
        verify=CA,
        **kwargs,
    )


def fresh_sign_in_token() -> str:
    """A new sign-in's access token, or every other time its refresh token
    (sign-out takes either)."""
    TURNS["sign_out"] += 1
    answer = call(
        "POST",
        "/v1/sessions",
        "",
        json={"agent": AGENT, "password": PASSWORD, "device_id": "conformance-sign-out"},
    )
    answer.raise_for_status()
    return answer.json()["refresh_token" if TURNS["sign_out"] % 2 else "access_token"]


def _requirements(case) -> list:
    raw = case.operation.definition.raw
    return raw.get("security", case.operation.schema.raw_schema.get("security", []))


def schemes(case) -> list:
    """The security scheme names the operation's definition asks for."""
    raw = case.operation.definition.raw
    security = raw.get("security", case.operation.schema.raw_schema.get("security", []))
    return [name for requirement in security for name in requirement]


TURNS = {"n": 0, "chat": 0, "sign_out": 0}


def open_chat_session() -> str:
    """A web chat customer for this run: its `hd_chat` cookie's value."""
    answer = SESSION.post(f"{URL}/chat/api/session", json={"name": "测试顾客"}, timeout=30, verify=CA)
    answer.raise_for_status()
    token = answer.cookies.get("hd_chat")
    if not token:
        raise RuntimeError(f"conformance hooks: POST /chat/api/session gave no cookie: {answer.headers}")
    # The session must not send it by itself: each case says what it carries.
    SESSION.cookies.clear()
    return token


CHAT_TOKEN = open_chat_session()


# refresh_interval=None: asked for every case (sign-out needs a new token each
# time); retry_on=[]: a 401 is an answer to check, never a cue to sign in again.
@schemathesis.auth(refresh_interval=None, retry_on=[])
class PlatformAuth:
    def get(self, case, context):
        wanted = schemes(case)
        if "customerCookie" in wanted:
            if [] in _requirements(case) or {} in _requirements(case):
                # POST /chat/api/session: a new customer, or a rename.
                TURNS["chat"] += 1
                return ("cookie", CHAT_TOKEN) if TURNS["chat"] % 2 else None
            return ("cookie", CHAT_TOKEN)
        if "adapterBearer" in wanted and "agentBearer" in wanted:
            TURNS["n"] += 1
            return INGRESS_TOKEN if TURNS["n"] % 2 else AGENT_TOKEN
        if "metricsBearer" in wanted:
            return METRICS_TOKEN
        if "adapterBearer" in wanted:
            return INGRESS_TOKEN
        if "agentBearer" in wanted:
            if case.operation.method.upper() == "DELETE" and case.operation.path == "/v1/sessions":
                return fresh_sign_in_token()
            return AGENT_TOKEN
        return None

    def set(self, case, data, context):
        if data is None:
            return
        if isinstance(data, tuple):
            case.cookies = {**(case.cookies or {}), "hd_chat": data[1]}
            return
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# ---------- photos ----------

for media_type in ("image/jpeg", "image/png", "image/webp", "application/octet-stream"):
    # Any format under any declared type: the bytes decide, not Content-Type.
    schemathesis.openapi.media_type(media_type, images.upload_bodies())


@schemathesis.deserializer("image/jpeg", "image/png", "image/webp")
def image_bytes_as_text(ctx, response):
    return response.content.decode("latin-1")


def upload_photos() -> list:
    """Photos the demo adapter uploads before this run, as an adapter does before ingress."""
    ids = []
    for body in (images.png(40, 30, 3, 1), images.jpeg(64, 48, 3, 2), images.webp(20, 20, (255, 200, 30, 30))):
        answer = call("POST", "/v1/attachments", INGRESS_TOKEN, data=body)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    return ids


PHOTOS = upload_photos()


def _well_formed_photo_ids(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= 4
        and all(isinstance(item, str) and len(item) == 64 and all(c in "0123456789abcdef" for c in item) for item in value)
    )


@schemathesis.hook("flatmap_body").apply_to(operation_id="postIngress")
def stored_photos_sometimes(context, body):
    """A generated photo id names nothing (404); some cases name photos this run uploaded.

    Only a list that is valid already is replaced, by as many stored ids, so a
    case stays exactly as valid or invalid as it was generated.
    """
    if not isinstance(body, dict) or not _well_formed_photo_ids(body.get("attachments")) or not body["attachments"]:
        return st.just(body)
    count = len(body["attachments"])
    stored = st.lists(st.sampled_from(PHOTOS), min_size=count, max_size=count)
    return st.one_of(st.just(body), stored.map(lambda ids: {**body, "attachments": ids}))


# ---------- egress reports ----------


def make_replies(count: int) -> tuple:
    """A conversation of the demo adapter that this run's agent claimed, and its replies' ids."""
    customer = f"conformance-egress-{AGENT}"
    conversation = None
    for n in range(count):
        answer = call(
            "POST",
            "/v1/ingress/ticket",
            INGRESS_TOKEN,
            json={
                "external_id": f"{customer}-{n}",
                "customer": {"id": customer, "name": "测试顾客", "phone": "13800000000"},
                "queue": "aftersales",
                "subject": "快递到哪了？",
                "body": f"第 {n + 1} 次问：快递到哪了？",
            },
        )
        answer.raise_for_status()
        conversation = answer.json()["conversation_id"]
    actions = [
        {
            "key": f"conformance-{AGENT}-claim",
            "created_at": 1,
            "action": {"type": "claim", "conversation_id": conversation},
        }
    ]
    ids = [f"conformance-{AGENT}-reply-{n}" for n in range(count)]
    for n, message_id in enumerate(ids):
        actions.append(
            {
                "key": f"conformance-{AGENT}-reply-{n}",
                "created_at": 2 + n,
                "action": {
                    "type": "reply",
                    "conversation_id": conversation,
                    "message_id": message_id,
                    "body": "亲，已经在路上了，明天到。",
                },
            }
        )
    answer = call("POST", "/v1/actions", AGENT_TOKEN, json={"actions": actions})
    answer.raise_for_status()
    statuses = [result["status"] for result in answer.json()["results"]]
    if statuses != ["applied"] * len(actions):
        raise RuntimeError(f"conformance hooks: the replies for egress reports were not applied: {answer.text}")
    return conversation, ids


CONVERSATION, REPLIES = make_replies(4)


# In each "sometimes" hook below the real value comes first: Hypothesis
# starts from (and shrinks toward) the first branch of `one_of`, so even a
# phase that gets only a few examples on a busy machine sees a real resource
# (else Schemathesis warns `missing_test_data` and the run fails).
def _a_real_reply_sometimes(path_parameters, replies):
    real = st.sampled_from(replies).map(lambda message_id: {**path_parameters, "message_id": message_id})
    return st.one_of(real, st.just(path_parameters))


# Half of the replies are never reported delivered, so a `failed` report on
# them is 200; on the other half it is 409 once `delivered` came first.
@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="reportDelivered")
def a_real_reply_sometimes_delivered(context, path_parameters):
    return _a_real_reply_sometimes(path_parameters, REPLIES[: len(REPLIES) // 2])


# The replies never reported delivered come first here: Hypothesis leans on
# the first of `sampled_from` too, and a run whose real cases were all
# delivered replies saw only 409s and 404s, no success, and failed on
# "missing test data".
@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="reportFailed")
def a_real_reply_sometimes_failed(context, path_parameters):
    half = len(REPLIES) // 2
    return _a_real_reply_sometimes(path_parameters, REPLIES[half:] + REPLIES[:half])


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="getConversation")
def a_real_conversation_sometimes(context, path_parameters):
    """A generated id names no conversation (404); some cases read the one this run's agent holds."""
    return st.one_of(st.just({**path_parameters, "id": CONVERSATION}), st.just(path_parameters))


# ---------- web chat ----------

QUEUES = ["aftersales", "presales"]


def chat_photos() -> list:
    """Photos the run's customer uploads and sends in a message, so they are of its own conversation."""
    cookies = {"hd_chat": CHAT_TOKEN}
    ids = []
    for body in (images.png(36, 24, 3, 5), images.jpeg(48, 64, 3, 6)):
        answer = SESSION.post(f"{URL}/chat/api/attachments", data=body, cookies=cookies, timeout=30, verify=CA)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    answer = SESSION.post(
        f"{URL}/chat/api/messages",
        json={"queue": "aftersales", "client_id": f"conformance-{AGENT}-photos", "body": "桃子烂了，看照片", "attachments": ids},
        cookies=cookies,
        timeout=30,
        verify=CA,
    )
    answer.raise_for_status()
    SESSION.cookies.clear()
    return ids


CHAT_PHOTOS = chat_photos()


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="getChatPage")
def a_real_queue_sometimes(context, path_parameters):
    """A generated queue names nothing (the 404 page); some cases open a queue of the demo data."""
    return st.one_of(st.sampled_from(QUEUES).map(lambda q: {**path_parameters, "queue": q}), st.just(path_parameters))


def _own_photo_sometimes(path_parameters):
    return st.one_of(st.sampled_from(CHAT_PHOTOS).map(lambda i: {**path_parameters, "id": i}), st.just(path_parameters))


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="getChatPhoto")
def an_own_photo_sometimes(context, path_parameters):
    return _own_photo_sometimes(path_parameters)


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="getChatPhotoThumbnail")
def an_own_thumbnail_sometimes(context, path_parameters):
    return _own_photo_sometimes(path_parameters)


@schemathesis.hook("flatmap_body").apply_to(operation_id="postChatMessage")
def a_real_queue_and_photos_sometimes(context, body):
    """Some cases name a real queue (and stored photos): only values valid already are replaced, so a
    case stays exactly as valid or invalid as it was generated."""
    if not isinstance(body, dict):
        return st.just(body)
    queue = body.get("queue")
    if not (isinstance(queue, str) and 1 <= len(queue) <= 64 and queue.strip()):
        return st.just(body)
    real = st.sampled_from(QUEUES).map(lambda q: {**body, "queue": q})
    if _well_formed_photo_ids(body.get("attachments")) and body["attachments"]:
        count = len(body["attachments"])
        stored = st.lists(st.sampled_from(CHAT_PHOTOS + PHOTOS), min_size=count, max_size=count)
        real = real.flatmap(lambda b: st.one_of(st.just(b), stored.map(lambda ids: {**b, "attachments": ids})))
    return st.one_of(st.just(body), real)


# ---------- updates ----------

RELEASE_ID = os.environ["CONFORMANCE_RELEASE_ID"]
RELEASE_VERSION = os.environ["CONFORMANCE_RELEASE_VERSION"]
SEMVER = re.compile(
    r"^(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})"
    r"(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?"
    r"(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
OS = {"linux", "windows", "darwin"}
ARCHES = {"x86_64", "aarch64", "i686", "armv7", "riscv64"}


@schemathesis.deserializer("application/octet-stream")
def package_bytes_as_text(ctx, response):
    return response.content.decode("latin-1")


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="checkForUpdate")
def the_published_target_sometimes(context, path_parameters):
    """Only a case whose three values are valid already is steered, so it stays valid."""
    valid = (
        path_parameters.get("target") in OS
        and path_parameters.get("arch") in ARCHES
        and isinstance(path_parameters.get("current_version"), str)
        and SEMVER.match(path_parameters["current_version"])
    )
    if not valid:
        return st.just(path_parameters)
    older = st.sampled_from(["0.9.0", "1.0.0-rc.1", "0.0.1+build.7", RELEASE_VERSION])
    published = older.map(lambda v: {**path_parameters, "target": "linux", "arch": "x86_64", "current_version": v})
    # Three in four valid cases ask for the published target.
    return st.one_of(st.just(path_parameters), published, published, published)


@schemathesis.hook("flatmap_query").apply_to(operation_id="checkForUpdate")
def a_deb_sometimes(context, query):
    if query is not None and (not isinstance(query, dict) or set(query) - {"bundle_type"}):
        return st.just(query)
    deb = st.just({**(query or {}), "bundle_type": "deb"})
    return st.one_of(st.just(query), deb, deb, deb)


@schemathesis.hook("flatmap_path_parameters").apply_to(operation_id="getUpdatePackage")
def the_published_package_sometimes(context, path_parameters):
    return st.one_of(st.just({**path_parameters, "id": RELEASE_ID}), st.just(path_parameters))
