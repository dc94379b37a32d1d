"""A claim becomes ``routed`` when its department has it: when the broker has confirmed the
department message (publisher confirms on RabbitMQ, the pipelined write on Redis, the commit on
the embedded queues). Until then it stays ``registered`` with its classification set, and the
outbox relay keeps trying. Runs as an :class:`~shared.messaging.outbox.OutboxRelay` hook, in the
transaction that stamps the messages published."""
from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import insert, select, update

from notify_worker.enqueue import notify_routed
from shared.db.models import Claim, ClaimHistory, OutboxMessage
from shared.db.statements import in_values
from shared.lifecycle import transition
from shared.observability.logging import bound_claim
from shared.observability.metrics import CLAIMS_ROUTED
from shared.schema import Status

log = structlog.get_logger("routing")
CLAIMS = Claim.__table__


def mark_routed(session, rows: Sequence[OutboxMessage], now) -> int:
    """Mark the claims whose first department message is among ``rows`` as routed, with history.
    A reroute's message finds its claim already routed and changes nothing."""
    message_of = {r.claim_id: r for r in rows if r.topic == "department" and r.claim_id is not None}
    if not message_of:
        return 0
    waiting = session.execute(select(CLAIMS)
                              .where(in_values(session, CLAIMS.c.id, list(message_of)),
                                     CLAIMS.c.status == Status.REGISTERED.value,
                                     CLAIMS.c.department.isnot(None))).all()
    if not waiting:
        return 0
    to_status = transition(Status.REGISTERED, Status.ROUTED).value
    session.execute(update(CLAIMS).where(in_values(session, CLAIMS.c.id, [c.id for c in waiting]),
                                         CLAIMS.c.status == Status.REGISTERED.value)
                    .values(status=to_status, routed_at=now, updated_at=now))
    session.execute(insert(ClaimHistory.__table__), [
        {"claim_id": c.id, "at": now, "actor": "routing", "action": "routed",
         "from_status": Status.REGISTERED.value, "to_status": to_status,
         "reason": f"delivered to the {c.department} queue",
         "data": {"message_id": message_of[c.id].message_id, "department": c.department}} for c in waiting])
    # the customer hears the number and who handles it; the department's queue and lead a new claim
    notify_routed(session, [{**c._mapping, "status": to_status, "routed_at": now} for c in waiting], now)
    for c in waiting:
        CLAIMS_ROUTED.labels(c.department, c.category or "none").inc()     # "none": waiting in triage
        with bound_claim(c):
            log.info("claim.routed", claim_number=c.claim_number, department=c.department, category=c.category)
    return len(waiting)
