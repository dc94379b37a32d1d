"""The routing stage: classify a batch of registered claims, set their deadlines, mark them
routed and write each department message to the outbox, in one transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from routing_worker.classify import classify
from routing_worker.department_message import department_message
from shared.db.models import Claim, ClaimHistory, OutboxMessage
from shared.db.statements import claim_work
from shared.lifecycle import OPEN, transition
from shared.observability.metrics import CLAIMS_ROUTED
from shared.policy import Policy
from shared.schema import Status
from sla_worker.deadlines import deadlines_for

log = structlog.get_logger("routing")


@dataclass
class RoutingBatch:
    taken: int = 0
    outbox_ids: list[int] = field(default_factory=list)


def _customers_with_open_claims(session: Session, claims: list[Claim]) -> dict[int, bool]:
    """For each claim: did the same customer (e-mail or phone) already have another open claim?"""
    emails = {c.customer_email for c in claims if c.customer_email}
    phones = {c.customer_phone for c in claims if c.customer_phone}
    if not emails and not phones:
        return {}
    open_states = [s.value for s in OPEN]
    rows = session.execute(select(Claim.id, Claim.customer_email, Claim.customer_phone).where(
        Claim.status.in_(open_states),
        or_(Claim.customer_email.in_(emails), Claim.customer_phone.in_(phones)))).all()
    by_contact: dict[tuple[str, str], set[int]] = {}
    for row in rows:
        for kind, value in (("email", row.customer_email), ("phone", row.customer_phone)):
            if value:
                by_contact.setdefault((kind, value), set()).add(row.id)

    def earlier(claim: Claim) -> bool:
        keys = [("email", claim.customer_email), ("phone", claim.customer_phone)]
        return any(other < claim.id for key in keys if key[1] for other in by_contact.get(key, ()))

    return {c.id: earlier(c) for c in claims}


def route_pending(session: Session, *, now, batch_size: int, policy: Policy) -> RoutingBatch:
    """One batch of the routing stage, in the caller's transaction."""
    claims = session.scalars(claim_work(session, select(Claim).where(Claim.status == Status.REGISTERED.value)
                                        .order_by(Claim.id).limit(batch_size))).all()
    batch = RoutingBatch(taken=len(claims))
    if not claims:
        return batch
    session.execute(select(Claim).where(Claim.id.in_([c.id for c in claims]))
                    .options(selectinload(Claim.events)))   # loads every claim's events in one query
    repeat = _customers_with_open_claims(session, claims)
    outbox = []
    for claim in claims:
        text = "\n".join(p for p in (claim.subject, claim.description) if p)
        decision = classify(text, policy, has_other_open_claim=repeat.get(claim.id, False))
        due = deadlines_for(claim.received_at, claim.desired_resolution, policy)
        claim.status = transition(Status(claim.status), Status.ROUTED).value
        claim.category, claim.department = decision.category, decision.department
        claim.priority, claim.confidence = decision.priority.value, decision.confidence
        claim.first_response_due, claim.decision_due, claim.closure_due = \
            due.first_response, due.decision, due.closure
        claim.routed_at = claim.updated_at = now
        claim.details = {**(claim.details or {}), "evidence": list(decision.evidence)}
        session.add(ClaimHistory(claim_id=claim.id, at=now, actor="routing", action="routed",
                                 from_status=Status.REGISTERED.value, to_status=Status.ROUTED.value,
                                 reason=f"{decision.category} → {decision.department}",
                                 data={"confidence": decision.confidence, "evidence": list(decision.evidence)}))
        message_id = str(uuid.uuid4())
        message = OutboxMessage(message_id=message_id, topic="department", routing_key=decision.department,
                                claim_id=claim.id, payload=department_message(claim, message_id),
                                created_at=now, attempts=0)
        session.add(message)
        outbox.append(message)
        CLAIMS_ROUTED.labels(decision.department, decision.category).inc()
        log.info("claim.routed", claim_number=claim.claim_number, department=decision.department,
                 category=decision.category, priority=decision.priority.value)
    session.flush()
    batch.outbox_ids = [m.id for m in outbox]
    return batch
