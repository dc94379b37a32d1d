"""The intake stage: take a batch of pending inbox events, normalise each, quarantine what
cannot be a claim, register the rest as claims, all in one transaction.

Work is claimed from the database (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number
of intake workers share it, a redelivered message finds nothing left to do, and a crash
leaves the events pending for the next worker. Rows are written with one executemany per
table, not one statement per claim."""
from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from intake_worker.blobs import BlobStore
from intake_worker.channels import NormaliseContext, normalise
from intake_worker.dedupe import DedupeRules, keys_of
from intake_worker.dedupe_store import CandidateIndex, load_candidates, lock, store_keys, wait_for_older
from intake_worker.inbox import quarantine_row
from intake_worker.merging import BatchPlan, Placement, contact_additions, plan_batch
from intake_worker.validation import Refused, check_envelope
from shared.claim_number import format_claim_number
from shared.db.models import Claim, ClaimEvent, ClaimHistory, InboxEvent, QuarantinedEvent
from shared.db.statements import claim_work, in_values, insert_ignoring_conflicts, insert_rows, reserve_serials
from shared.observability import correlation
from shared.observability.metrics import CLAIMS_REGISTERED, EVENTS_MERGED, EVENTS_QUARANTINED, INTAKE_OUTCOMES
from shared.schema import Ignored, NormalisedClaim, QuarantineReason, Rejection, Status

log = structlog.get_logger("intake")
INBOX, CLAIMS = InboxEvent.__table__, Claim.__table__
EVENT_TEXT_KEPT = 4000    # enough of each event's words for dedupe to compare


@dataclass
class IntakeBatch:
    taken: int = 0
    registered: int = 0
    merged: int = 0
    quarantined: int = 0
    ignored: int = 0


def _normalise_row(row, context: NormaliseContext, max_bytes: int) -> NormalisedClaim | Refused | Ignored:
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
    return result   # a claim, or an Ignored automatic reply


def claim_values(claim: NormalisedClaim, number: str, now) -> dict:
    """The claims row of a newly registered claim."""
    return {
        "claim_number": number, "status": Status.REGISTERED.value, "channel": claim.channel.value,
        "category": None, "department": None, "priority": "normal", "confidence": None,
        "customer_name": claim.customer.name, "customer_email": claim.customer.email,
        "customer_phone": claim.customer.phone, "order_ref": claim.order_ref, "sku": claim.sku,
        "purchase_date": claim.purchase_date, "subject": claim.subject, "description": claim.description,
        "desired_resolution": claim.desired_resolution.value if claim.desired_resolution else None,
        "language": claim.language, "received_at": claim.received_at, "registered_at": now, "updated_at": now,
        "routed_at": None, "first_response_due": None, "decision_due": None, "closure_due": None,
        "escalation_level": 0,
        "details": {"attachments": [a.model_dump(exclude_none=True) for a in claim.attachments],
                    "channel_ids": claim.channel_ids, "source": claim.source,
                    "reason_codes": list(claim.reason_codes)},
    }


def pending_ids(session: Session, limit: int) -> list[int]:
    return list(session.scalars(select(INBOX.c.id).where(INBOX.c.status == "pending")
                                .order_by(INBOX.c.id).limit(limit)))


def register_pending(session: Session, *, now, batch_size: int, context: NormaliseContext, max_bytes: int,
                     rules: DedupeRules = DedupeRules(), blobs: BlobStore | None = None,
                     ids: list[int] | None = None, order_wait: float = 0.0) -> IntakeBatch:
    """One batch of the intake stage (the oldest pending events, or those of ``ids`` still
    pending), in the caller's transaction."""
    query = select(INBOX.c.id, INBOX.c.source, INBOX.c.event_id, INBOX.c.channel, INBOX.c.body) \
        .where(INBOX.c.status == "pending")
    if ids is not None:
        query = query.where(in_values(session, INBOX.c.id, ids))
    rows = session.execute(claim_work(session, query.order_by(INBOX.c.id).limit(batch_size))).all()
    batch = IntakeBatch(taken=len(rows))
    if not rows:
        return batch
    claims, quarantine, outcomes = [], [], []
    for row in rows:
        result = _normalise_row(row, context, max_bytes)
        if isinstance(result, Refused):
            quarantine.append(quarantine_row(result, now, inbox_id=row.id))
            outcomes.append({"_id": row.id, "_status": "quarantined", "_claim": None})
            EVENTS_QUARANTINED.labels(row.channel, result.rejection.reason.value).inc()
            log.info("event.quarantined", event_id=row.event_id, reason=result.rejection.reason.value,
                     correlation_id=correlation.of_event(row.body, row.source, row.event_id))
        elif isinstance(result, Ignored):
            outcomes.append({"_id": row.id, "_status": "ignored", "_claim": None})
            batch.ignored += 1
            log.info("event.ignored", event_id=row.event_id, reason=result.reason,
                     correlation_id=correlation.of_event(row.body, row.source, row.event_id))
        else:
            claims.append((row, result))
    if quarantine:
        session.execute(insert_ignoring_conflicts(session, QuarantinedEvent.__table__), quarantine)
        batch.quarantined = len(quarantine)
    if claims:
        if blobs is not None:
            _keep_attachments(blobs, claims)
        keys = set().union(*(keys_of(claim) for _, claim in claims))
        wait_for_older(session, rows[0].id, order_wait)
        lock(session, keys)
        plan = plan_batch(claims, CandidateIndex(load_candidates(session, keys)), rules)
        outcomes += _persist(session, plan, now)
        batch.registered, batch.merged = len(plan.new), len(plan.merged)
    channels = {row.id: row.channel for row in rows}
    for outcome in outcomes:
        INTAKE_OUTCOMES.labels(channels[outcome["_id"]], outcome["_status"]).inc()
    session.execute(update(INBOX).where(INBOX.c.id == bindparam("_id"))
                    .values(status=bindparam("_status"), claim_id=bindparam("_claim"), processed_at=now),
                    outcomes)
    return batch


