"""The message a department receives for a routed claim: versioned JSON, described by
``shared/messaging/schemas/department-claim.v1.json``, enough to act without calling back."""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

SCHEMA = "claimflow.department-claim"
VERSION = 1


def _iso(value):
    return value.isoformat() if value is not None else None


def department_message(claim: Mapping, events: Sequence[tuple[str, str]], message_id: str) -> dict:
    """``claim``: the claims row's columns by name; ``events``: its (event_id, channel) pairs in order.
    ``correlation_id`` (optional in version 1) is there when the claim has one."""
    correlation_id = (claim["details"] or {}).get("correlation_id")
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "message_id": message_id,
        "claim_number": claim["claim_number"],
        "status": claim["status"],
        "category": claim["category"],
        "department": claim["department"],
        "priority": claim["priority"],
        "confidence": claim["confidence"],
        "channels": list(dict.fromkeys(channel for _, channel in events)),
        "source_event_ids": list(dict.fromkeys(event_id for event_id, _ in events)),
        "customer": {"name": claim["customer_name"], "email": claim["customer_email"],
                     "phone": claim["customer_phone"]},
        "order_ref": claim["order_ref"],
        "sku": claim["sku"],
        "purchase_date": _iso(claim["purchase_date"]),
        "subject": claim["subject"],
        "description": claim["description"],
        "desired_resolution": claim["desired_resolution"],
        "language": claim["language"],
        "attachments": (claim["details"] or {}).get("attachments", []),
        "received_at": _iso(claim["received_at"]),
        "registered_at": _iso(claim["registered_at"]),
        "routed_at": _iso(claim["routed_at"]),
        "deadlines": {"first_response": _iso(claim["first_response_due"]), "decision": _iso(claim["decision_due"]),
                      "closure": _iso(claim["closure_due"])},
        "escalation_level": claim["escalation_level"],
        **({"correlation_id": correlation_id} if correlation_id else {}),
    }


def events_of(session, claim_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each claim's (event_id, channel) pairs, oldest first: what its department message lists."""
    from sqlalchemy import select

    from shared.db.models import ClaimEvent
    from shared.db.statements import in_values
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in claim_ids}
    if claim_ids:
        for row in session.execute(select(ClaimEvent.claim_id, ClaimEvent.event_id, ClaimEvent.channel)
                                   .where(in_values(session, ClaimEvent.claim_id, claim_ids)).order_by(ClaimEvent.id)):
            found[row.claim_id].append((row.event_id, row.channel))
    return found


def outbox_row(claim: Mapping, events: Sequence[tuple[str, str]], now) -> dict:
    """The outbox row that carries ``claim`` (its columns by name) to its department's queue, under a
    fresh message id: the one way every stage writes a department message."""
    message_id = str(uuid.uuid4())
    return {"message_id": message_id, "topic": "department", "routing_key": claim["department"],
            "claim_id": claim["id"], "payload": department_message(claim, events, message_id),
            "created_at": now, "published_at": None, "attempts": 0}


def write_department_message(session, claim, now):
    """Writes the department message of an ORM ``claim`` to the outbox (published after the commit);
    returns the OutboxMessage, its id assigned."""
    from shared.db.models import Claim, OutboxMessage
    values = {c.key: getattr(claim, c.key) for c in Claim.__table__.columns}
    message = OutboxMessage(**outbox_row(values, events_of(session, [claim.id])[claim.id], now))
    session.add(message)
    session.flush()
    return message
