"""Tier 2: the gateway's OpenAPI document, fuzzed with schemathesis (positive and negative cases
from the document itself, on the embedded default). No answer may be a 5xx, and every answer
must be one the document lists, in the shape it lists."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from services.gateway.app import create_app
from services.stages import declare_actors
from shared.bootstrap import bootstrap

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "fuzz-secret"
EXAMPLES = 100
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEEN: Counter = Counter()


# The document needs no database, so the schema is loaded once from a gateway whose claimflow App
# is bound per test below. (schemathesis.pytest.from_fixture would be the natural way, but its lazy
# loader reads ``node._nodeid``, which pytest 9 no longer has.)
GATEWAY = create_app(None)  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/openapi.json", GATEWAY)


@pytest.fixture(autouse=True)
def claimflow_app(embedded_settings):
    app = bootstrap(embedded_settings.model_copy(update={
        "webhook_secrets": {m: SECRET for m in ("ozon", "wildberries", "yandex_market", "amazon")},
        "max_event_bytes": 4096}), configure_logs=False)
    declare_actors(app)
    GATEWAY.state.claimflow = app
    yield app
    GATEWAY.state.claimflow = None
    app.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_no_answer_is_a_server_error_or_undocumented(case):
    response = case.call()
    SEEN[(case.method, case.path, response.status_code)] += 1
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=CHECKS)


def test_signed_webhooks_with_generated_bodies_never_fail():
    """The generated webhooks above are almost all unsigned (401); here each generated body is signed."""
    strategy = schema["/v1/webhooks/{marketplace}"]["POST"].as_strategy()
    statuses: Counter = Counter()

    with TestClient(GATEWAY) as client:
        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def signed_call(case):
            raw = json.dumps(case.body, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
            signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            marketplace = case.path_parameters["marketplace"]
            response = client.post(f"/v1/webhooks/{marketplace}", content=raw,
                                   headers={"X-Claimflow-Signature": signature, "Content-Type": "application/json"})
            statuses[response.status_code] += 1
            assert response.status_code < 500, response.text
            assert response.headers["content-type"].startswith("application/json")

        signed_call()
    SEEN.update({("POST", "/v1/webhooks/{marketplace} (signed)", s): n for s, n in statuses.items()})
    assert statuses[202] > 0


def test_zz_report_statuses_seen():
    """Not a check: prints what the fuzzing above saw (run with -s to read it)."""
    documented = {(m.upper(), p) for p, ops in GATEWAY.openapi()["paths"].items() for m in ops}
    lines, other = {}, Counter()
    for (method, path, status), n in sorted(SEEN.items()):
        if (method.upper(), path.removesuffix(" (signed)")) in documented:
            lines.setdefault(f"{method} {path}", Counter())[status] += n
        else:
            other[status] += n
    print("\nfuzzing: calls by status")
    for operation, statuses in lines.items():
        print(f"  {operation:45} {sum(statuses.values()):4}  {dict(sorted(statuses.items()))}")
    print(f"  {'undocumented methods':45} {sum(other.values()):4}  {dict(sorted(other.items()))}")
    assert all(status < 500 for (_, _, status) in SEEN)
