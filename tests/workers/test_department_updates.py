"""Tier 2: the departments' updates through the broker (``services.department_updates``) on the embedded
default: messages published with plain kombu on the department queues' connection (kombu's SQLAlchemy
transport on the SQLite file), the same changes and refusals as the HTTP API, answers on ``reply_to``,
refusals acknowledged once and a database outage left on the queue."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest
from kombu import Connection, Queue
from sqlalchemy import select

from services.department_updates import DepartmentUpdates
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import Claim, ClaimHistory
from tests.conftest import unique_name
from tests.helpers import department_world, drain_with_kombu, routed_claims_app, validate_all

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
IDLE = 0.2

#: a routed claim's history: registered, classified, routed (once its message was confirmed)
ROUTED_STEPS = 3


@pytest.fixture
def app(embedded_settings):
    app = routed_claims_app(embedded_settings, T0)
    yield app
    app.close()


@pytest.fixture
def world(app):
    return department_world(app, T0)


@pytest.fixture
def url(app):
    return app.settings.effective_department_queue_url


@pytest.fixture
def updates(app):
    consumer = DepartmentUpdates(app, unique_name("updates"), polling_interval=0.05, retry_delay=0.1)
    yield consumer
    consumer.close()


@pytest.fixture
def replies():
    return unique_name("replies")


def send(url: str, queue: str, body, **properties) -> None:
    """Publish as any team would, with plain kombu: a dict (kombu's json) or raw text."""
    with Connection(url) as conn:
        producer = conn.Producer()
        if isinstance(body, dict):
            producer.publish(body, routing_key=queue, serializer="json", declare=[Queue(queue, durable=True)],
                             **properties)
        else:
            producer.publish(body, routing_key=queue, content_type="text/plain", content_encoding="utf-8",
                             declare=[Queue(queue, durable=True)], **properties)


def update(world, who: str, action: str, replies: str | None = None, number: str | None = None, **fields) -> dict:
    body = {"key": world["keys"][who], "claim_number": number or world["own"], "action": action, **fields}
    if replies:
        body |= {"reply_to": replies, "correlation_id": f"c-{action}-{uuid.uuid4().hex[:6]}"}
    return body


def history(app, number: str) -> list[tuple]:
    with app.sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.claim_number == number))
        return s.execute(select(ClaimHistory.actor, ClaimHistory.action, ClaimHistory.from_status,
                                ClaimHistory.to_status).where(ClaimHistory.claim_id == claim.id)
                         .order_by(ClaimHistory.id)).all()


def answers(url: str, replies: str) -> list[dict]:
    return drain_with_kombu(url, [replies], idle=IDLE)


def test_updates_change_the_claim_as_the_http_api_does_and_are_answered(app, world, url, updates, replies):
    name = updates.queue.name
    sent = [update(world, "admin", "acknowledge", replies),
            update(world, "own", "request-information", replies, question="Пришлите фото"),
            update(world, "own", "customer-replied", replies, note="фото пришли"),
            update(world, "own", "decision", replies, resolution="refund", amount="1499.90", currency="RUB"),
            update(world, "own", "executed", replies, evidence={"refund_id": "R-77"})]
    for body in sent:
        send(url, name, body)
    assert updates.drain(timeout=IDLE) == 5
    assert history(app, world["own"])[3:] == [
        ("key:admin-system", "acknowledged", "routed", "in_progress"),
        ("key:own-system", "information_requested", "in_progress", "awaiting_customer"),
        ("key:own-system", "customer_replied", "awaiting_customer", "in_progress"),
        ("key:own-system", "decided", "in_progress", "decided"),
        ("key:own-system", "executed", "decided", "executed")]
    got = answers(url, replies)
    assert [a["correlation_id"] for a in got] == [b["correlation_id"] for b in sent]
    assert all(a["ok"] for a in got) and [a["claim"]["status"] for a in got] == [
        "in_progress", "awaiting_customer", "in_progress", "decided", "executed"]
    assert got[3]["claim"]["decisions"][0]["amount"] == "1499.90"
    assert got[-1]["claim"]["executions"][0]["evidence"] == {"refund_id": "R-77"}
    assert updates.drain(timeout=IDLE) == 0                     # all acked: nothing comes back


def test_a_json_text_with_amqp_reply_properties_is_accepted(app, world, url, updates, replies):
    send(url, updates.queue.name, json.dumps(update(world, "own", "acknowledge")), reply_to=replies,
         correlation_id="c-42")
    assert updates.drain(timeout=IDLE) == 1
    [answer] = answers(url, replies)
    assert answer["correlation_id"] == "c-42" and answer["ok"] and answer["claim"]["status"] == "in_progress"


@pytest.mark.parametrize("who, number, error", [
    ("revoked", None, "unauthorized"), ("unknown", None, "unauthorized"), ("other", None, "forbidden"),
    ("own", "RK-2026-999999", "not_found")])
