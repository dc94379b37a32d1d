"""Deadline arithmetic: business hours on the policy calendar, calendar days for decision and closure."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings, strategies as st

from shared.policy import Calendar, load_policy
from shared.schema import Resolution
from sla_worker.deadlines import add_business_hours, deadlines_for

POLICY = load_policy()
CAL = POLICY.calendar
MSK = ZoneInfo("Europe/Moscow")
UTC = timezone.utc


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026 (Mon 16, Fri 20, Sat 21, Sun 22, Mon 23, Wed 25), Moscow time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)


def test_bundled_calendar_is_moscow_weekdays_nine_to_six_with_russian_holidays():
    assert (CAL.timezone, CAL.working_days, CAL.opens, CAL.closes, CAL.country) == \
        ("Europe/Moscow", frozenset(range(5)), time(9), time(18), "RU")


@pytest.mark.parametrize("start, hours, expected", [
    (msk(20, 17), 2, msk(23, 10)),            # Friday 17:00 + 2h -> Monday 10:00
    (msk(20, 17), 1, msk(20, 18)),            # ends exactly at closing time, not on Monday
    (msk(21, 12), 3, msk(23, 12)),            # Saturday start counts from Monday 09:00
    (msk(22, 23, 59), 0.5, msk(23, 9, 30)),   # Sunday night
    (msk(16, 9), 24, msk(18, 15)),            # 24 business hours from Monday 09:00 -> Wednesday 15:00
    (msk(23, 9), 24, msk(25, 15)),
    (msk(16, 7), 1, msk(16, 10)),             # before opening
    (msk(17, 18, 30), 1, msk(18, 10)),        # after closing
    (msk(16, 10, 20), 0.25, msk(16, 10, 35)),
    (msk(16, 9), 45, msk(20, 18)),            # a whole working week
    (msk(16, 9), 45.5, msk(23, 9, 30)),
    (msk(21, 12), 0, msk(23, 9)),             # zero hours on a weekend: the next opening
    (msk(16, 11), 0, msk(16, 11)),
])
def test_add_business_hours_on_the_bundled_calendar(start, hours, expected):
    assert add_business_hours(start, hours, CAL) == expected


def test_result_is_in_the_time_zone_of_the_start():
    start = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)            # Friday 17:00 in Moscow
    due = add_business_hours(start, 2, CAL)
    assert due == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)      # Monday 10:00 in Moscow
    assert due.utcoffset() == timedelta(0)


def test_a_late_utc_evening_is_already_the_next_moscow_day():
    # Sunday 22:30 UTC is Monday 01:30 in Moscow: the clock starts at Monday 09:00, not Tuesday
    assert add_business_hours(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), 1, CAL) == msk(23, 10)


def test_a_custom_calendar_is_used():
    cal = Calendar("Asia/Yekaterinburg", frozenset(range(6)), time(10), time(20, 30))
    ekb = ZoneInfo("Asia/Yekaterinburg")
    # Friday 20:00 + 2h: 0.5h Friday, Saturday is a working day here -> Saturday 11:30
    assert add_business_hours(datetime(2026, 11, 20, 20, 0, tzinfo=ekb), 2, cal) == \
        datetime(2026, 11, 21, 11, 30, tzinfo=ekb)


def test_calendar_without_working_time_fails_loudly():
    with pytest.raises(ValueError):
        add_business_hours(msk(16, 9), 1, Calendar("Europe/Moscow", frozenset(), time(9), time(18)))


# --- deadlines_for -----------------------------------------------------------------------------

RECEIVED = msk(20, 17)


@pytest.mark.parametrize("resolution, days", [
    ("refund", 10), (Resolution.REFUND, 10), ("discount", 10), ("replacement", 7), (Resolution.REPLACEMENT, 7),
    ("repair", 45), (Resolution.REPAIR, 45), ("compensation", 30), (None, 30),
])
def test_decision_deadline_by_resolution(resolution, days):
    due = deadlines_for(RECEIVED, resolution, POLICY)
    assert due.decision == RECEIVED + timedelta(days=days)


def test_closure_and_first_response():
    due = deadlines_for(RECEIVED, "refund", POLICY)
    assert due.closure == RECEIVED + timedelta(days=30)
    # 24 business hours from Friday 17:00: 1 (Fri) + 9 (Mon) + 9 (Tue) + 5 (Wed) -> Wednesday 14:00
    assert due.first_response == msk(25, 14)


# --- properties --------------------------------------------------------------------------------

OPENS, CLOSES = CAL.opens, CAL.closes
RU = holidays.country_holidays("RU", years=range(2025, 2029))


def worked(day) -> bool:
    """Straight from the holidays package: Russian public holidays and moved days off are not
    worked, decreed working Saturdays are."""
    return day not in RU and (day.weekday() < 5 or day in RU.weekend_workdays)
ZONES = [UTC, MSK, timezone(timedelta(hours=-5)), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")]

starts = st.builds(
    lambda minutes, seconds, tz: (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=seconds))
    .astimezone(tz),
    st.integers(0, 365 * 24 * 60), st.floats(0, 59.999, allow_nan=False), st.sampled_from(ZONES))
quarter_hours = st.integers(0, 4 * 60).map(lambda q: q / 4)     # up to 60 business hours, exact in binary


def in_working_hours(moment: datetime, hours: float) -> bool:
    local = moment.astimezone(MSK)
    if not worked(local.date()):
        return False
    t = local.timetz().replace(tzinfo=None)
    return OPENS <= t < CLOSES or (t == CLOSES and hours > 0)


@settings(max_examples=100, deadline=None)
@given(start=starts, hours=quarter_hours, more=quarter_hours)
def test_result_is_working_time_monotonic_and_additive(start, hours, more):
    due = add_business_hours(start, hours, CAL)
    later = add_business_hours(start, hours + more, CAL)
    assert in_working_hours(due, hours)
    assert in_working_hours(later, hours + more)
    assert start <= due <= later
    assert due - start >= timedelta(hours=hours)        # business time never runs faster than the clock
    if more > 0:
        assert add_business_hours(due, more, CAL) == later


def slow_reference(start: datetime, hours: float) -> datetime:
    """Step minute by minute over Moscow wall time (Moscow has no DST), counting working minutes
    of weekdays that are not Russian public holidays."""
    t = start.astimezone(MSK).replace(tzinfo=None)
    minute = timedelta(minutes=1)

    def working(m: datetime) -> bool:
        return worked(m.date()) and 9 * 60 <= m.hour * 60 + m.minute < 18 * 60

    while not working(t):
        t += minute
    left = round(hours * 60)
    while left:
        if working(t):
            left -= 1
        t += minute
    return t.replace(tzinfo=MSK)


minute_starts = st.builds(
    lambda minutes, tz: (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)).astimezone(tz),
    st.integers(0, 365 * 24 * 60), st.sampled_from(ZONES))


@settings(max_examples=100, deadline=None)
@given(start=minute_starts, hours=st.integers(0, 4 * 20).map(lambda q: q / 4))
def test_agrees_with_minute_stepping_reference(start, hours):
    assert add_business_hours(start, hours, CAL) == slow_reference(start, hours)
