"""Tier 3: the HTTP gateway on real PostgreSQL — what it accepts is in the inbox, what it refuses
is in quarantine, a customer finds their routed claim, and with the database gone every answer
is a 503 with Retry-After (never a 500), and nothing is claimed as accepted."""
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
from shared.settings import Settings

pytestmark = [pytest.mark.services, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SECRET = "pg-secret"
CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/x"
FORM = {"name": "Ирина Смирнова", "email": "Irina.Smirnova@Example.ru", "phone": "8 (912) 345-67-89",
        "order_number": "ORD-4815162", "description": "Чайник протекает снизу, явный брак.",
        "desired_resolution": "replacement", "locale": "ru"}


def envelope(event_id: str, **fields) -> dict:
    return {"event_id": event_id, "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00+03:00",
            "payload": {"email": f"{event_id}@example.ru", "description": "Пылесос не включается."}, **fields}


@pytest.fixture
def app(migrated_pg_url, names, tmp_path):
    settings = Settings(database_url=migrated_pg_url, broker_url=None, department_queue_url=None,
                        log_level="WARNING", blob_dir=tmp_path / "blobs", webhook_secrets={"ozon": SECRET}, **names)
    app = bootstrap(settings, configure_logs=False)
    declare_actors(app)
    yield app
    app.close()


@pytest.fixture
def client(app):
    with TestClient(create_app(app)) as client:
        yield client


def inbox(app) -> list[tuple[str, str, str]]:
    with app.sessions() as s:
        return s.execute(select(InboxEvent.source, InboxEvent.event_id, InboxEvent.status)
                         .order_by(InboxEvent.id)).all()


def quarantine(app) -> list[tuple[str | None, str]]:
    with app.sessions() as s:
        return s.execute(select(QuarantinedEvent.event_id, QuarantinedEvent.reason)
                         .order_by(QuarantinedEvent.id)).all()


def test_accepted_events_are_in_the_inbox_and_refused_ones_in_quarantine(client, app):
    answers = [client.post("/v1/events", json=envelope("pg-1")), client.post("/v1/events", json=envelope("pg-1")),
               client.post("/v1/events", json=envelope("pg-2", channel="fax")),
               client.post("/v1/forms/claim", json=FORM, headers={"Idempotency-Key": "pg-form-1"})]
    raw = json.dumps({"id": 77, "posting_number": "54828976-9225-1"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answers.append(client.post("/v1/webhooks/ozon", content=raw, headers={"X-Claimflow-Signature": signature}))

    assert [(a.status_code, a.json().get("status") or a.json().get("error")) for a in answers] == [
        (202, "accepted"), (202, "duplicate"), (422, "unknown_channel"), (202, "accepted"), (202, "accepted")]
    webhook_id = answers[-1].json()["event_id"]
    assert inbox(app) == [("site", "pg-1", "pending"), ("site", "pg-form-1", "pending"),
                          ("ozon", webhook_id, "pending")]
    assert quarantine(app) == [("pg-2", "unknown_channel")]

    while intake_step(app) + routing_step(app):
        pass
    mine = next(c for c in export_claims(app) if "pg-form-1" in c["source_event_ids"])
    found = client.get(f"/v1/claims/{mine['claim_number']}", params={"phone": "+7 912 345-67-89"})
    assert found.status_code == 200 and found.json()["status"] == "routed"
    assert client.get(f"/v1/claims/{mine['claim_number']}", params={"phone": "+79990000000"}).status_code == 404


@pytest.mark.parametrize("fields", [{"source": "s" * 150}, {"channel": "c" * 50},
                                    {"source": "s" * 150, "received_at": "yesterday"}])
def test_values_wider_than_their_columns_are_refused_not_a_server_error(client, app, fields):
    response = client.post("/v1/events", json=envelope("pg-wide", **fields))
    assert response.status_code == 422, response.text
    # "unstorable" (nothing stored) until the envelope check refuses such values itself and quarantines them
    assert response.json()["error"] in {"unstorable", "missing_field", "unknown_channel", "bad_timestamp"}
    assert inbox(app) == []


def test_with_the_database_unreachable_every_answer_is_503_with_retry_after(client, app):
    assert client.post("/v1/events", json=envelope("before")).status_code == 202
    good_engine = app.engine
    good_engine.dispose()
    app.engine = make_engine(CLOSED_PORT_URL)
    app.sessions = make_sessionmaker(app.engine)
    nudges_before = app.broker.queues[app.actors["intake"].queue_name].qsize()

    raw = b'{"id": 78}'
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answers = [client.post("/v1/events", json=envelope("during")),
               client.post("/v1/events", content=b"not json"),
               client.post("/v1/forms/claim", json=FORM),
               client.post("/v1/webhooks/ozon", content=raw, headers={"X-Claimflow-Signature": signature}),
               client.get("/v1/claims/RK-2026-000001", params={"email": "a@example.ru"})]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        assert answer.json()["error"] == "unavailable" and "accepted" not in answer.json().get("status", "")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unavailable")
    assert client.get("/healthz").status_code == 200          # the process itself is fine
    assert app.broker.queues[app.actors["intake"].queue_name].qsize() == nudges_before

    app.engine.dispose()
    app.engine, app.sessions = good_engine, make_sessionmaker(good_engine)
    assert client.post("/v1/events", json=envelope("after")).json()["status"] == "accepted"
    assert [event_id for _, event_id, _ in inbox(app)] == ["before", "after"]


@pytest.mark.parametrize("broker", ["redis_url", "amqp_url"])
def test_readyz_checks_the_real_broker(request, migrated_pg_url, names, tmp_path, broker):
    url = request.getfixturevalue(broker)
    closed = url.replace(":6379", ":1") if broker == "redis_url" else url.replace(":5672", ":1")
    for broker_url, status, state in ((url, 200, "ok"), (closed, 503, "unavailable")):
        settings = Settings(database_url=migrated_pg_url, broker_url=broker_url, log_level="WARNING",
                            blob_dir=tmp_path / "blobs", **names)
        app = bootstrap(settings, configure_logs=False)
        try:
            with TestClient(create_app(app)) as client:
                ready = client.get("/readyz")
        finally:
            app.close()
        assert ready.status_code == status, ready.text
        assert ready.json()["checks"]["database"] == "ok" and ready.json()["checks"]["broker"].startswith(state)
