"""The routing stage: classify a batch of registered claims, set their deadlines and write each
department message to the outbox, in one transaction (one executemany per table). The claim
becomes ``routed`` when the broker confirms its message (``routing_worker.confirmation``)."""
from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from routing_worker.classify import classify
from routing_worker.department_message import events_of, outbox_row
from routing_worker.model import BatchPredictions
from routing_worker.training import text_of      # subject, then description: as the model was trained
from shared.db.models import Claim, ClaimEvent, ClaimHistory, OutboxMessage
from shared.dead_list import set_aside_ids
from shared.db.statements import claim_work, in_values, insert_rows
from shared.lifecycle import OPEN, transition
from shared.observability.logging import bound_claim
from shared.policy import Policy
from shared.schema import Status
from sla_worker.claim_clocks import timing

log = structlog.get_logger("routing")
CLAIMS, EVENTS, OUTBOX = Claim.__table__, ClaimEvent.__table__, OutboxMessage.__table__
STAGE = "routing"
ROUTED_COLUMNS = ("category", "department", "priority", "confidence", "first_response_due",
                  "decision_due", "closure_due", "next_sla_at", "updated_at", "details")


@dataclass
class RoutingBatch:
    taken: int = 0
    outbox_ids: list[int] = field(default_factory=list)


def _customers_with_open_claims(session: Session, claims: list[dict]) -> dict[int, bool]:
    """For each claim: did the same customer (e-mail or phone) already have another open claim?"""
    emails = {c["customer_email"] for c in claims if c["customer_email"]}
    phones = {c["customer_phone"] for c in claims if c["customer_phone"]}
    if not emails and not phones:
        return {}
    rows = session.execute(select(CLAIMS.c.id, CLAIMS.c.customer_email, CLAIMS.c.customer_phone).where(
        in_values(session, CLAIMS.c.status, [s.value for s in OPEN]),
        or_(in_values(session, CLAIMS.c.customer_email, emails),
            in_values(session, CLAIMS.c.customer_phone, phones)))).all()
    by_contact: dict[tuple[str, str], set[int]] = {}
    for row in rows:
        for kind, value in (("email", row.customer_email), ("phone", row.customer_phone)):
            if value:
                by_contact.setdefault((kind, value), set()).add(row.id)

    def earlier(claim: dict) -> bool:
        keys = [("email", claim["customer_email"]), ("phone", claim["customer_phone"])]
        return any(other < claim["id"] for key in keys if key[1] for other in by_contact.get(key, ()))

    return {c["id"]: earlier(c) for c in claims}


def route(claim: dict, policy: Policy, now, repeat_customer: bool, model=None) -> dict:
    """The classified version of a registered claims row (pure); it stays ``registered`` until its
    department message is confirmed."""
    text = text_of(claim)
    details = claim["details"] or {}
    decision = classify(text, policy, has_other_open_claim=repeat_customer, marketplace=details.get("source"),
                        reason_codes=details.get("reason_codes", ()), model=model)
    transition(Status(claim["status"]), Status.ROUTED)      # refuses a claim that cannot be routed
    classified = {**claim, "category": decision.category, "department": decision.department,
                  "priority": decision.priority.value, "confidence": decision.confidence, "updated_at": now,
                  "details": {**(claim["details"] or {}), "evidence": list(decision.evidence)}}
    # the deadlines of its category, channel, priority and remedy, and when the SLA sweep next looks
    return {**classified, **timing(classified, policy)}


def waiting(ids: list[int] | None = None):
    """The claims routing must take: registered, no department yet, not set aside in the dead list."""
    query = select(CLAIMS).where(CLAIMS.c.status == Status.REGISTERED.value, CLAIMS.c.department.is_(None),
                                 CLAIMS.c.id.not_in(set_aside_ids(STAGE)))
    return query.where(CLAIMS.c.id.in_(ids)) if ids is not None else query


def pending_ids(session: Session, batch_size: int) -> list[int]:
    return list(session.scalars(waiting().with_only_columns(CLAIMS.c.id).order_by(CLAIMS.c.id).limit(batch_size)))


def route_pending(session: Session, *, now, batch_size: int, policy: Policy, model=None,
                  ids: list[int] | None = None) -> RoutingBatch:
    """One batch of the routing stage (or only the claims ``ids``), in the caller's transaction."""
    rows = session.execute(claim_work(session, waiting(ids).order_by(CLAIMS.c.id).limit(batch_size))).mappings().all()
    batch = RoutingBatch(taken=len(rows))
    if not rows:
        return batch
    claims = [dict(r) for r in rows]
    repeat = _customers_with_open_claims(session, claims)
    events = events_of(session, [c["id"] for c in claims])
    if model is not None:          # the whole batch in one call to the model
        model = BatchPredictions(model, [text_of(c) for c in claims])
    routed = [route(c, policy, now, repeat.get(c["id"], False), model) for c in claims]
    session.execute(update(CLAIMS).where(CLAIMS.c.id == bindparam("_id"))
                    .values({name: bindparam(f"_{name}") for name in ROUTED_COLUMNS}),
                    [{"_id": c["id"], **{f"_{name}": c[name] for name in ROUTED_COLUMNS}} for c in routed])
    session.execute(insert(ClaimHistory.__table__), [
        {"claim_id": c["id"], "at": now, "actor": "routing", "action": "classified",
         "from_status": Status.REGISTERED.value, "to_status": Status.REGISTERED.value,
         "reason": f"{c['category']} → {c['department']}",
         "data": {"confidence": c["confidence"], "evidence": c["details"]["evidence"]}} for c in routed])
    messages = []
    for c in routed:
        messages.append(outbox_row({**c, "status": Status.ROUTED.value, "routed_at": now}, events[c["id"]], now))
        with bound_claim(c):
            log.info("claim.classified", claim_number=c["claim_number"], event_ids=[e for e, _ in events[c["id"]]],
                     department=c["department"], category=c["category"], priority=c["priority"])
    batch.outbox_ids = insert_rows(session, OUTBOX, messages)
    return batch
