"""Who held a claim for how long: when a claim is rerouted, the time each department held it is
attributed to that department, counted the way a target counts (business time on its calendar,
or all time) and without the time the claim waited for the customer. Pure."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sla_worker.clocks import Ledger, elapsed
from sla_worker.periods import as_utc
from sla_worker.targets import TargetRule

Assignment = tuple[str, datetime, datetime | None]      # department, from, to (None: still holds it)


def assignments_from_routing(routes: Iterable[tuple[datetime, str]],
                             until: datetime | None = None) -> list[Assignment]:
    """The assignment history from the claim's routings and reroutes ``(moment, department)``:
    each department holds the claim until the next routing; the last one until ``until`` (None:
    it still does). A reroute to the department that holds the claim changes nothing."""
    out: list[Assignment] = []
    for at, department in sorted(routes, key=lambda route: as_utc(route[0])):
        if out and out[-1][0] == department:
            continue
        if out:
            out[-1] = (out[-1][0], out[-1][1], at)
        out.append((department, at, None))
    if out and until is not None:
        out[-1] = (out[-1][0], out[-1][1], until)
    return out


def time_held(assignments: Iterable[Assignment], rule: TargetRule, *, now: datetime,
              pauses: Ledger = ()) -> dict[str, timedelta]:
    """Counted time each department held the claim up to ``now`` (an assignment still open runs
    to ``now``), in the order departments first held it."""
    pauses, held = list(pauses), {}
    for department, since, until in assignments:
        end = now if until is None or as_utc(until) > as_utc(now) else until
        held[department] = held.get(department, timedelta(0)) + elapsed(rule, since, end, pauses)
    return held
