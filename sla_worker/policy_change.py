"""When the policy or a calendar changes, re-time only the claims it affects: the open claims whose
targets (amount, unit, calendar) or ladder differ between the two policies. Claims are grouped by
the terms that choose their targets, so the rules are compared once per group, not per claim."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from shared.db.models import Claim
from shared.db.statements import in_values
from shared.policy import Policy
from shared.schema import Status
from sla_worker.claim_clocks import DUE_COLUMN, FINISHED, terms, timing
from sla_worker.sweep import fired_of
from sla_worker.targets import rules_for

CLAIMS = Claim.__table__
TERM_COLUMNS = (CLAIMS.c.desired_resolution, CLAIMS.c.category, CLAIMS.c.channel, CLAIMS.c.priority,
                CLAIMS.c.department, CLAIMS.c.details)


def _ladder(policy: Policy) -> tuple:
    return policy.deadlines.warning_at, tuple(policy.deadlines.escalation_hours)


def affected(before: Policy, after: Policy, claim) -> bool:
    """Whether the change of policy changes this claim's clocks (pure)."""
    t = terms(claim)
    return _ladder(before) != _ladder(after) or rules_for(t, before) != rules_for(t, after)


def retime_affected(session: Session, before: Policy | None, after: Policy, now: datetime,
                    chunk: int = 1000) -> int:
    """Recompute deadlines and the next firing moment, under ``after``, of the open claims whose
    clocks ``before`` → ``after`` changes (all open claims when ``before`` is None); how many."""
    open_states = [s.value for s in Status if s not in FINISHED]
    ids_by_verdict: dict[bool, list[int]] = defaultdict(list)
    seen: dict[tuple, bool] = {}
    for row in session.execute(select(CLAIMS.c.id, *TERM_COLUMNS).where(CLAIMS.c.status.in_(open_states))).mappings():
        flags = tuple(sorted((row["details"] or {}).get("sla_flags", ())))
        key = (row["desired_resolution"], row["category"], row["channel"], row["priority"], row["department"], flags)
        if key not in seen:
            seen[key] = before is None or affected(before, after, row)
        ids_by_verdict[seen[key]].append(row["id"])
    changed = ids_by_verdict[True]
    for i in range(0, len(changed), chunk):
        _retime(session, changed[i:i + chunk], after, now)
    return len(changed)


def _retime(session: Session, ids: list[int], policy: Policy, now: datetime) -> None:
    fired = fired_of(session, ids)
    rows = session.execute(select(CLAIMS).where(in_values(session, CLAIMS.c.id, ids))).mappings().all()
    updates = []
    for row in rows:
        due = timing(row, policy, fired[row["id"]])
        updates.append({"_id": row["id"], **{f"_{k}": v for k, v in due.items()}, "_updated": now})
    if updates:
        session.execute(update(CLAIMS).where(CLAIMS.c.id == bindparam("_id")).values(
            updated_at=bindparam("_updated"),
            **{column: bindparam(f"_{column}") for column in (*DUE_COLUMN.values(), "next_sla_at")}), updates)
