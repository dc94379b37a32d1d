"""Properties of the SLA arithmetic (hypothesis), against a slow reference that steps minute by
minute: deadlines agree with it, never fall inside a pause or outside business hours when the
target counts business time, never move earlier when a pause is added, and the time they allow
is exactly the target's; the ladder is in order; time held per department adds up."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.calendars import Calendar
from shared.deadline_rules import Measure
from sla_worker.attribution import time_held
from sla_worker.calendar import working_periods
from sla_worker.clocks import LADDER, Level, clock, due_at, elapsed
from sla_worker.targets import Target, TargetRule

UTC = timezone.utc
MINUTE = timedelta(minutes=1)
MOSCOW = Calendar("Europe/Moscow", frozenset(range(5)), time(9), time(18), name="moscow", country="RU",
                  working_dates=frozenset({date(2026, 11, 21)}), days_off=frozenset({date(2026, 11, 24)}),
                  date_hours=((date(2026, 12, 30), time(9), time(16)),))
NEW_YORK = Calendar("America/New_York", frozenset(range(5)), time(8, 30), time(17), name="ny", country="US")
ZONES = [UTC, ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the reference: one minute at a time -------------------------------------------------------

_days: dict[tuple[str, date], tuple[time, time] | None] = {}


def reference_hours(cal: Calendar, day: date) -> tuple[time, time] | None:
    """The precedence the calendar documents, written out plainly."""
    key = (cal.name, day)
    if key not in _days:
        own = {d: (o, c) for d, o, c in cal.date_hours}
        public = holidays.country_holidays(cal.country, years=day.year)
        usual = (cal.opens, cal.closes)
        if day in own:
            _days[key] = own[day]
        elif day in cal.working_dates:
            _days[key] = usual
        elif day in cal.days_off or day in public:
            _days[key] = None
        elif day in public.weekend_workdays or day.weekday() in cal.working_days:
            _days[key] = usual
        else:
            _days[key] = None
    return _days[key]


def working_minute(cal: Calendar, t: datetime) -> bool:
    local = t.astimezone(ZoneInfo(cal.timezone))
    hours = reference_hours(cal, local.date())
    return hours is not None and hours[0] <= local.time() < hours[1]


def reference_due(rule: TargetRule, start: datetime, minutes: int, pauses) -> datetime | None:
    """Step from ``start`` a minute at a time, counting the minutes that are working time (or any
    time) and not paused, until ``minutes`` are counted; None when an open pause comes first."""
    t, counted = start.astimezone(UTC), 0
    for _ in range(200 * 24 * 60):
        paused = any(p0 <= t and (p1 is None or t < p1) for p0, p1 in pauses)
        if paused and any(p0 <= t and p1 is None for p0, p1 in pauses):
            return None
        counts = not paused and (rule.calendar is None or working_minute(rule.calendar, t))
        if counts and minutes == 0:
            return t
        if counts:
            counted += 1
            if counted == minutes:
                return t + MINUTE
        t += MINUTE
    raise AssertionError("the reference ran out of time")


# --- strategies --------------------------------------------------------------------------------

EPOCH = datetime(2025, 10, 20, tzinfo=UTC)          # a working Saturday, New Year, 23 Feb, 8 Mar, May, DST
starts = st.builds(lambda m, tz: (EPOCH + timedelta(minutes=m)).astimezone(tz),
                   st.integers(0, 450 * 24 * 60), st.sampled_from(ZONES))


def ledger_of(start: datetime, spans) -> list[tuple[datetime, datetime | None]]:
    """Pauses given as (minutes after start, length in minutes or None for still open)."""
    base = start.astimezone(UTC)
    return [(base + timedelta(minutes=at), None if length is None else base + timedelta(minutes=at + length))
            for at, length in spans]


closed_spans = st.lists(st.tuples(st.integers(-600, 6000), st.integers(1, 3000)), max_size=3)
spans = st.lists(st.tuples(st.integers(-600, 6000), st.one_of(st.none(), st.integers(1, 3000))), max_size=3)


@st.composite
def rules_and_minutes(draw):
    """A target: business hours on one of two calendars, or calendar hours; and its minutes."""
    kind = draw(st.sampled_from(["moscow", "ny", "calendar"]))
    if kind == "calendar":
        minutes = draw(st.integers(0, 4 * 24 * 60))
        return TargetRule(Target.DECISION, Measure(minutes / 60, "calendar_hours"), None), minutes
    minutes = draw(st.integers(0, 30 * 60))
    cal = MOSCOW if kind == "moscow" else NEW_YORK
    return TargetRule(Target.FIRST_RESPONSE, Measure(minutes / 60, "business_hours"), cal), minutes


def later(a: datetime | None, b: datetime | None) -> bool:
    """a is not earlier than b, None being "not known yet": later than any moment."""
    return a is None or (b is not None and a >= b)


# --- properties --------------------------------------------------------------------------------

@SLOW
@given(rule=rules_and_minutes(), start=starts, pauses=spans)
def test_due_agrees_with_the_minute_stepping_reference(rule, start, pauses):
    rule, minutes = rule
    ledger = ledger_of(start, pauses)
    assert due_at(rule, start, ledger) == reference_due(rule, start, minutes, ledger)


@FAST
@given(rule=rules_and_minutes(), start=starts, pauses=spans)
def test_a_business_deadline_is_working_time_and_never_inside_a_pause(rule, start, pauses):
    rule, minutes = rule
    ledger = ledger_of(start, pauses)
    due = due_at(rule, start, ledger)
    if due is None:
        assert any(resumed is None for _, resumed in ledger)
        return
    assert due >= start and due.tzinfo == start.tzinfo
    assert not any(p0 < due and (p1 is None or due < p1) for p0, p1 in ledger)
    assert elapsed(rule, start, due, ledger) == rule.duration
    if rule.business:
        opens, closes = next((o, c) for o, c in working_periods(rule.calendar, due - timedelta(days=1)) if c >= due)
        assert opens <= due <= closes


@FAST
@given(rule=rules_and_minutes(), start=starts, pauses=spans, extra=closed_spans)
def test_adding_a_pause_never_moves_any_moment_earlier(rule, start, pauses, extra):
    rule, _ = rule
    before = clock(rule, start, pauses=ledger_of(start, pauses))
    after = clock(rule, start, pauses=ledger_of(start, pauses + extra))
    assert later(after.due, before.due)
    for level in Level:
        assert later(after.moments[level], before.moments[level])


@FAST
@given(rule=rules_and_minutes(), start=starts, pauses=spans)
def test_the_ladder_is_in_order(rule, start, pauses):
    rule, _ = rule
    c = clock(rule, start, pauses=ledger_of(start, pauses))
    order = [c.moments[Level.WARNING], c.due, *(c.moments[level] for level in LADDER)]
    known = [at for at in order if at is not None]
    assert known == sorted(known) and order[:len(known)] == known     # unknown ones come last
    if c.due is not None:
        assert c.moments[Level.LEVEL_1] == c.due


@FAST
@given(rule=rules_and_minutes(), start=starts, pauses=spans,
       cuts=st.lists(st.integers(0, 8000), max_size=4), departments=st.lists(st.sampled_from("abc"), min_size=5))
def test_time_held_per_department_adds_up_to_the_time_counted(rule, start, pauses, cuts, departments):
    rule, _ = rule
    ledger = ledger_of(start, pauses)
    edges = [start] + [start + timedelta(minutes=m) for m in sorted(cuts)]
    now = start + timedelta(minutes=9000)
    history = [(departments[i], edge, edges[i + 1] if i + 1 < len(edges) else None) for i, edge in enumerate(edges)]
    held = time_held(history, rule, now=now, pauses=ledger)
    assert sum(held.values(), timedelta(0)) == elapsed(rule, start, now, ledger)
