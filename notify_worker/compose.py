"""From a notice's row to what is sent. Pure: a staff row expands into one row per address of its
role (``expand``); a concrete row renders into an :class:`Outgoing` (``compose``)."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from notify_worker.delivery import Outgoing
from shared.notify_policy import NotifyPolicy
from notify_worker.rendering import Templates


def expand(row: Mapping, policy: NotifyPolicy) -> list[dict]:
    """The child rows of a staff notice: one per e-mail address and webhook of its role, in the staff's
    language, each keyed by the parent's key and the address (the same address listed twice: one)."""
    department = (row["context"].get("claim") or {}).get("department")
    who = policy.recipients(row["recipient"], department)
    addresses = [("email", a) for a in who.email] + [("webhook", h.url) for h in who.webhook]
    children = []
    for channel, address in addresses:
        digest = hashlib.sha256(address.encode()).hexdigest()[:16]
        children.append({"idempotency_key": f"{row['idempotency_key']}/{channel}:{digest}",
                         "parent_id": row["id"], "claim_id": row["claim_id"], "claim_number": row["claim_number"],
                         "recipient": row["recipient"], "kind": row["kind"], "channel": channel, "address": address,
                         "language": policy.staff_language, "context": row["context"]})
    return children


def compose(row: Mapping, templates: Templates, *, status_url: str, departments: Mapping[str, str],
            policy: NotifyPolicy) -> Outgoing:
    """Render a concrete notice (RenderError when its template fails)."""
    context = dict(row["context"])
    claim = context.get("claim") or {}
    number = row["claim_number"] or claim.get("claim_number") or ""
    if "target" in context and "due" not in context:
        context["due"] = claim.get(f"{context['target']}_due")
    context.setdefault("thread", {})
    context.update(status_url=status_url.format(claim_number=number), role=row["recipient"],
                   department_title=departments.get(claim.get("department") or ""))
    rendered = templates.render(row["kind"], row["language"], context)
    channel = row["channel"]
    text = (rendered.sms or rendered.text) if channel == "sms" else rendered.text
    headers = {}
    if channel == "webhook":
        who = policy.recipients(row["recipient"], claim.get("department"))
        headers = next((h.headers for h in who.webhook if h.url == row["address"]), {})
    data = {"role": row["recipient"], "department": claim.get("department"), "priority": claim.get("priority"),
            **{k: context[k] for k in ("target", "level", "due") if context.get(k) is not None}}
    return Outgoing(key=row["idempotency_key"], channel=channel, address=row["address"], subject=rendered.subject,
                    text=text, html=rendered.html if channel == "email" else None, kind=row["kind"],
                    claim_number=number or None, thread=context["thread"] if channel == "email" else {},
                    headers=headers, data=data if channel == "webhook" else {})
