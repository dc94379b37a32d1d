"""Undoing a wrong merge: ``claimflow claims split NUMBER EVENT_ID`` moves one merged event out
of a claim into a new claim of its own, with history on both. The new claim is routed as any
other; the old claim's dedupe keys are rebuilt from the events it keeps."""
from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from intake_worker.channels import NormaliseContext
from intake_worker.dedupe import keys_of
from intake_worker.dedupe_store import store_keys
from intake_worker.registration import _normalise_row, claim_values
from shared.claim_number import format_claim_number
from shared.db.models import Claim, ClaimEvent, ClaimHistory, ClaimKey, InboxEvent
from shared.db.statements import insert_rows, reserve_serials
from shared.schema import NormalisedClaim, Status


class SplitRefused(ValueError):
    pass


def _claims_of_events(session: Session, claim_id: int, context, max_bytes) -> list[tuple[ClaimEvent, NormalisedClaim]]:
    pairs = []
    for event, inbox in session.execute(select(ClaimEvent, InboxEvent).join(InboxEvent, InboxEvent.id == ClaimEvent.inbox_id)
                                        .where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)).all():
        normalised = _normalise_row(inbox, context, max_bytes)
        if isinstance(normalised, NormalisedClaim):
            pairs.append((event, normalised))
    return pairs


def split(session: Session, claim_number: str, event_id: str, *, now, context: NormaliseContext, max_bytes: int,
          actor: str, reason: str | None) -> str:
    """Move ``event_id`` out of claim ``claim_number`` into a new claim; returns the new number."""
    claim = session.scalars(select(Claim).where(Claim.claim_number == claim_number).with_for_update()).first()
    if claim is None:
        raise SplitRefused(f"no claim {claim_number}")
    events = _claims_of_events(session, claim.id, context, max_bytes)
    moving = [(e, c) for e, c in events if e.event_id == event_id]
    if not moving:
        raise SplitRefused(f"event {event_id} is not on claim {claim_number}")
    event, normalised = moving[0]
    if event.kind == "primary":
        raise SplitRefused(f"event {event_id} is the one {claim_number} was opened from; split the others out instead")
    [serial] = reserve_serials(session, now.year, 1)
    number = format_claim_number(now.year, serial)
    [new_id] = insert_rows(session, Claim.__table__, [claim_values(normalised, number, now)])
    session.execute(update(ClaimEvent).where(ClaimEvent.id == event.id).values(claim_id=new_id, kind="primary"))
    session.execute(update(InboxEvent).where(InboxEvent.id == event.inbox_id)
                    .values(claim_id=new_id, status="registered"))
    session.execute(delete(ClaimKey).where(ClaimKey.claim_id == claim.id))
    store_keys(session, [(claim.id, k) for e, c in events if e.id != event.id for k in keys_of(c)]
               + [(new_id, k) for k in keys_of(normalised)])
    why = reason or "split by hand"
    session.execute(insert(ClaimHistory.__table__), [
        {"claim_id": claim.id, "at": now, "actor": actor, "action": "split", "from_status": None, "to_status": None,
         "reason": f"event {event_id} moved to {number}: {why}", "data": {"event_id": event_id, "to": number}},
        {"claim_id": new_id, "at": now, "actor": actor, "action": "registered", "from_status": None,
         "to_status": Status.REGISTERED.value, "reason": f"split from {claim_number}: {why}",
         "data": {"event_id": event_id, "from": claim_number}}])
    claim.updated_at = now
    return number
