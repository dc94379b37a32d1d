"""Writing notices in the caller's transaction: ``notify_customer``, ``notify_staff`` and, for a
batch of claims that became routed, ``notify_routed``.

Call them in the same transaction as the change that causes the notice (a transactional outbox):
the notice exists exactly when the change does. Each row carries a deterministic idempotency key
and the table is unique on it, so writing the same notice twice (a redelivered change) writes one
row. ``context["discriminator"]`` tells apart two notices of one kind on one claim (a second
request for information, a decision after a reopening): pass the decision's or execution's id, or
the history row's. ``conn`` is a SQLAlchemy ``Connection`` or ``Session``; ``claim`` a mapping of
the claims-table columns, or a ``Claim`` row.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from notify_worker.audience import (CUSTOMER_KINDS, STAFF_KINDS, STAFF_ROLES, customer_route, field, language_of,
                                    level_name, staff_roles, thread_of)
from shared.db.models import Notification
from shared.observability.correlation import of_claim

T = Notification.__table__
#: the claims-table columns a template may use, copied into the notice when it is written
CLAIM_FIELDS = ("claim_number", "status", "channel", "category", "department", "priority", "desired_resolution",
                "customer_name", "order_ref", "subject", "received_at", "first_response_due", "decision_due",
                "closure_due", "escalation_level")


def notify_customer(conn, claim: Mapping[str, Any], kind: str, now: datetime,
                    context: Mapping | None = None) -> int | None:
    """Write a notice of ``kind`` (registered, information_requested, decided, executed, closed,
    reopened) to the claim's customer; its id (the existing row's for a repeat), or None when the
    claim has no e-mail or phone."""
    _flush(conn)
    values = customer_values(claim, kind, now, context)
    return None if values is None else insert_once(conn, values)


def notify_staff(conn, claim: Mapping[str, Any], kind: str, now: datetime, *, audience: Sequence[str] = (),
                 context: Mapping | None = None) -> list[int]:
    """Write a notice of ``kind`` (new_claim, sla_warning, escalation; ``context`` carries ``target``
    and ``level``: "warning", 1, 2, 3) to each staff role of ``audience``, by default the roles the
    ladder names for the level; their ids. The worker sends each to the e-mail addresses and webhooks
    the policy file's ``notifications:`` section gives the role."""
    _flush(conn)
    return [insert_once(conn, values) for values in staff_values(claim, kind, now, audience, context)]


def notify_routed(conn, claims: Iterable[Mapping[str, Any]], now: datetime) -> None:
    """For claims that just became routed: ``registered`` to each customer and ``new_claim`` to each
    department's queue and lead, written in one statement (a routing batch's worth)."""
    _flush(conn)
    rows = []
    for claim in claims:
        customer = customer_values(claim, "registered", now)
        rows += ([customer] if customer else []) + staff_values(claim, "new_claim", now)
    insert_many(conn, rows)


def customer_values(claim, kind: str, now: datetime, context: Mapping | None = None) -> dict | None:
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer notice {kind!r}; one of {', '.join(CUSTOMER_KINDS)}")
    route = customer_route(claim)
    if route is None:
        return None
    context = dict(context or {})
    channel, address = route
    if channel == "email":
        context["thread"] = thread_of(claim)
    return _values(claim, key=_key(field(claim, "claim_number"), kind, context.get("discriminator", 0)),
                   recipient="customer", kind=kind, channel=channel, address=address, context=context, now=now)


def staff_values(claim, kind: str, now: datetime, audience: Sequence[str] = (),
                 context: Mapping | None = None) -> list[dict]:
    if kind not in STAFF_KINDS:
        raise ValueError(f"unknown staff notice {kind!r}; one of {', '.join(STAFF_KINDS)}")
    context = dict(context or {})
    roles = tuple(audience) or staff_roles(kind, context.get("level"))
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if unknown:
        raise ValueError(f"unknown staff role(s) {unknown}; one of {', '.join(STAFF_ROLES)}")
    if kind == "new_claim":
        what = (field(claim, "department") or "", context.get("discriminator", 0))
    else:
        context["level"] = "warning" if kind == "sla_warning" else level_name(context.get("level"))
        what = (context.get("target", ""), context["level"])
    return [_values(claim, key=_key(field(claim, "claim_number"), kind, *what, role), recipient=role, kind=kind,
                    channel=None, address=None, context=context, now=now) for role in roles]


def _key(*parts: Any) -> str:
    return "/".join(str(p) for p in parts)[:200]


def plain(value: Any) -> Any:
    """A JSON document's value: times and dates in ISO 8601, amounts as text."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _values(claim, *, key: str, recipient: str, kind: str, channel: str | None, address: str | None,
            context: dict, now: datetime) -> dict:
    return {"idempotency_key": key, "parent_id": None, "claim_id": field(claim, "id"),
            "claim_number": field(claim, "claim_number"), "recipient": recipient, "kind": kind,
            "channel": channel, "address": address, "language": language_of(claim),
            "context": plain({"claim": {name: field(claim, name) for name in CLAIM_FIELDS},
                              "correlation_id": of_claim(claim), **context}),
            "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
            "created_at": now, "sent_at": None}


def _flush(conn) -> None:
    if hasattr(conn, "flush"):      # a Session: its pending rows (the claim, its id) first
        conn.flush()


def _insert(conn):
    bind = conn.get_bind() if hasattr(conn, "get_bind") else conn
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(T).on_conflict_do_nothing(index_elements=["idempotency_key"])


def insert_once(conn, values: dict) -> int:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING; the new row's id, or the existing one's."""
    new_id = conn.execute(_insert(conn).values(**values).returning(T.c.id)).scalar()
    if new_id is not None:
        return new_id
    return conn.execute(select(T.c.id).where(T.c.idempotency_key == values["idempotency_key"])).scalar_one()


def insert_many(conn, rows: list[dict]) -> None:
    """The same for many rows, in one executemany; repeats are skipped."""
    if rows:
        conn.execute(_insert(conn), rows)
