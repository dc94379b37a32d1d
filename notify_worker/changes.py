"""Which customer notice a department's change of a claim causes (``services/departments``). Pure."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Notice(NamedTuple):
    kind: str
    context: dict


def customer_notice(action: str, reason: str | None, data: dict, now: datetime) -> Notice | None:
    """The notice of a history ``action`` with its ``data`` (the change's data plus the ids of the rows
    it wrote), or None when the customer is not told of it. The discriminator is the decision's or
    execution's id, else the moment of the change: one notice per change."""
    if action == "information_requested":
        return Notice("information_requested", {"question": data.get("question") or reason or "",
                                                "discriminator": now.isoformat()})
    if action in ("decided", "rejected"):
        return Notice("decided", {"resolution": data.get("resolution") or "rejected", "amount": data.get("amount"),
                                  "currency": data.get("currency"), "reason": reason,
                                  "discriminator": data.get("decision_id") or now.isoformat()})
    if action == "executed":
        return Notice("executed", {"discriminator": data.get("execution_id") or now.isoformat()})
    return None
