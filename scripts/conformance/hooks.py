"""Authentication for the Schemathesis run against the platform (scripts/conformance.sh).

Each operation gets the credentials its `security` in docs/openapi.yaml asks for:
the demo channel adapter's secret for `adapterBearer`, the access token of the agent this run
signs in as (CONFORMANCE_AGENT) for `agentBearer`, nothing for `security: []`.
Sign-out revokes the token it is called with, so every DELETE /v1/sessions
case signs in afresh and ends that new sign-in, never the one the other
operations use.
"""

import os

import requests
import schemathesis

URL = os.environ["CONFORMANCE_URL"]
CA = os.environ["CONFORMANCE_CA"]
AGENT_TOKEN = os.environ["CONFORMANCE_AGENT_TOKEN"]
AGENT = os.environ["CONFORMANCE_AGENT"]
INGRESS_TOKEN = os.environ["CONFORMANCE_INGRESS_TOKEN"]
PASSWORD = os.environ["CONFORMANCE_PASSWORD"]

SESSION = requests.Session()


def fresh_access_token() -> str:
    answer = SESSION.post(
        f"{URL}/v1/sessions",
        json={"agent": AGENT, "password": PASSWORD, "device_id": "conformance-sign-out"},
        timeout=30,
        # Per request: REQUESTS_CA_BUNDLE in the environment would override a session's `verify`.
        verify=CA,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def schemes(case) -> list:
    """The security scheme names the operation's definition asks for."""
    raw = case.operation.definition.raw
    security = raw.get("security", case.operation.schema.raw_schema.get("security", []))
    return [name for requirement in security for name in requirement]


# refresh_interval=None: asked for every case (sign-out needs a new token each
# time); retry_on=[]: a 401 is an answer to check, never a cue to sign in again.
@schemathesis.auth(refresh_interval=None, retry_on=[])
class PlatformAuth:
    def get(self, case, context):
        wanted = schemes(case)
        if "adapterBearer" in wanted:
            return INGRESS_TOKEN
        if "agentBearer" in wanted:
            if case.operation.method.upper() == "DELETE" and case.operation.path == "/v1/sessions":
                return fresh_access_token()
            return AGENT_TOKEN
        return None

    def set(self, case, data, context):
        if data is None:
            return
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
