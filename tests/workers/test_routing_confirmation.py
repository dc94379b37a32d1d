"""A claim is routed when its department has it: not when routing decided, but when the department
queue confirmed the message. A broker that refuses leaves the claim registered, classified and
waiting in the outbox, and nobody is told it was routed."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.replay import ReplayReport, accept
from services.stages import declare_actors, intake_step, routing_step
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, ClaimHistory, OutboxMessage
from tests.helpers import drain_with_kombu

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)     # after the synthetic events were received


def _claims(app):
    with app.sessions() as s:
        return {c.claim_number: (c.status, c.department, c.routed_at) for c in s.scalars(select(Claim))}


def _actions(app):
    with app.sessions() as s:
        return [h.action for h in s.scalars(select(ClaimHistory).order_by(ClaimHistory.id))]


def test_a_claim_stays_registered_until_its_department_message_is_confirmed(embedded_settings, redis_url):
    unreachable = embedded_settings.model_copy(update={"department_queue_url": "redis://127.0.0.1:9/0"})
    app = bootstrap(unreachable, clock=FrozenClock(NOW), configure_logs=False)
    declare_actors(app)
    try:
        accept(app, web_events(4, seed=5), ReplayReport())
        while intake_step(app) + routing_step(app):
            pass
        waiting = _claims(app)
        assert len(waiting) == 4
        assert all(status == "registered" and department and routed_at is None
                   for status, department, routed_at in waiting.values())
        assert "routed" not in _actions(app) and _actions(app).count("classified") == 4
        with app.sessions() as s:
            assert [m.attempts for m in s.scalars(select(OutboxMessage))] == [1] * 4
    finally:
        app.close()

    # the broker is back: the relay (any worker's re-driver) delivers, and only now are they routed
    healthy = embedded_settings.model_copy(update={"department_queue_url": redis_url})
    app = bootstrap(healthy, clock=FrozenClock(NOW), configure_logs=False)
    try:
        assert app.relay.publish_pending() == 4
        routed = _claims(app)
        assert {status for status, _, _ in routed.values()} == {"routed"}
        assert all(routed_at == NOW for _, _, routed_at in routed.values())
        assert _actions(app).count("routed") == 4
        queues = sorted({f"{healthy.department_queue_prefix}{d}" for _, d, _ in routed.values()})
        delivered = drain_with_kombu(redis_url, queues)
        assert sorted(m["claim_number"] for m in delivered) == sorted(routed)
        assert app.relay.publish_pending() == 0 and _actions(app).count("routed") == 4    # nothing twice
    finally:
        app.close()
