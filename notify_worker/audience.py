"""Who is told what (``policy.md``): which staff roles a staff notice goes to, and which channel
and address of the customer's a customer notice goes to. Pure."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CUSTOMER_KINDS = ("registered", "information_requested", "decided", "executed", "closed", "reopened")
STAFF_KINDS = ("new_claim", "sla_warning", "escalation")
STAFF_ROLES = ("department_queue", "department_lead", "head_of_claims", "management")

#: the escalation ladder of policy.md: warning → the department's queue and lead; level 1 → the
#: department's lead; level 2 → the head of the claims department; level 3 → management
LADDER: dict[str, tuple[str, ...]] = {
    "warning": ("department_queue", "department_lead"),
    "1": ("department_lead",),
    "2": ("head_of_claims",),
    "3": ("management",),
}
NEW_CLAIM = ("department_queue", "department_lead")


def level_name(level: Any) -> str:
    """``warning`` for a warning (``"warning"``, 0 or None), else the level as text (``"1"``…)."""
    if level in (None, 0, "0", "warning"):
        return "warning"
    return str(int(level))


def staff_roles(kind: str, level: Any = None) -> tuple[str, ...]:
    if kind == "new_claim":
        return NEW_CLAIM
    if kind == "sla_warning":
        return LADDER["warning"]
    if kind == "escalation":
        name = level_name(level)
        if name not in LADDER:
            raise ValueError(f"escalation level {level!r} is not on the ladder (warning, 1, 2, 3)")
        return LADDER[name]
    raise ValueError(f"unknown staff notice {kind!r}; one of {', '.join(STAFF_KINDS)}")


def field(claim: Mapping[str, Any] | Any, name: str, default: Any = None) -> Any:
    """A claims-table column of a mapping or of a ``Claim`` row."""
    if isinstance(claim, Mapping):
        return claim.get(name, default)
    return getattr(claim, name, default)


def customer_route(claim: Mapping[str, Any] | Any) -> tuple[str, str] | None:
    """(channel, address) of a customer notice: the channel the customer used where that makes sense
    (e-mail for an e-mail claim, SMS for a call), else the e-mail, else the phone on file; None when
    the claim has neither."""
    email, phone = field(claim, "customer_email"), field(claim, "customer_phone")
    channel = str(getattr(field(claim, "channel"), "value", field(claim, "channel")) or "")
    if channel == "phone" and phone:
        return "sms", phone
    if email:
        return "email", email
    if phone:
        return "sms", phone
    return None


def language_of(claim: Mapping[str, Any] | Any) -> str:
    """``ru`` or ``en``: the claim's language, else Russian when its text has Cyrillic letters."""
    lang = str(field(claim, "language") or "").lower()
    if lang.startswith("en"):
        return "en"
    if lang.startswith("ru"):
        return "ru"
    text = f"{field(claim, 'subject') or ''} {field(claim, 'description') or ''}"
    latin = sum(c.isascii() and c.isalpha() for c in text)
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in text)
    return "en" if latin > cyrillic else "ru"


def thread_of(claim: Mapping[str, Any] | Any) -> dict[str, str]:
    """For an e-mail claim, what a reply in its thread needs: the Message-ID it came with (without
    <>, as intake keeps it in ``details.channel_ids``) and its subject."""
    if str(getattr(field(claim, "channel"), "value", field(claim, "channel")) or "") != "email":
        return {}
    details = field(claim, "details") or {}
    message_id = ((details.get("channel_ids") or {}).get("message_id") or "").strip().strip("<>")
    if not message_id or message_id.startswith("sha256:"):     # a Message-ID intake made up itself
        return {}
    return {"in_reply_to": message_id, "subject": field(claim, "subject") or ""}