def _keep_attachments(blobs: BlobStore, claims) -> None:
    for _, claim in claims:
        for attachment in claim.attachments:
            if attachment.content is not None:
                blobs.put(attachment.content)


def _persist(session: Session, plan: BatchPlan, now) -> list[dict]:
    """Write the plan: new claims, every event's link and keys, merges, history."""
    new = plan.new
    values = {p.target: claim_values(p.claim, "", now) for p in new}
    ids = {p.row.id: correlation.of_event(p.row.body, p.row.source, p.row.event_id) for p in plan.placements}
    for p in new:                              # a claim keeps the id of its first event
        values[p.target]["details"]["correlation_id"] = ids[p.row.id]
    for p in plan.merged:
        if p.target < 0:                       # joins a claim this batch makes: fill it before insert
            row = values[p.target]
            for column, value in contact_additions(p.claim).items():
                row[column] = row[column] or value
    serials = reserve_serials(session, now.year, len(new))
    for p, serial in zip(new, serials):
        values[p.target]["claim_number"] = format_claim_number(now.year, serial)
    real_ids = dict(zip([p.target for p in new], insert_rows(session, CLAIMS, [values[p.target] for p in new])))

    def claim_id(p: Placement) -> int:
        return real_ids.get(p.target, p.target)

    session.execute(insert(ClaimEvent.__table__), [
        {"claim_id": claim_id(p), "inbox_id": p.row.id, "source": p.row.source, "event_id": p.row.event_id,
         "channel": p.row.channel, "kind": "primary" if p.match is None else "merged",
         "received_at": p.claim.received_at, "text": p.claim.text[:EVENT_TEXT_KEPT], "added_at": now}
        for p in plan.placements])
    store_keys(session, [(claim_id(p), key) for p in plan.placements for key in p.keys])
    stored_merges = [p for p in plan.merged if p.target > 0]
    if stored_merges:
        _fill_stored_claims(session, stored_merges, now)
    session.execute(insert(ClaimHistory.__table__), [_history(p, claim_id(p), now) for p in plan.placements])
    for p in plan.placements:
        number = values[p.target]["claim_number"] if p.target < 0 else None
        with correlation.bound_event(p.row.event_id, ids[p.row.id]):     # a merged event: its own id
            if p.match is None:
                CLAIMS_REGISTERED.labels(p.row.channel).inc()
                log.info("claim.registered", event_id=p.row.event_id, claim_number=number, channel=p.row.channel)
            else:
                EVENTS_MERGED.labels(p.row.channel).inc()
                log.info("event.merged", event_id=p.row.event_id, claim_id=claim_id(p), rule=p.match.rule,
                         channel=p.row.channel)
    return [{"_id": p.row.id, "_status": "registered" if p.match is None else "merged", "_claim": claim_id(p)}
            for p in plan.placements]


def _fill_stored_claims(session: Session, merges: list[Placement], now) -> None:
    """A merged event fills in what its claim lacked (a phone, an e-mail, the order); it never
    overwrites what the customer said first."""
    columns = ("customer_name", "customer_email", "customer_phone", "order_ref", "sku")
    session.execute(update(CLAIMS).where(CLAIMS.c.id == bindparam("_id")).values(
        {c: func.coalesce(CLAIMS.c[c], bindparam(f"_{c}")) for c in columns} | {"updated_at": now}),
        [{"_id": p.target, **{f"_{c}": contact_additions(p.claim).get(c) for c in columns}} for p in merges])


def _history(p: Placement, claim_id: int, now) -> dict:
    if p.match is None:
        return {"claim_id": claim_id, "at": now, "actor": "intake", "action": "registered", "from_status": None,
                "to_status": Status.REGISTERED.value, "reason": f"{p.row.channel} event {p.row.event_id}", "data": {}}
    return {"claim_id": claim_id, "at": now, "actor": "intake", "action": "merged", "from_status": None,
            "to_status": None, "reason": f"{p.row.channel} event {p.row.event_id}: {p.match.why} (rule {p.match.rule})",
            "data": {"event_id": p.row.event_id, "channel": p.row.channel, "rule": p.match.rule,
                     "contact": sorted(contact_additions(p.claim)),
                     "attachments": [a.model_dump(exclude_none=True) for a in p.claim.attachments]}}


def quarantine_failed(session: Session, inbox_id: int, error: Exception, now) -> bool:
    """Set aside an event whose registration fails on its own (after its batch failed), so that
    it cannot block the events behind it. Returns False if it is no longer pending."""
    row = session.execute(claim_work(session, select(INBOX.c.id, INBOX.c.source, INBOX.c.event_id,
                                                     INBOX.c.channel, INBOX.c.body)
                                     .where(INBOX.c.id == inbox_id, INBOX.c.status == "pending"))).first()
    if row is None:
        return False
    rejection = Rejection(reason=QuarantineReason.PROCESSING_ERROR,
                          message=f"registering the event failed ({type(error).__name__}); retry after a fix")
    session.execute(update(INBOX).where(INBOX.c.id == inbox_id).values(status="quarantined", processed_at=now))
    session.execute(insert_ignoring_conflicts(session, QuarantinedEvent.__table__),
                    [quarantine_row(Refused(rejection, row.body, row.event_id, row.source, row.channel), now,
                                    inbox_id=row.id)])
    EVENTS_QUARANTINED.labels(row.channel, rejection.reason.value).inc()
    log.error("event.quarantined", event_id=row.event_id, reason=rejection.reason.value, error=repr(error)[:300])
    return True