def test_a_key_that_may_not_change_the_claim_is_answered_and_changes_nothing(app, world, url, updates, replies,
                                                                              who, number, error):
    world["keys"]["unknown"] = "cfk_not-a-key-of-ours"
    send(url, updates.queue.name, update(world, who, "acknowledge", replies, number=number))
    assert updates.drain(timeout=IDLE) == 1
    [answer] = answers(url, replies)
    assert (answer["ok"], answer["error"]) == (False, error) and answer["message"]
    assert world["keys"][who] not in json.dumps(answer)
    assert len(history(app, world["own"])) == ROUTED_STEPS


def test_an_illegal_step_is_answered_with_the_allowed_next_states(app, world, url, updates, replies):
    send(url, updates.queue.name, update(world, "own", "executed", replies, evidence="накладная 123"))
    assert updates.drain(timeout=IDLE) == 1
    [answer] = answers(url, replies)
    assert (answer["error"], answer["status"], answer["allowed"]) == ("illegal_transition", "routed",
                                                                      ["in_progress", "routed"])
    assert len(history(app, world["own"])) == ROUTED_STEPS


def test_broken_messages_are_acked_once_with_an_error_answer(app, world, url, updates, replies):
    name = updates.queue.name
    send(url, name, "{not json", reply_to=replies, correlation_id="c-text")
    send(url, name, "[1, 2]", reply_to=replies, correlation_id="c-list")
    send(url, name, {"claim_number": world["own"], "action": "acknowledge", "reply_to": replies,
                     "correlation_id": "c-nokey"})
    send(url, name, update(world, "own", "close", replies) | {"correlation_id": "c-action"})
    send(url, name, update(world, "own", "acknowledge", replies, colour="red") | {"correlation_id": "c-extra"})
    send(url, name, update(world, "own", "request-information", replies) | {"correlation_id": "c-noq"})
    send(url, name, update(world, "own", "reroute", replies, department="nowhere", reason="r")
         | {"correlation_id": "c-dept"})
    send(url, name, update(world, "own", "decision", replies, resolution="refund") | {"correlation_id": "c-amt"})
    assert updates.drain(timeout=IDLE) == 8
    assert updates.drain(timeout=IDLE) == 0                     # none is redelivered
    got = {a["correlation_id"]: a["error"] for a in answers(url, replies) if not a["ok"]}
    assert got == {"c-text": "bad_request", "c-list": "bad_request", "c-nokey": "invalid_request",
                   "c-action": "unknown_action", "c-extra": "invalid_request", "c-noq": "invalid_request",
                   "c-dept": "unknown_department", "c-amt": "invalid_request"}
    assert len(history(app, world["own"])) == ROUTED_STEPS


def test_a_reroute_puts_the_claims_message_on_the_new_departments_queue(app, world, url, updates, replies):
    queues = [app.department_queues.queue_name(d) for d in app.policy.departments]
    drain_with_kombu(url, queues, idle=0.1)
    send(url, updates.queue.name, update(world, "own", "reroute", replies, department=world["other_dept"],
                                         reason="это доставка"))
    assert updates.drain(timeout=IDLE) == 1
    [answer] = answers(url, replies)
    assert (answer["claim"]["status"], answer["claim"]["department"]) == ("routed", world["other_dept"])
    [message] = drain_with_kombu(url, [app.department_queues.queue_name(world["other_dept"])], idle=IDLE)
    validate_all([message])
    assert (message["claim_number"], message["department"]) == (world["own"], world["other_dept"])
    assert history(app, world["own"])[-1] == ("key:own-system", "rerouted", "routed", "routed")


def test_an_unreachable_database_leaves_the_update_on_the_queue(app, world, url, updates, replies, tmp_path):
    send(url, updates.queue.name, update(world, "own", "acknowledge", replies))
    engine, sessions = app.engine, app.sessions
    app.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    app.sessions = make_sessionmaker(app.engine)
    try:
        assert updates.drain(timeout=IDLE) == 0                 # requeued, not acked
    finally:
        app.engine.dispose()
        app.engine, app.sessions = engine, sessions
    assert answers(url, replies) == [] and len(history(app, world["own"])) == ROUTED_STEPS
    assert updates.drain(timeout=IDLE) == 1                     # retried once the database is back
    [answer] = answers(url, replies)
    assert answer["ok"] and history(app, world["own"])[-1][1] == "acknowledged"


def test_the_worker_loop_applies_updates_until_stopped(app, world, url, updates):
    stop = threading.Event()
    worker = threading.Thread(target=updates.run, args=(stop,), kwargs={"timeout": 0.1})
    worker.start()
    try:
        send(url, updates.queue.name, update(world, "own", "acknowledge"))
        deadline = time.monotonic() + 5
        while len(history(app, world["own"])) == ROUTED_STEPS and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(5)
    assert not worker.is_alive() and history(app, world["own"])[-1][1] == "acknowledged"
