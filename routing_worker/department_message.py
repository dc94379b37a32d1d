"""The message a department receives for a routed claim: versioned JSON, described by
``shared/messaging/schemas/department-claim.v1.json``, enough to act without calling back."""
from __future__ import annotations

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
