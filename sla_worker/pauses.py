"""The pause ledger of a claim: the stretches of time it waited for the customer, during which
its SLA clocks stand still. Built from facts (the claim's status history), never by moving a
deadline; deadlines are recomputed from the ledger.

A pause is ``(paused_at, resumed_at)``; ``resumed_at`` is None while the claim still waits."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

from shared.lifecycle import PAUSED
from shared.schema import Status
from sla_worker.periods import Period, as_utc


class Pause(NamedTuple):
    paused_at: datetime
    resumed_at: datetime | None = None


def ledger_from_status_changes(changes: Iterable[tuple[datetime, Status | str]],
                               paused_states: Iterable[Status] = PAUSED) -> tuple[Pause, ...]:
    """The pauses of a status history: ``(moment, new status)`` pairs in any order (sorted here,
    ties kept in the given order). Entering a paused state (``awaiting_customer``) opens a
    pause, leaving it (the customer answered: ``in_progress``) closes it."""
    paused = {Status(s) for s in paused_states}
    ledger: list[Pause] = []
    opened: datetime | None = None
    for at, status in sorted(changes, key=lambda change: as_utc(change[0])):
        if Status(status) in paused:
            opened = at if opened is None else opened
        elif opened is not None:
            ledger.append(Pause(opened, at))
            opened = None
    if opened is not None:
        ledger.append(Pause(opened))
    return tuple(ledger)


def merged(pauses: Iterable[tuple[datetime, datetime | None]]) -> list[tuple[datetime, datetime | None]]:
    """The ledger in UTC, in time order, overlapping or touching pauses joined, empty ones left
    out; an open pause swallows every later one. ValueError for a pause that ends before it starts."""
    spans = []
    for paused_at, resumed_at in pauses:
        start, end = as_utc(paused_at), None if resumed_at is None else as_utc(resumed_at)
        if end is not None and end < start:
            raise ValueError(f"a pause cannot end ({end.isoformat()}) before it starts ({start.isoformat()})")
        if end != start:
            spans.append((start, end))
    out: list[tuple[datetime, datetime | None]] = []
    for start, end in sorted(spans, key=lambda span: span[0]):
        if out and (out[-1][1] is None or start <= out[-1][1]):
            last_start, last_end = out[-1]
            out[-1] = (last_start, None if last_end is None or end is None else max(last_end, end))
        else:
            out.append((start, end))
    return out


def without_pauses(periods: Iterable[Period], pauses: Iterable[tuple[datetime, datetime | None]]) -> Iterator[Period]:
    """``periods`` less the paused time; the stream ends where an open pause starts."""
    spans, i = merged(pauses), 0
    for start, end in periods:
        while start < end:
            while i < len(spans) and spans[i][1] is not None and spans[i][1] <= start:
                i += 1
            if i == len(spans) or spans[i][0] >= end:
                yield start, end
                break
            paused_at, resumed_at = spans[i]
            if paused_at > start:
                yield start, paused_at
            if resumed_at is None:
                return
            start = resumed_at


def is_paused(pauses: Iterable[tuple[datetime, datetime | None]]) -> bool:
    """Whether the ledger has a pause still open (the claim waits for the customer)."""
    spans = merged(pauses)
    return bool(spans) and spans[-1][1] is None
