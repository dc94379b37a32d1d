"""Tier 2: one correlation id follows a claim from the gateway request that brought it, through
intake, routing, the department message (payload, AMQP header and property), the departments' API
and updates, the SLA sweep and the notices, on the embedded default (SQLite, stub broker)."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from kombu import Connection, Queue
from sqlalchemy import select

from services.department_updates import DepartmentUpdates
from services.departments.keys import create_key
from services.gateway.app import create_app
from services.stages import declare_actors, intake_step, routing_step
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, InboxEvent, Notification, OutboxMessage
from shared.observability.correlation import derived
from shared.observability.logging import configure_logging
from sla_worker.sweep import sweep
from tests.conftest import unique_name
from tests.helpers import validate_all

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
EMAIL, PHONE = "Irina.Smirnova@Example.ru", "8 (912) 345-67-89"


def envelope(event_id="ev-1", at=T0, **extra) -> dict:
    payload = {"name": "Ирина Смирнова", "email": EMAIL, "phone": PHONE, "order_number": "ORD-4815162",
               "description": "Чайник протекает снизу после недели использования.", "locale": "ru"}
    return {"event_id": event_id, "channel": "web", "source": "site", "received_at": at.isoformat(),
            "payload": payload, **extra}


@pytest.fixture
def logs():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    configure_logging("WARNING", "console")


@pytest.fixture
def app(embedded_settings):
    app = bootstrap(embedded_settings, clock=FrozenClock(T0), configure_logs=False)
    declare_actors(app)
    yield app
    app.close()


@pytest.fixture
def client(app):
    with TestClient(create_app(app)) as client:
        yield client


def run_stages(app) -> None:
    while intake_step(app) + routing_step(app):
        pass


def the_claim(app, number: str | None = None) -> Claim:
    with app.sessions() as s:
        query = select(Claim).order_by(Claim.id)
        return s.scalar(query.where(Claim.claim_number == number) if number else query)


def department_messages(app, department: str) -> list[tuple[dict, dict, dict]]:
    """(payload, headers, properties) of each message waiting on the department's queue, read with kombu."""
    found = []
    with Connection(app.settings.effective_department_queue_url) as conn:
        name = app.department_queues.queue_name(department)
        with conn.SimpleQueue(Queue(name, durable=True, no_declare=True)) as queue:
            while True:
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    break
                payload = message.payload if isinstance(message.payload, dict) else json.loads(message.payload)
                found.append((payload, dict(message.headers), dict(message.properties)))
                message.ack()
    return found


def test_a_header_id_is_in_every_intake_and_routing_line_and_in_the_department_message(app, client, logs):
    answer = client.post("/v1/events", json=envelope(), headers={"X-Correlation-ID": "abc"})
    assert answer.status_code == 202 and answer.headers["x-correlation-id"] == "abc"
    run_stages(app)

    lines = logs()
    by_event = {line["event"]: line for line in lines}
    for event in ("claim.registered", "claim.classified", "claim.routed"):
        assert by_event[event]["correlation_id"] == "abc", by_event[event]
    claim = the_claim(app)
    assert claim.details["correlation_id"] == "abc"
    assert by_event["claim.registered"]["event_id"] == "ev-1"
    assert {by_event[e]["claim_number"] for e in ("claim.classified", "claim.routed")} == {claim.claim_number}

    [(payload, headers, properties)] = department_messages(app, claim.department)
    assert payload["correlation_id"] == headers["correlation_id"] == properties["correlation_id"] == "abc"
    assert payload["claim_number"] == claim.claim_number
    validate_all([payload])                            # still a valid version 1 message
    with app.sessions() as s:                          # the notices written at routing carry it too
        contexts = s.scalars(select(Notification.context).where(Notification.claim_id == claim.id)).all()
    assert contexts and all(c["correlation_id"] == "abc" for c in contexts)


def test_x_request_id_serves_when_there_is_no_correlation_header(app, client):
    answer = client.post("/v1/events", json=envelope(), headers={"X-Request-ID": "req-77"})
    assert answer.headers["x-correlation-id"] == "req-77"
    run_stages(app)
    assert the_claim(app).details["correlation_id"] == "req-77"


def test_the_envelopes_own_id_wins_and_its_body_is_kept_as_sent(app, client):
    sent = envelope(correlation_id="producer-42")
    client.post("/v1/events", json=sent, headers={"X-Correlation-ID": "abc"})
    run_stages(app)
    assert the_claim(app).details["correlation_id"] == "producer-42"
    with app.sessions() as s:
        assert json.loads(s.scalar(select(InboxEvent.body))) == sent


def test_without_any_id_each_event_gets_a_stable_one_of_its_own_and_its_body_is_untouched(app, client):
    first = client.post("/v1/events", json=envelope("ev-1"))
    client.post("/v1/events", json=envelope("ev-2", payload={"email": "boris@example.ru",
                                                             "description": "Пылесос не включается"}))
    assert "x-correlation-id" not in first.headers
    run_stages(app)
    with app.sessions() as s:
        claims = {c.details["correlation_id"] for c in s.scalars(select(Claim))}
        bodies = [json.loads(b) for b in s.scalars(select(InboxEvent.body).order_by(InboxEvent.id))]
    assert claims == {derived("site", "ev-1"), derived("site", "ev-2")}
    assert bodies[0] == envelope("ev-1")


