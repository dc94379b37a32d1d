"""Tier 2: the HTTP gateway on the embedded default (SQLite file, stub broker) through FastAPI's
TestClient: acceptance and its answers, quarantine of refused envelopes, the form and webhooks,
the customer's claim lookup, and the operations endpoints."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.export import export_claims
from services.gateway.app import create_app
from services.stages import declare_actors, intake_step, routing_step
from shared.bootstrap import bootstrap
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import InboxEvent, QuarantinedEvent

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "s3cret-for-tests"
FORM = {"name": "Ирина Смирнова", "email": "Irina.Smirnova@Example.ru", "phone": "8 (912) 345-67-89",
        "order_number": "ORD-4815162", "purchase_date": "2026-10-03", "sku": "KET-2201",
        "subject": "Чайник протекает", "description": "Чайник протекает снизу после недели использования.",
        "desired_resolution": "replacement", "attachments": [], "locale": "ru"}
OZON_RETURN = {"id": 1234567, "posting_number": "54828976-9225-1", "return_reason_name": "Брак",
               "product": {"sku": 987654, "name": "Чайник"}}


def envelope(**fields) -> dict:
    doc = {"event_id": "ev-1", "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00+03:00",
           "payload": dict(FORM)}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not ...}


def signed(body: bytes, secret: str = SECRET) -> dict:
    return {"X-Claimflow-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def make_app(settings):
    app = bootstrap(settings, configure_logs=False)
    declare_actors(app)
    return app


@pytest.fixture
def settings(embedded_settings):
    return embedded_settings.model_copy(update={"webhook_secrets": {"ozon": SECRET, "wildberries": SECRET}})


@pytest.fixture
def app(settings):
    app = make_app(settings)
    yield app
    app.close()


@pytest.fixture
def client(app):
    with TestClient(create_app(app)) as client:
        yield client


def inbox(app) -> list[InboxEvent]:
    with app.sessions() as s:
        return s.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()


def quarantine(app) -> list[QuarantinedEvent]:
    with app.sessions() as s:
        return s.scalars(select(QuarantinedEvent).order_by(QuarantinedEvent.id)).all()


def nudges(app) -> int:
    return app.broker.queues[app.actors["intake"].queue_name].qsize()


def run_stages(app) -> None:
    while intake_step(app) + routing_step(app):
        pass


def assert_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and isinstance(body["message"], str) and body["message"]
    return body


# --- POST /v1/events --------------------------------------------------------------------------

def test_a_new_event_is_accepted_and_a_redelivery_is_a_duplicate(client, app):
    first = client.post("/v1/events", json=envelope())
    assert (first.status_code, first.json()) == (202, {"event_id": "ev-1", "status": "accepted"})
    assert nudges(app) == 1

    again = client.post("/v1/events", json=envelope())
    assert (again.status_code, again.json()) == (202, {"event_id": "ev-1", "status": "duplicate"})
    assert nudges(app) == 1                                  # nothing new: no nudge
    [row] = inbox(app)
    assert (row.source, row.event_id, row.channel, row.status) == ("site", "ev-1", "web", "pending")
    assert json.loads(row.body) == envelope()                # kept exactly as sent


def test_the_same_event_id_from_another_source_is_a_new_event(client, app):
    client.post("/v1/events", json=envelope())
    other = client.post("/v1/events", json=envelope(source="callcenter", channel="phone",
                                                    payload={"call_id": "c-1", "transcript": "течёт"}))
    assert other.json() == {"event_id": "ev-1", "status": "accepted"}
    assert len(inbox(app)) == 2


@pytest.mark.parametrize("fields, reason", [
    ({"payload": ...}, "missing_field"),
    ({"event_id": ...}, "missing_field"),
    ({"channel": "telegram"}, "unknown_channel"),
    ({"received_at": "вчера в 14:20"}, "bad_timestamp"),
    ({"received_at": "2026-11-02T10:00:00"}, "bad_timestamp"),          # no offset
    ({"payload": ["not", "an", "object"]}, "bad_payload"),
])
def test_a_refused_envelope_is_422_with_its_reason_and_kept_in_quarantine(client, app, fields, reason):
    doc = envelope(**fields)
    body = assert_error(client.post("/v1/events", json=doc), 422, reason)
    assert body["event_id"] == doc.get("event_id")
    [kept] = quarantine(app)
    assert (kept.reason, kept.event_id, kept.message) == (reason, doc.get("event_id"), body["message"])
    assert json.loads(kept.body) == doc
    assert inbox(app) == [] and nudges(app) == 0


@pytest.mark.parametrize("raw", [b'{"event_id": "ev-1", "channel": "web"', b"\xff\xfe not utf-8", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_400_not_json_and_kept_in_quarantine(client, app, raw):
    response = client.post("/v1/events", content=raw, headers={"Content-Type": "application/json"})
    body = assert_error(response, 400, "not_json")
    assert body["event_id"] is None
    [kept] = quarantine(app)
    assert kept.reason == "not_json" and inbox(app) == []


def test_an_empty_body_is_400_and_stores_nothing(client, app):
    assert_error(client.post("/v1/events", content=b""), 400, "not_json")
    assert quarantine(app) == [] and inbox(app) == []


@pytest.fixture
def small_client(settings):
    app = make_app(settings.model_copy(update={"max_event_bytes": 600}))
    with TestClient(create_app(app)) as client:
        yield client, app
    app.close()


def test_an_oversize_body_is_413_by_content_length_and_by_the_bytes_read(small_client):
    client, app = small_client
    big = json.dumps(envelope(payload={**FORM, "description": "x" * 2000})).encode()
    assert_error(client.post("/v1/events", content=big, headers={"Content-Type": "application/json"}),
                 413, "oversize")

    def chunks():                                            # chunked: no Content-Length to go by
        for i in range(0, len(big), 100):
            yield big[i:i + 100]
    assert_error(client.post("/v1/events", content=chunks()), 413, "oversize")
    assert_error(client.post("/v1/forms/claim", json={**FORM, "description": "x" * 2000}), 413, "oversize")
    assert inbox(app) == [] and quarantine(app) == []
    small = client.post("/v1/events", json=envelope(payload={"email": "a@example.ru", "description": "течёт"}))
    assert small.status_code == 202


def test_a_lost_nudge_does_not_lose_the_event(client, app, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")
    monkeypatch.setattr(app.actors["intake"], "send", broker_down)
    response = client.post("/v1/events", json=envelope())
    assert response.json()["status"] == "accepted"
    assert [r.status for r in inbox(app)] == ["pending"]      # the re-driver will nudge it


# --- POST /v1/forms/claim ----------------------------------------------------------------------

def test_a_form_with_an_idempotency_key_is_accepted_once(client, app):
    headers = {"Idempotency-Key": "form-submit-42"}
    first = client.post("/v1/forms/claim", json=FORM, headers=headers)
    assert (first.status_code, first.json()) == (202, {"event_id": "form-submit-42", "status": "accepted"})
    again = client.post("/v1/forms/claim", json=FORM, headers=headers)
    assert (again.status_code, again.json()) == (202, {"event_id": "form-submit-42", "status": "duplicate"})
    [row] = inbox(app)
    stored = json.loads(row.body)
    assert (stored["channel"], stored["source"], stored["event_id"]) == ("web", "site", "form-submit-42")
    assert stored["payload"] == FORM
    assert stored["received_at"].endswith("+00:00")           # app.clock.now(), with an offset


def test_a_form_without_a_key_gets_a_new_id_each_time_and_becomes_a_claim(client, app):
    ids = [client.post("/v1/forms/claim", json=FORM).json()["event_id"] for _ in range(2)]
    assert all(i.startswith("form-") and len(i) == 37 for i in ids) and ids[0] != ids[1]
    run_stages(app)
    claims = list(export_claims(app))
    assert sorted(e for c in claims for e in c["source_event_ids"]) == sorted(ids)


@pytest.mark.parametrize("raw, status, error", [(b"[1, 2]", 422, "bad_payload"), (b'"text"', 422, "bad_payload"),
                                                (b"{oops", 400, "not_json")])
def test_a_form_that_is_not_a_json_object_stores_nothing(client, app, raw, status, error):
    assert_error(client.post("/v1/forms/claim", content=raw, headers={"Content-Type": "application/json"}),
                 status, error)
    assert inbox(app) == [] and quarantine(app) == []


def test_fastapi_validation_errors_are_reshaped(client, app):
    body = assert_error(client.post("/v1/forms/claim", json=FORM, headers={"Idempotency-Key": "k" * 201}),
                        422, "invalid_request")
    assert "Idempotency-Key" in body["message"]
    assert inbox(app) == []


# --- POST /v1/webhooks/{marketplace} -----------------------------------------------------------

def test_a_signed_webhook_is_accepted_once(client, app):
    raw = json.dumps(OZON_RETURN, ensure_ascii=False).encode()
    first = client.post("/v1/webhooks/ozon", content=raw, headers=signed(raw))
    canonical = json.dumps(OZON_RETURN, sort_keys=True, separators=(",", ":")).encode()
    expected_id = "ozon-" + hashlib.sha256(canonical).hexdigest()[:24]
    assert (first.status_code, first.json()) == (202, {"event_id": expected_id, "status": "accepted"})
    # the same object with its keys in another order is the same event
    reordered = json.dumps(dict(reversed(OZON_RETURN.items()))).encode()
    again = client.post("/v1/webhooks/ozon", content=reordered, headers=signed(reordered))
    assert again.json() == {"event_id": expected_id, "status": "duplicate"}
    [row] = inbox(app)
    stored = json.loads(row.body)
    assert (row.source, row.channel, stored["payload"]) == ("ozon", "marketplace", OZON_RETURN)
    assert nudges(app) == 1


def test_a_webhook_array_with_a_delivery_id_gives_each_object_its_outcome(client, app):
    objects = [{"claimId": "wb-1", "text": "брак"}, {"claimId": "wb-2", "text": "не тот товар"}, "not an object"]
    raw = json.dumps(objects).encode()
    response = client.post("/v1/webhooks/wildberries", content=raw,
                           headers={**signed(raw), "X-Claimflow-Event-Id": "delivery-7"})
    assert response.status_code == 202
    results = response.json()["results"]
    assert [(r["event_id"], r["status"]) for r in results] == [
        ("delivery-7#1", "accepted"), ("delivery-7#2", "accepted"), ("delivery-7#3", "quarantined")]
    assert results[2]["error"] == "bad_payload"
    assert [r.event_id for r in inbox(app)] == ["delivery-7#1", "delivery-7#2"]
    assert [(q.source, q.reason) for q in quarantine(app)] == [("wildberries", "bad_payload")]


@pytest.mark.parametrize("marketplace, headers", [
    ("ozon", {}),                                                            # unsigned
    ("ozon", {"X-Claimflow-Signature": "sha256=" + "0" * 64}),             # wrong
    ("ozon", {"X-Claimflow-Signature": "md5=abc"}),                         # not sha256=
    ("ozon", "other secret"),                                                # signed with another secret
    ("yandex_market", "signed"),                                             # no secret configured
    ("amazon", {}),
])
def test_an_unauthenticated_webhook_is_401_and_stores_nothing(client, app, marketplace, headers):
    raw = json.dumps(OZON_RETURN).encode()
    if headers == "signed":
        headers = signed(raw)
    elif headers == "other secret":
        headers = signed(raw, "not-the-secret")
    assert_error(client.post(f"/v1/webhooks/{marketplace}", content=raw, headers=headers), 401, "unauthorized")
    assert inbox(app) == [] and quarantine(app) == [] and nudges(app) == 0


def test_a_tampered_body_fails_its_signature(client, app):
    raw = json.dumps(OZON_RETURN).encode()
    tampered = raw.replace(b"1234567", b"7654321")
    assert_error(client.post("/v1/webhooks/ozon", content=tampered, headers=signed(raw)), 401, "unauthorized")
    assert inbox(app) == []


def test_an_unknown_marketplace_is_404(client, app):
    raw = b"{}"
    assert_error(client.post("/v1/webhooks/aliexpress", content=raw, headers=signed(raw)), 404, "not_found")
    assert inbox(app) == []


# --- GET /v1/claims/{number} -------------------------------------------------------------------

@pytest.fixture
def claim_number(client, app) -> str:
    assert client.post("/v1/forms/claim", json=FORM).status_code == 202
    run_stages(app)
    [claim] = list(export_claims(app))
    assert claim["status"] == "routed"
    return claim["claim_number"]


@pytest.mark.parametrize("contact", [{"email": "irina.smirnova@example.ru"}, {"email": " Irina.Smirnova@EXAMPLE.RU"},
                                     {"phone": "+7 912 345 67 89"}, {"phone": "89123456789"},
                                     {"email": "someone@else.ru", "phone": "+79123456789"}])
def test_the_customer_sees_the_claim_with_a_matching_contact(client, claim_number, contact):
    response = client.get(f"/v1/claims/{claim_number}", params=contact)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"claim_number", "status", "category", "department", "received_at", "deadlines"}
    assert body["claim_number"] == claim_number and body["status"] == "routed" and body["department"]
    assert set(body["deadlines"]) == {"first_response", "decision", "closure"} and body["deadlines"]["decision"]
    assert "Irina" not in response.text and "example.ru" not in response.text and "+7912" not in response.text


def test_a_wrong_or_missing_contact_is_the_same_404_as_an_unknown_number(client, claim_number):
    year = claim_number.split("-")[1]
    answers = [client.get(f"/v1/claims/{claim_number}", params=p) for p in
               ({}, {"email": "someone@else.ru"}, {"phone": "+79000000000"}, {"email": "not an address"},
                {"phone": ""})]
    answers += [client.get(f"/v1/claims/RK-{year}-999999", params={"email": "irina.smirnova@example.ru"}),
                client.get("/v1/claims/not-a-number", params={"email": "irina.smirnova@example.ru"})]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert_error(answers[0], 404, "not_found")


# --- operations, errors, the document ----------------------------------------------------------

def test_healthz_readyz_and_metrics(client):
    assert (client.get("/healthz").status_code, client.get("/healthz").json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready",
                                                       "checks": {"database": "ok", "broker": "ok"}})
    client.post("/v1/events", json=envelope())
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'claimflow_events_accepted_total{channel="web"}' in metrics.text


def test_an_unreachable_database_is_503_with_retry_after_and_not_ready(client, app, tmp_path):
    app.engine.dispose()
    app.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    app.sessions = make_sessionmaker(app.engine)
    for response in (client.post("/v1/events", json=envelope()),
                     client.post("/v1/forms/claim", json=FORM),
                     client.get("/v1/claims/RK-2026-000001", params={"email": "a@example.ru"})):
        assert_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5"
    ready = client.get("/readyz")
    body = assert_error(ready, 503, "not_ready")
    assert body["checks"]["database"].startswith("unavailable") and body["checks"]["broker"] == "ok"
    assert nudges(app) == 0


def test_unknown_paths_and_methods_answer_json(client):
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.get("/v1/events"), 405, "method_not_allowed")


def test_the_openapi_document_describes_bodies_and_every_answer(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in ("/v1/events", "/v1/forms/claim", "/v1/webhooks/{marketplace}"):
        operation = paths[path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]
        assert {"202", "413", "422", "503"} <= set(operation["responses"])
    assert "quarantine" in paths["/v1/events"]["post"]["description"]
    assert {"401", "404"} <= set(paths["/v1/webhooks/{marketplace}"]["post"]["responses"])
    assert {"200", "404", "503"} <= set(paths["/v1/claims/{number}"]["get"]["responses"])
    assert {"200", "503"} <= set(paths["/readyz"]["get"]["responses"])
    assert "HTTPValidationError" not in json.dumps(doc)


def test_a_value_the_database_refuses_is_422_and_a_bug_is_a_logged_json_500(app, monkeypatch):
    from sqlalchemy.exc import DataError
    from structlog.testing import capture_logs

    import services.gateway.accepting as accepting

    def too_long(*args, **kwargs):
        raise DataError("INSERT …", {}, Exception("value too long for type character varying(100)"))

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    with TestClient(create_app(app), raise_server_exceptions=False) as client, capture_logs() as logs:
        monkeypatch.setattr(accepting, "accept_lines", too_long)
        assert_error(client.post("/v1/events", json=envelope()), 422, "unstorable")
        monkeypatch.setattr(accepting, "accept_lines", bug)
        assert_error(client.post("/v1/events", json=envelope()), 500, "internal")
    assert [(r["event"], r["log_level"]) for r in logs] == [("gateway.unstorable", "error"),
                                                            ("gateway.unhandled", "error")]
    assert nudges(app) == 0
