"""Test helpers shared by the worker and integration tiers."""
from __future__ import annotations

import json
from importlib import resources

from kombu import Connection, Queue

from shared.schema import NormalisedClaim, QuarantineReason, Rejection


def department_schema() -> dict:
    return json.loads(resources.files("shared").joinpath("messaging/schemas/department-claim.v1.json")
                      .read_text(encoding="utf-8"))


def drain_with_kombu(url: str, queue_names: list[str], idle: float = 1.0) -> list[dict]:
    """Every message waiting in the queues, read with plain kombu (knowing only the names)."""
    bodies = []
    with Connection(url) as conn:
        for name in queue_names:
            with conn.SimpleQueue(Queue(name, durable=True, no_declare=True)) as queue:
                while True:
                    try:
                        message = queue.get(timeout=idle)
                    except queue.Empty:
                        break
                    payload = message.payload
                    bodies.append(payload if isinstance(payload, dict) else json.loads(payload))
                    message.ack()
    return bodies


def validate_all(bodies: list[dict]) -> None:
    import jsonschema
    schema = department_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for body in bodies:
        validator.validate(body)


def claim_of(result) -> NormalisedClaim:
    """The normaliser's claim; fails the test, showing the result, if it refused."""
    assert isinstance(result, NormalisedClaim), result
    return result


def rejected(result, reason: QuarantineReason) -> Rejection:
    """The normaliser's refusal, checked to carry ``reason``."""
    assert isinstance(result, Rejection), result
    assert result.reason is reason, result
    return result


def routed_claims_app(settings, now):
    """An App on a frozen clock with six routed claims of several departments (the departments' tests)."""
    from services.replay import ReplayReport, accept
    from services.stages import declare_actors, intake_step, routing_step
    from services.synthetic import web_events
    from shared.bootstrap import bootstrap
    from shared.clock import FrozenClock
    app = bootstrap(settings, clock=FrozenClock(now), configure_logs=False)
    declare_actors(app)
    accept(app, web_events(6, seed=41), ReplayReport())
    while intake_step(app) + routing_step(app):
        pass
    return app


def department_world(app, now) -> dict:
    """Two claims of different departments, and a key for each kind of caller (own department,
    another department, administrator, revoked)."""
    from sqlalchemy import select

    from services.departments.keys import create_key, revoke_key
    from shared.db.models import Claim
    with app.sessions() as s:
        claims = s.scalars(select(Claim).order_by(Claim.id)).all()
    own = claims[0]
    other = next(c for c in claims if c.department != own.department)
    made = {}
    with app.sessions.begin() as s:
        for name, dept, admin in (("own", own.department, False), ("other", other.department, False),
                                  ("admin", None, True), ("revoked", own.department, False)):
            key, secret = create_key(s, department=dept, owner=f"{name}-system", is_admin=admin,
                                     departments=app.policy.departments, now=now)
            made[name] = (key.id, secret)
        revoke_key(s, made["revoked"][0], now)
    return {"own": own.claim_number, "other": other.claim_number, "dept": own.department,
            "other_dept": other.department, "keys": {k: v[1] for k, v in made.items()}}


class SmtpMailbox:
    """The handler of a real SMTP server (aiosmtpd) the notification tests start: keeps every message
    that arrives, repeats included, as (recipients, parsed message). ``replies`` are answers to DATA
    to give first (a 451 or a 550); a recipient starting with "bounce" is refused."""

    def __init__(self):
        import threading
        self.received, self.replies, self.port = [], [], None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy
        if self.replies:
            return self.replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for rcpt, m in self.received if address in rcpt]

    @property
    def keys(self) -> list[str]:
        with self.lock:
            return [m["X-Claimflow-Idempotency-Key"] for _, m in self.received]

    def count(self) -> int:
        with self.lock:
            return len(self.received)
