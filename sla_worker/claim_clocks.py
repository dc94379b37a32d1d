"""A claim's SLA facts and what follows from them, pure: the facts are the claims row's columns
(a mapping or the ORM object), ``now`` is passed in.

- :func:`after_transition`: what a status change does to the facts (opens or closes a pause in the
  ledger, records when a target was met);
- :func:`timing`: the deadlines and the next firing moment the facts give, to store on the row —
  recomputed from the facts on every change, never pushed forward."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from shared.lifecycle import PAUSED
from shared.policy import Policy
from shared.schema import Status
from sla_worker.clocks import Clock, Level, next_moment, schedule
from sla_worker.targets import ClaimTerms, Target

#: the column that records when each target was met, and the statuses that meet it
MET_COLUMN = {Target.FIRST_RESPONSE: "first_response_at", Target.DECISION: "decided_at", Target.CLOSURE: "closed_at"}
MEETS = {Status.IN_PROGRESS: "first_response_at", Status.DECIDED: "decided_at", Status.REJECTED: "decided_at",
         Status.CLOSED: "closed_at"}
DUE_COLUMN = {Target.FIRST_RESPONSE: "first_response_due", Target.DECISION: "decision_due",
              Target.CLOSURE: "closure_due"}
#: statuses with no running clock at all
FINISHED = frozenset({Status.CLOSED, Status.ARCHIVED})


def _get(claim, name: str):
    return claim[name] if isinstance(claim, Mapping) else getattr(claim, name)


def _moment(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def ledger(claim) -> list[tuple[datetime, datetime | None]]:
    """The claim's pauses, from the JSON kept on the row."""
    return [(_moment(start), _moment(end)) for start, end in (_get(claim, "sla_pauses") or [])]


def terms(claim) -> ClaimTerms:
    details = _get(claim, "details") or {}
    return ClaimTerms(desired_resolution=_get(claim, "desired_resolution"), category=_get(claim, "category"),
                      channel=_get(claim, "channel"), priority=_get(claim, "priority"),
                      department=_get(claim, "department"), flags=frozenset(details.get("sla_flags", ())))


def clocks(claim, policy: Policy) -> dict[Target, Clock]:
    met = {target: _get(claim, column) for target, column in MET_COLUMN.items()}
    return schedule(_get(claim, "received_at"), terms(claim), policy, pauses=ledger(claim), met=met)


def after_transition(claim, to_status: Status | str, now: datetime) -> dict:
    """The facts that change when ``claim`` goes to ``to_status`` at ``now``: its pause ledger
    (entering ``awaiting_customer`` opens a pause, leaving it closes one) and the met-at columns."""
    to_status = Status(to_status)
    pauses = [[s.isoformat(), e.isoformat() if e else None] for s, e in ledger(claim)]
    changes: dict = {}
    open_pause = bool(pauses) and pauses[-1][1] is None
    if to_status in PAUSED and not open_pause:
        changes["sla_pauses"] = pauses + [[now.isoformat(), None]]
    elif to_status not in PAUSED and open_pause:
        changes["sla_pauses"] = pauses[:-1] + [[pauses[-1][0], now.isoformat()]]
    column = MEETS.get(to_status)
    if column is not None and _get(claim, column) is None:
        changes[column] = now
    if to_status is Status.REOPENED:
        # the customer disputes: decision and closure run again, from where they stood when the claim
        # was decided — the time a decision stood does not count (a stretch in the ledger, as a pause)
        stood_from = _get(claim, "decided_at") or _get(claim, "closed_at")
        if stood_from is not None:
            changes["sla_pauses"] = changes.get("sla_pauses", pauses) + [[stood_from.isoformat(), now.isoformat()]]
        changes.update(decided_at=None, closed_at=None)
    return changes


def timing(claim, policy: Policy, fired: Iterable[tuple[str, int]] = (),
           found: Mapping[Target, Clock] | None = None) -> dict:
    """Every deadline column and ``next_sla_at``, as the facts give them. A due column keeps the
    claim's value once its target is met (it is history), and while an open pause leaves it unknown
    (the claim shows the last known one; nothing fires then). ``found``: the claim's clocks, when
    already computed."""
    kept = {column: _get(claim, column) for column in DUE_COLUMN.values()}
    if Status(_get(claim, "status")) in FINISHED:
        return {**kept, "next_sla_at": None}
    found = found if found is not None else clocks(claim, policy)
    known = {DUE_COLUMN[t]: c.due for t, c in found.items() if c.due is not None and c.met_at is None}
    return {**kept, **known, "next_sla_at": next_moment(found, fired)}


def highest_level(fired: Iterable[tuple[str, int]]) -> int:
    """The claim's escalation level: the highest ladder level fired (a warning is not a level)."""
    return max((level for _, level in fired if level >= Level.LEVEL_1), default=0)
