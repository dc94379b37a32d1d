"""What people taught routing: each claim a department sent on to another category, as a labelled
training row. ``claimflow routing corrections > corrections.jsonl`` writes them; ``claimflow routing
train base.jsonl corrections.jsonl`` learns from them with the base data."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Claim, ClaimHistory


def correction_row(claim: Claim, reroute: ClaimHistory) -> dict | None:
    """The training row a reroute makes (pure), or None when it did not change the category."""
    data = reroute.data or {}
    before, after = data.get("from_category"), data.get("to_category")
    if not after or after == before:
        return None
    text = "\n".join(p for p in (claim.subject, claim.description) if p)
    return {"text": text, "category": after, "was": before, "claim_number": claim.claim_number,
            "channel": claim.channel, "language": claim.language, "reason": reroute.reason,
            "at": reroute.at.isoformat(), "source": "reroute"}


def corrections(session: Session, since: datetime | None = None) -> Iterator[dict]:
    """One row per claim whose category a reroute changed: its latest such reroute's category."""
    query = (select(Claim, ClaimHistory).join(ClaimHistory, ClaimHistory.claim_id == Claim.id)
             .where(ClaimHistory.action == "rerouted").order_by(Claim.id, ClaimHistory.id))
    if since is not None:
        query = query.where(ClaimHistory.at >= since)
    latest: dict[int, dict] = {}
    for claim, reroute in session.execute(query):
        row = correction_row(claim, reroute)
        if row is not None:
            latest[claim.id] = row
    yield from latest.values()
