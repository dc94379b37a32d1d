"""Running a quarantined event again after the policy or the code was fixed."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake_worker.inbox import accept_lines
from shared.db.models import InboxEvent, QuarantinedEvent


class NotQuarantined(LookupError):
    pass


@dataclass(frozen=True)
class Retry:
    record_id: int
    event_id: str | None
    outcome: str        # "pending" (back in the inbox for intake), "accepted", "redelivered", "quarantined"
    message: str


def retry(session: Session, record_id: int, now, max_bytes: int) -> Retry:
    """In the caller's transaction: an event refused by intake goes back to the inbox as pending;
    an envelope refused at acceptance is accepted again from its kept original (and, if still bad,
    quarantined again with today's reason)."""
    record = session.scalars(select(QuarantinedEvent).where(QuarantinedEvent.id == record_id)
                             .with_for_update()).first()
    if record is None:
        raise NotQuarantined(f"no quarantined event with id {record_id}")
    session.execute(delete(QuarantinedEvent).where(QuarantinedEvent.id == record_id))
    if record.inbox_id is not None:
        session.execute(update(InboxEvent).where(InboxEvent.id == record.inbox_id)
                        .values(status="pending", processed_at=None, claim_id=None,
                                attempts=InboxEvent.attempts + 1))
        return Retry(record_id, record.event_id, "pending", "back in the inbox; intake will take it again")
    session.flush()
    outcome = accept_lines(session, [record.body], now, max_bytes)
    state, _ = outcome.results[0]
    if state == "quarantined":
        again = session.scalars(select(QuarantinedEvent).order_by(QuarantinedEvent.id.desc()).limit(1)).first()
        return Retry(record_id, record.event_id, "quarantined", f"still refused: {again.reason}: {again.message}")
    return Retry(record_id, record.event_id, state, "accepted into the inbox" if state == "accepted"
                 else "its event id is already in the inbox")
