"""The intake stage: take a batch of pending inbox events, normalise each, quarantine what
cannot be a claim, register the rest as claims, all in one transaction.

Work is claimed from the database (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number
of intake workers share it, a redelivered message finds nothing left to do, and a crash
leaves the events pending for the next worker."""
from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_worker.channels import NormaliseContext, normalise
from intake_worker.inbox import quarantine_row
from intake_worker.validation import Refused, check_envelope
from shared.claim_number import format_claim_number
from shared.db.models import Claim, ClaimEvent, ClaimHistory, InboxEvent, QuarantinedEvent
from shared.db.statements import claim_work, insert_ignoring_conflicts, reserve_serials
from shared.observability.metrics import CLAIMS_REGISTERED, EVENTS_QUARANTINED
from shared.schema import NormalisedClaim, QuarantineReason, Rejection, Status

log = structlog.get_logger("intake")


@dataclass
class IntakeBatch:
    taken: int = 0
    registered: int = 0
    quarantined: int = 0


def _normalise_row(row: InboxEvent, context: NormaliseContext, max_bytes: int) -> NormalisedClaim | Refused:
    checked = check_envelope(row.body, max_bytes)
    if isinstance(checked, Refused):
        return checked
    try:
        result = normalise(checked, context)
    except Exception as exc:   # noqa: BLE001 - a normaliser bug must set the event aside, not loop it
        log.exception("intake.normaliser_failed", event_id=row.event_id)
        result = Rejection(reason=QuarantineReason.PROCESSING_ERROR,
                           message=f"the {row.channel} normaliser failed ({type(exc).__name__}); "
                                   "retry after a fix")
    if isinstance(result, Rejection):
        return Refused(result, row.body, row.event_id, row.source, row.channel)
    return result


def _new_claim(claim: NormalisedClaim, number: str, row: InboxEvent, now) -> Claim:
    record = Claim(
        claim_number=number, status=Status.REGISTERED.value, channel=claim.channel.value,
        priority="normal", customer_name=claim.customer.name, customer_email=claim.customer.email,
        customer_phone=claim.customer.phone, order_ref=claim.order_ref, sku=claim.sku,
        purchase_date=claim.purchase_date, subject=claim.subject, description=claim.description,
        desired_resolution=claim.desired_resolution.value if claim.desired_resolution else None,
        language=claim.language, received_at=claim.received_at, registered_at=now, updated_at=now,
        escalation_level=0,
        details={"attachments": [a.model_dump(exclude_none=True) for a in claim.attachments],
                 "channel_ids": claim.channel_ids},
    )
    record.events.append(ClaimEvent(inbox_id=row.id, source=row.source, event_id=row.event_id,
                                    channel=row.channel, kind="primary", added_at=now))
    return record


def pending_ids(session: Session, limit: int) -> list[int]:
    return list(session.scalars(select(InboxEvent.id).where(InboxEvent.status == "pending")
                                .order_by(InboxEvent.id).limit(limit)))


def register_pending(session: Session, *, now, batch_size: int, context: NormaliseContext,
                     max_bytes: int, ids: list[int] | None = None) -> IntakeBatch:
    """One batch of the intake stage (the oldest pending events, or those of ``ids`` still
    pending), in the caller's transaction."""
    query = select(InboxEvent).where(InboxEvent.status == "pending")
    if ids is not None:
        query = query.where(InboxEvent.id.in_(ids))
    rows = session.scalars(claim_work(session, query.order_by(InboxEvent.id).limit(batch_size))).all()
    batch = IntakeBatch(taken=len(rows))
    claims: list[tuple[InboxEvent, NormalisedClaim]] = []
    quarantine = []
    for row in rows:
        result = _normalise_row(row, context, max_bytes)
        row.processed_at = now
        if isinstance(result, Refused):
            row.status = "quarantined"
            quarantine.append(quarantine_row(result, now, inbox_id=row.id))
            EVENTS_QUARANTINED.labels(row.channel, result.rejection.reason.value).inc()
            log.info("event.quarantined", event_id=row.event_id, reason=result.rejection.reason.value)
        else:
            claims.append((row, result))
    if quarantine:
        session.execute(insert_ignoring_conflicts(session, QuarantinedEvent.__table__), quarantine)
        batch.quarantined = len(quarantine)
    serials = reserve_serials(session, now.year, len(claims))
    for (row, claim), serial in zip(claims, serials):
        record = _new_claim(claim, format_claim_number(now.year, serial), row, now)
        session.add(record)
        row.status, row.claim = "registered", record
        session.add(ClaimHistory(claim=record, at=now, actor="intake", action="registered",
                                 from_status=None, to_status=Status.REGISTERED.value,
                                 reason=f"{row.channel} event {row.event_id}", data={}))
        CLAIMS_REGISTERED.labels(row.channel).inc()
        log.info("claim.registered", event_id=row.event_id, claim_number=record.claim_number,
                 channel=row.channel)
    batch.registered = len(claims)
    return batch


def quarantine_failed(session: Session, inbox_id: int, error: Exception, now) -> bool:
    """Set aside an event whose registration fails on its own (after its batch failed), so that
    it cannot block the events behind it. Returns False if it is no longer pending."""
    row = session.scalars(claim_work(session, select(InboxEvent).where(InboxEvent.id == inbox_id,
                                                                       InboxEvent.status == "pending"))).first()
    if row is None:
        return False
    rejection = Rejection(reason=QuarantineReason.PROCESSING_ERROR,
                          message=f"registering the event failed ({type(error).__name__}); retry after a fix")
    row.status, row.processed_at = "quarantined", now
    session.execute(insert_ignoring_conflicts(session, QuarantinedEvent.__table__),
                    [quarantine_row(Refused(rejection, row.body, row.event_id, row.source, row.channel), now,
                                    inbox_id=row.id)])
    EVENTS_QUARANTINED.labels(row.channel, rejection.reason.value).inc()
    log.error("event.quarantined", event_id=row.event_id, reason=rejection.reason.value, error=repr(error)[:300])
    return True
