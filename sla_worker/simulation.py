"""``claimflow sla simulate``: run the SLA sweep over a span of time on a chosen clock — the same
code the worker runs — inside one transaction that is rolled back, so nothing is fired, told or
published. With another policy file, the open claims are first re-timed under it: "what breaches
if the policy were …". Best run on a replay of production data, not on the live database (the
sweep locks the claims it looks at while the simulation runs)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.bootstrap import App
from shared.policy import Policy
from sla_worker.policy_change import retime_affected
from sla_worker.sweep import sweep

LEVEL_NAMES = {0: "warning", 1: "level 1", 2: "level 2", 3: "level 3"}


def simulate(app: App, start: datetime, end: datetime, step: timedelta, policy: Policy | None = None,
             on_step: Callable[[datetime], None] | None = None, batch: int = 5000) -> list[dict]:
    """Everything that would fire from ``start`` to ``end``, sweeping every ``step``: dicts of
    claim_number, target, level, department, due_at and ``at`` (the sweep that fired it)."""
    if step <= timedelta(0):
        raise ValueError("the step must be positive")
    policy = policy or app.policy
    fired: list[dict] = []
    session = app.sessions()
    try:
        if policy is not app.policy:
            retime_affected(session, app.policy, policy, start)
        moment = start
        while moment <= end:
            while True:
                result = sweep(session, now=moment, policy=policy, limit=batch, worker="simulate")
                fired += [{**f, "at": moment} for f in result.fired]
                if result.taken < batch:
                    break
            if on_step:
                on_step(moment)
            moment += step
    finally:
        session.rollback()
        session.close()
    return fired


def breach_table(fired: list[dict]) -> list[dict]:
    """Counts by department and target: warnings and each level (a level-1 is a breach)."""
    counts = Counter((f["department"] or "-", f["target"], f["level"]) for f in fired)
    rows = {}
    for (department, target, level), n in counts.items():
        row = rows.setdefault((department, target), {"department": department, "target": target,
                                                     **{name: 0 for name in LEVEL_NAMES.values()}})
        row[LEVEL_NAMES[level]] += n
    return [rows[k] for k in sorted(rows)]
