"""The departments' API on the database: find a claim the key may see, apply a change from
``transitions`` under a row lock (SELECT … FOR UPDATE) in one transaction with its history row,
decision, execution or outbox message, and publish a rerouted claim's message after the commit."""
from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify_worker.changes import customer_notice
from notify_worker.enqueue import notify_customer, notify_staff
from routing_worker.department_message import write_department_message
from services.closing.closing import survey_link
from services.departments.keys import Principal
from services.departments.transitions import Change, may_access
from shared.bootstrap import App
from shared.claim_number import parse_claim_number
from shared.db.models import Claim, ClaimDecision, ClaimExecution, ClaimHistory
from shared.observability.logging import bound_claim
from shared.observability.metrics import CLAIMS_REROUTED
from sla_worker.retiming import record_transition, retime

log = structlog.get_logger("departments")


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


def _iso(value):
    return value.isoformat() if value is not None else None


def summary(claim: Claim) -> dict:
    return {"claim_number": claim.claim_number, "status": claim.status, "category": claim.category,
            "department": claim.department, "priority": claim.priority, "channel": claim.channel,
            "customer": {"name": claim.customer_name, "email": claim.customer_email, "phone": claim.customer_phone},
            "order_ref": claim.order_ref, "sku": claim.sku, "purchase_date": _iso(claim.purchase_date),
            "subject": claim.subject, "description": claim.description,
            "desired_resolution": claim.desired_resolution, "received_at": _iso(claim.received_at),
            "routed_at": _iso(claim.routed_at), "updated_at": _iso(claim.updated_at),
            "deadlines": {"first_response": _iso(claim.first_response_due), "decision": _iso(claim.decision_due),
                          "closure": _iso(claim.closure_due)},
            "escalation_level": claim.escalation_level}


def detail(session: Session, claim: Claim) -> dict:
    def rows(model, order):
        return session.scalars(select(model).where(model.claim_id == claim.id).order_by(order)).all()

    return {**summary(claim),
            "decisions": [{"resolution": d.resolution, "amount": None if d.amount is None else str(d.amount),
                           "currency": d.currency, "reason": d.reason, "decided_by": d.decided_by,
                           "decided_at": _iso(d.decided_at)} for d in rows(ClaimDecision, ClaimDecision.id)],
            "executions": [{"evidence": e.evidence, "executed_by": e.executed_by, "executed_at": _iso(e.executed_at)}
                           for e in rows(ClaimExecution, ClaimExecution.id)],
            "history": [{"at": _iso(h.at), "actor": h.actor, "action": h.action, "from_status": h.from_status,
                         "to_status": h.to_status, "reason": h.reason} for h in rows(ClaimHistory, ClaimHistory.id)]}


def _claim(session: Session, principal: Principal, number: str, *, lock: bool) -> Claim:
    """The claim, if the key may see it: NotFound for a malformed or unknown number, else Forbidden."""
    if parse_claim_number(number) is None:
        raise NotFound(number)
    query = select(Claim).where(Claim.claim_number == number.strip())
    claim = session.scalar(query.with_for_update() if lock else query)
    if claim is None:
        raise NotFound(number)
    if not may_access(principal.is_admin, principal.department, claim.department):
        raise Forbidden(number)
    return claim


def get_claim(app: App, principal: Principal, number: str) -> dict:
    with app.sessions() as session:
        return detail(session, _claim(session, principal, number, lock=False))


def list_claims(app: App, principal: Principal, *, status: str | None, department: str | None,
                after: int, limit: int) -> dict:
    """A page of the claims the key may see, by id: its department's, or (an administrator) all."""
    if not principal.is_admin and department not in (None, principal.department):
        raise Forbidden(department)
    department = department if principal.is_admin else principal.department
    query = select(Claim).where(Claim.id > after).order_by(Claim.id).limit(limit)
    if department:
        query = query.where(Claim.department == department)
    if status:
        query = query.where(Claim.status == status)
    with app.sessions() as session:
        claims = session.scalars(query).all()
    return {"claims": [summary(c) for c in claims],
            "next_after": claims[-1].id if len(claims) == limit else None}


def _record(session: Session, claim: Claim, change: Change, principal: Principal, now,
            app: App | None = None) -> tuple[dict, int | None]:
    """The rows that come with the change; returns extra history data and a new outbox row's id."""
    data, outbox_id = {}, None
    if change.decision is not None:
        d = change.decision
        row = ClaimDecision(claim_id=claim.id, resolution=d.resolution, amount=d.amount, currency=d.currency,
                            reason=d.reason, decided_by=principal.actor, department=claim.department, decided_at=now)
        session.add(row)
        session.flush()
        data["decision_id"] = row.id
    if change.evidence is not None:
        decision_id = session.scalar(select(func.max(ClaimDecision.id)).where(ClaimDecision.claim_id == claim.id))
        row = ClaimExecution(claim_id=claim.id, decision_id=decision_id, evidence=change.evidence,
                             executed_by=principal.actor, department=claim.department, executed_at=now)
        session.add(row)
        session.flush()
        data["execution_id"] = row.id
    if change.department is not None:
        CLAIMS_REROUTED.labels(claim.department or "none", change.department).inc()
        claim.department, claim.routed_at = change.department, now
        claim.category = change.category or claim.category
        claim.status, claim.updated_at = change.target.value, now
        session.flush()
        message = write_department_message(session, claim, now)
        message_id = message.message_id
        data["message_id"], outbox_id = message_id, message.id
        # the new department's queue and lead hear of the claim as of a new one
        notify_staff(session, claim, "new_claim", now, context={"discriminator": message_id})
    notice = customer_notice(change.action, change.reason, {**change.data, **data}, now)
    if notice is not None:      # in this transaction: the customer is told exactly when the change is made
        context = dict(notice.context)
        finished = change.action == "executed" or change.target.value == "rejected"
        if finished and app is not None:     # the claim's work is done: ask the customer how it went
            context["survey_url"] = survey_link(app, session, claim, now)
        notify_customer(session, claim, notice.kind, now, context)
    return data, outbox_id


def change_claim(app: App, principal: Principal, number: str, make: Callable[[Claim], Change]) -> dict:
    """Apply ``make(claim)`` (a pure ``transitions`` function) to the locked claim, with its history row."""
    now = app.clock.now()
    with app.sessions.begin() as session:
        claim = _claim(session, principal, number, lock=True)
        change = make(claim)
        previous = claim.status
        data = {**change.data, **record_transition(claim, change.target, now)}
        extra, outbox_id = _record(session, claim, change, principal, now, app)
        claim.status, claim.updated_at = change.target.value, now
        retime(session, claim, app.policy)
        session.add(ClaimHistory(claim_id=claim.id, at=now, actor=principal.actor, action=change.action,
                                 from_status=previous, to_status=change.target.value, reason=change.reason,
                                 data={**data, **extra, "by": principal.as_data()}))
        session.flush()
        answer = detail(session, claim)
    with bound_claim(claim):
        log.info("claim.changed", claim_number=claim.claim_number, action=change.action, from_status=previous,
                 to_status=change.target.value, key_id=principal.key_id, department=claim.department)
        if outbox_id is not None:
            _publish(app, outbox_id)
    return answer


def _publish(app: App, outbox_id: int) -> None:
    """After the commit. A failure loses nothing: the message waits in the outbox for the relay's re-drive."""
    try:
        app.relay.publish_pending([outbox_id])
    except Exception as exc:   # noqa: BLE001 - the outbox stage publishes it later
        log.warning("departments.publish_failed", outbox_id=outbox_id, error=type(exc).__name__)
