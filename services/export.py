"""``claims export`` and ``quarantine list``: one JSON object a line, in the contract's shapes."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shared.bootstrap import App
from shared.db.models import Claim, QuarantinedEvent


def _iso(value):
    return value.isoformat() if value is not None else None


def exported_claim(claim: Claim) -> dict:
    events = list(claim.events)
    return {
        "claim_number": claim.claim_number,
        "status": claim.status,
        "category": claim.category,
        "department": claim.department,
        "priority": claim.priority,
        "channels": list(dict.fromkeys(e.channel for e in events)),
        "source_event_ids": list(dict.fromkeys(e.event_id for e in events)),
        "customer": {"name": claim.customer_name, "email": claim.customer_email, "phone": claim.customer_phone},
        "order_ref": claim.order_ref,
        "desired_resolution": claim.desired_resolution,
        "received_at": _iso(claim.received_at),
        "deadlines": {"first_response": _iso(claim.first_response_due), "decision": _iso(claim.decision_due),
                      "closure": _iso(claim.closure_due)},
        "escalation_level": claim.escalation_level,
    }


def export_claims(app: App, page: int = 1000) -> Iterator[dict]:
    last = 0
    while True:
        with app.sessions() as session:
            claims = session.scalars(select(Claim).where(Claim.id > last).order_by(Claim.id).limit(page)
                                     .options(selectinload(Claim.events))).all()
            if not claims:
                return
            for claim in claims:
                yield exported_claim(claim)
            last = claims[-1].id


def list_quarantine(app: App, page: int = 1000) -> Iterator[dict]:
    last = 0
    while True:
        with app.sessions() as session:
            rows = session.scalars(select(QuarantinedEvent).where(QuarantinedEvent.id > last)
                                   .order_by(QuarantinedEvent.id).limit(page)).all()
            if not rows:
                return
            for row in rows:
                yield {"event_id": row.event_id, "source": row.source, "reason": row.reason,
                       "message": row.message, "id": row.id, "channel": row.channel,
                       "quarantined_at": _iso(row.quarantined_at)}
            last = rows[-1].id
