"""The SLA clocks of one claim, recomputed from facts: when it was received, its pause ledger,
the attributes that choose its targets, and when each target was met. Pure: ``now`` is always an
argument, nothing is read from a clock or a database.

For each target (``targets.Target``) a :class:`Clock` holds the moments of the escalation
ladder of ``policy.md``: the warning when 80 % of the target's time is used (``warning_at``),
level 1 at the breach, levels 2 and 3 when the claim has been breached 24 h and 72 h more
(``escalation_hours``, counted in clock hours). Time while the claim waits for the customer
never counts, before or after the breach. A moment the clock cannot know yet, because a pause
is open and the time was not used up before it began, is None.

A target is met when the claim is acknowledged (first response), decided or rejected
(decision), closed (closure): a met target fires nothing more."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.policy import Policy
from sla_worker.calendar import working_periods
from sla_worker.pauses import without_pauses
from sla_worker.periods import Period, advance, all_time, as_utc, measure
from sla_worker.targets import ClaimTerms, Target, TargetRule, rules_for

Ledger = Iterable[tuple[datetime, datetime | None]]


class Level(enum.IntEnum):
    WARNING = 0     # 80 % of the target's time used: the department's queue and lead
    LEVEL_1 = 1     # the target is breached: the department lead
    LEVEL_2 = 2     # breached for 24 h more: the head of the claims department
    LEVEL_3 = 3     # breached for 72 h more: management


LADDER = (Level.LEVEL_1, Level.LEVEL_2, Level.LEVEL_3)


def counted_periods(rule: TargetRule, since: datetime, pauses: Ledger = ()) -> Iterator[Period]:
    """The time a target counts from ``since`` on: its calendar's working time, or all time,
    less the pauses; the stream ends where an open pause begins."""
    base = working_periods(rule.calendar, since) if rule.business else all_time(since)
    return without_pauses(base, list(pauses))


def elapsed(rule: TargetRule, since: datetime, until: datetime, pauses: Ledger = ()) -> timedelta:
    """The target's counted time between two moments (zero when ``until`` is not later)."""
    if as_utc(until) <= as_utc(since):
        return timedelta(0)
    return measure(counted_periods(rule, since, pauses), until)


def due_at(rule: TargetRule, received_at: datetime, pauses: Ledger = ()) -> datetime | None:
    """The moment the target's time runs out, in ``received_at``'s time zone; None while a
    pause that began before then is open."""
    return _in_zone_of(advance(counted_periods(rule, received_at, pauses), rule.duration), received_at)


@dataclass(frozen=True)
class Clock:
    """One target of one claim: its rule, when its time runs out (``due``), the moment of each
    level of the ladder (``moments``), and when it was met."""
    rule: TargetRule
    due: datetime | None
    moments: Mapping[Level, datetime | None]
    met_at: datetime | None = None

    @property
    def target(self) -> Target:
        return self.rule.target

    @property
    def warning(self) -> datetime | None:
        return self.moments[Level.WARNING]

    def met_by(self, now: datetime) -> bool:
        return self.met_at is not None and as_utc(self.met_at) <= as_utc(now)

    def breached(self, now: datetime) -> bool:
        """Whether the target's time ran out before ``now`` (and before it was met)."""
        level = self.level_at(now)
        return level is not None and level >= Level.LEVEL_1

    def level_at(self, now: datetime) -> Level | None:
        """The highest level reached by ``now`` before the target was met, or None."""
        end = as_utc(now) if self.met_at is None else min(as_utc(now), as_utc(self.met_at) - _TICK)
        reached = [level for level, at in self.moments.items() if at is not None and as_utc(at) <= end]
        return max(reached, default=None)


_TICK = timedelta(microseconds=1)


def clock(rule: TargetRule, received_at: datetime, *, pauses: Ledger = (), met_at: datetime | None = None,
          warning_at: float = 0.8, escalation_hours: Iterable[float] = (0, 24, 72)) -> Clock:
    """The clock of one target from the facts."""
    pauses = list(pauses)
    moments = {Level.WARNING: advance(counted_periods(rule, received_at, pauses), rule.duration * warning_at)}
    due = advance(counted_periods(rule, received_at, pauses), rule.duration)
    for level, hours in zip(LADDER, escalation_hours):
        after = timedelta(hours=hours)
        moments[level] = due if due is None or not after else advance(without_pauses(all_time(due), pauses), after)
    return Clock(rule, _in_zone_of(due, received_at),
                 {level: _in_zone_of(at, received_at) for level, at in moments.items()}, met_at)


def schedule(received_at: datetime, terms: ClaimTerms, policy: Policy, *, pauses: Ledger = (),
             met: Mapping[Target | str, datetime | None] | None = None) -> dict[Target, Clock]:
    """Every target's clock for a claim. ``met`` maps a target to when it was met (absent or
    None: not yet)."""
    met_at = {Target(t): at for t, at in (met or {}).items()}
    rules, pauses = policy.deadlines, list(pauses)
    return {target: clock(rule, received_at, pauses=pauses, met_at=met_at.get(target), warning_at=rules.warning_at,
                          escalation_hours=rules.escalation_hours)
            for target, rule in rules_for(terms, policy).items()}


@dataclass(frozen=True, order=True)
class Escalation:
    """A level of a target that is due: ``at`` is when it became due."""
    at: datetime
    target: Target
    level: Level


def _fired(fired: Iterable[tuple[Target | str, Level | int]]) -> set[tuple[Target, Level]]:
    return {(Target(t), Level(level)) for t, level in fired}


def due_escalations(clocks: Mapping[Target, Clock] | Iterable[Clock], now: datetime,
                    fired: Iterable[tuple[Target | str, Level | int]] = ()) -> list[Escalation]:
    """The (target, level) pairs due at ``now`` and not yet ``fired``, oldest first. A target met
    by ``now`` fires nothing; a missed level fires late rather than never."""
    done, now_utc = _fired(fired), as_utc(now)
    out = [Escalation(at, c.target, level)
           for c in _clocks(clocks) if not c.met_by(now)
           for level, at in c.moments.items()
           if at is not None and as_utc(at) <= now_utc and (c.target, level) not in done]
    return sorted(out, key=lambda e: (as_utc(e.at), e.level, e.target.value))


def next_moment(clocks: Mapping[Target, Clock] | Iterable[Clock],
                fired: Iterable[tuple[Target | str, Level | int]] = ()) -> datetime | None:
    """The earliest moment anything not yet ``fired`` fires for the claim (it may be past: a level
    missed while no worker ran), or None when nothing will until a fact changes (every target met,
    or the clocks stopped by an open pause). The value to index claims on for the SLA sweep."""
    done = _fired(fired)
    moments = [at for c in _clocks(clocks) if c.met_at is None
               for level, at in c.moments.items() if at is not None and (c.target, level) not in done]
    return min(moments, key=as_utc, default=None)


def _clocks(clocks) -> list[Clock]:
    return list(clocks.values()) if isinstance(clocks, Mapping) else list(clocks)


def _in_zone_of(moment: datetime | None, like: datetime) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(like.tzinfo) if like.tzinfo is not None else moment