@pytest.mark.parametrize("bad", ["", "a b", "x" * 129, "irina@example.ru", "<script>"])
def test_an_unusable_header_is_ignored(app, client, bad):
    answer = client.post("/v1/events", json=envelope(), headers={"X-Correlation-ID": bad})
    assert answer.status_code == 202 and "x-correlation-id" not in answer.headers
    run_stages(app)
    assert the_claim(app).details["correlation_id"] == derived("site", "ev-1")


def test_a_merged_event_is_logged_with_its_own_id_and_the_claim_keeps_its_first(app, client, logs):
    client.post("/v1/events", json=envelope("ev-1"), headers={"X-Correlation-ID": "first"})
    run_stages(app)
    department_messages(app, the_claim(app).department)           # the first message, read
    again = envelope("ev-2", at=T0 + timedelta(days=1))
    again["payload"]["description"] = "Снова про чайник: всё ещё протекает."
    client.post("/v1/events", json=again, headers={"X-Correlation-ID": "second"})
    run_stages(app)

    [merged] = [line for line in logs() if line["event"] == "event.merged"]
    assert (merged["event_id"], merged["correlation_id"]) == ("ev-2", "second")
    claim = the_claim(app)
    assert claim.details["correlation_id"] == "first"
    with app.sessions() as s:
        payloads = s.scalars(select(OutboxMessage.payload).where(OutboxMessage.claim_id == claim.id)).all()
    assert {p["correlation_id"] for p in payloads} == {"first"}


def test_the_departments_api_and_updates_log_the_claims_id_beside_the_callers(app, client, logs):
    client.post("/v1/events", json=envelope(), headers={"X-Correlation-ID": "abc"})
    run_stages(app)
    claim = the_claim(app)
    with app.sessions.begin() as s:
        _, secret = create_key(s, department=claim.department, owner="crm", is_admin=False,
                               departments=app.policy.departments, now=T0)
    answer = client.post(f"/v1/department/claims/{claim.claim_number}/acknowledge",
                         headers={"Authorization": f"Bearer {secret}", "X-Correlation-ID": "crm-1"})
    assert answer.status_code == 200, answer.text

    updates = DepartmentUpdates(app, unique_name("updates"), polling_interval=0.05, retry_delay=0.1)
    replies = unique_name("replies")
    try:
        with Connection(app.settings.effective_department_queue_url) as conn:
            conn.Producer().publish({"key": secret, "claim_number": claim.claim_number, "action": "request-information",
                                     "question": "Пришлите фото", "reply_to": replies, "correlation_id": "rpc-7"},
                                    routing_key=updates.queue.name, serializer="json",
                                    declare=[Queue(updates.queue.name, durable=True)])
        assert updates.drain(timeout=0.2) == 1
    finally:
        updates.close()
    with Connection(app.settings.effective_department_queue_url) as conn:
        with conn.SimpleQueue(Queue(replies, durable=True, no_declare=True)) as queue:
            reply = queue.get(timeout=1)
            body = reply.payload if isinstance(reply.payload, dict) else json.loads(reply.payload)
            reply.ack()
    assert body["correlation_id"] == "rpc-7" and body["ok"]           # the reply keeps the caller's id

    changed = [line for line in logs() if line["event"] == "claim.changed"]
    assert [(c["correlation_id"], c.get("request_correlation_id")) for c in changed] == [("abc", "crm-1"),
                                                                                      ("abc", None)]
    [update] = [line for line in logs() if line["event"] == "department_update"]
    assert update["request_correlation_id"] == "rpc-7" and update["claim_number"] == claim.claim_number


def test_the_sla_sweep_logs_and_sends_the_claims_id(app, client, logs):
    client.post("/v1/events", json=envelope(), headers={"X-Correlation-ID": "abc"})
    run_stages(app)
    claim = the_claim(app)
    with app.sessions.begin() as s:
        result = sweep(s, now=T0 + timedelta(days=60), policy=app.policy)
    assert result.fired and result.outbox_ids
    fired = [line for line in logs() if line["event"] == "sla.fired"]
    assert fired and all(line["correlation_id"] == "abc" for line in fired)
    with app.sessions() as s:
        payloads = s.scalars(select(OutboxMessage.payload).where(OutboxMessage.id.in_(result.outbox_ids))).all()
    assert [p["correlation_id"] for p in payloads] == ["abc"] and payloads[0]["claim_number"] == claim.claim_number


def test_on_rabbitmq_the_id_is_an_amqp_header_and_property(amqp_url, names):
    from shared.messaging.department_queues import DepartmentQueues
    queues = DepartmentQueues(amqp_url, names["department_exchange"], names["department_queue_prefix"], ["quality"])
    try:
        queues.publish("quality", {"schema": "claimflow.department-claim", "version": 1, "correlation_id": "abc"},
                       "m-1")
        queues.publish("quality", {"schema": "claimflow.department-claim", "version": 1}, "m-2")   # an old claim
    finally:
        queues.close()
    with Connection(amqp_url) as conn:
        with conn.SimpleQueue(Queue(queues.queue_name("quality"), durable=True, no_declare=True)) as queue:
            got = []
            for _ in range(2):
                message = queue.get(timeout=5)
                got.append((message.headers.get("correlation_id"), message.properties.get("correlation_id")))
                message.ack()
    assert got == [("abc", "abc"), (None, None)]
