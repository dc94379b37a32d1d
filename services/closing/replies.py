"""Answers "by replying": a customer's message that intake merged into a claim waiting for the
answer (executed or rejected) or recently closed — an e-mail reply in the claim's thread, a second
call — is the customer's answer. A score in it ("5", "оценка 4") is a survey score; a reply with
none is read by the policy's ``reply_without_score`` (a dispute by default)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.closing.satisfaction import AWAITING, Answer, answer_of, score_in_reply
from shared.db.models import Claim, ClaimEvent, ClaimHistory
from shared.schema import Status

LISTENING = tuple(s.value for s in AWAITING | {Status.CLOSED})


def claims_with_replies(session: Session, since: datetime) -> list[int]:
    """Claims that may have a customer's reply to answer for: merged events added after ``since``."""
    query = (select(ClaimEvent.claim_id).join(Claim, Claim.id == ClaimEvent.claim_id)
             .where(ClaimEvent.kind == "merged", ClaimEvent.added_at > since, Claim.status.in_(LISTENING))
             .distinct())
    return list(session.scalars(query))


def unanswered_replies(session: Session, claim_id: int, since: datetime) -> list[Answer]:
    """The replies added to the claim after ``since`` that no history row has answered for yet."""
    answered = {(h.get("answer") or {}).get("event_id")
                for h in session.scalars(select(ClaimHistory.data).where(ClaimHistory.claim_id == claim_id))}
    events = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id, ClaimEvent.kind == "merged",
                                                      ClaimEvent.added_at > since)
                             .order_by(ClaimEvent.id)).all()
    return [answer_of(score_in_reply(e.text), e.text, via="reply", event_id=e.event_id)
            for e in events if e.event_id not in answered]
