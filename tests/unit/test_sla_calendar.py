"""Business calendars: which days are worked (weekdays, Russian public holidays, moved days off,
per-date overrides), adding business hours across them, counting business time, and the
``calendar(s):`` sections of the policy file."""
from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
import yaml

from shared.calendars import Calendar
from shared.policy import PolicyError, load_policy, parse_policy
from sla_worker.calendar import add_business_hours, business_time_between, hours_on, is_working_day

MSK = ZoneInfo("Europe/Moscow")
NINE_TO_SIX = (time(9), time(18))
RU = Calendar("Europe/Moscow", frozenset(range(5)), time(9), time(18), name="moscow", country="RU")
BUNDLED = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))


def msk(y: int, m: int, d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=MSK)


@pytest.mark.parametrize("day, worked", [
    (date(2026, 11, 20), True),       # an ordinary Friday
    (date(2026, 11, 21), False),      # Saturday
    (date(2026, 1, 5), False),        # New Year holidays
    (date(2026, 1, 9), False),        # a day off moved from 3 January
    (date(2026, 1, 12), True),        # the first working day of 2026
    (date(2025, 12, 31), False),      # moved day off
    (date(2026, 2, 23), False),       # Defender of the Fatherland Day
    (date(2026, 3, 9), False),        # 8 March fell on a Sunday
    (date(2026, 5, 11), False),       # 9 May fell on a Saturday
    (date(2026, 11, 4), False),       # Unity Day
    (date(2025, 11, 1), True),        # a Saturday the decree made a working day
])
def test_russian_public_holidays_and_moved_days(day, worked):
    assert is_working_day(RU, day) is worked


def test_per_date_overrides_win_over_weekdays_and_holidays():
    cal = replace(RU, working_dates=frozenset({date(2026, 11, 21), date(2026, 2, 23)}),
                  days_off=frozenset({date(2026, 11, 19)}),
                  date_hours=((date(2026, 11, 20), time(9), time(16)), (date(2026, 11, 22), time(10), time(14))))
    assert hours_on(cal, date(2026, 11, 21)) == NINE_TO_SIX          # a Saturday worked
    assert hours_on(cal, date(2026, 2, 23)) == NINE_TO_SIX           # a holiday worked
    assert hours_on(cal, date(2026, 11, 19)) is None                 # a Thursday off
    assert hours_on(cal, date(2026, 11, 20)) == (time(9), time(16))  # a short Friday
    assert hours_on(cal, date(2026, 11, 22)) == (time(10), time(14))  # own hours make a Sunday worked


@pytest.mark.parametrize("start, hours, expected", [
    (msk(2026, 2, 20, 17), 2, msk(2026, 2, 24, 10)),     # Fri + 23 Feb (Mon) -> Tuesday
    (msk(2026, 3, 6, 17), 2, msk(2026, 3, 10, 10)),      # Fri + 9 March (observed 8 March) -> Tuesday
    (msk(2026, 5, 8, 17), 2, msk(2026, 5, 12, 10)),      # Fri + 11 May (observed 9 May) -> Tuesday
    (msk(2026, 4, 30, 17), 2, msk(2026, 5, 4, 10)),      # Thu + 1 May (Fri) -> Monday
    (msk(2025, 12, 30, 17), 24, msk(2026, 1, 14, 14)),   # across the New Year holidays: 1 + 9 + 9 + 5
    (msk(2026, 1, 3, 12), 0, msk(2026, 1, 12, 9)),       # zero hours in the holidays: the next opening
    (msk(2026, 11, 20, 18), 0, msk(2026, 11, 23, 9)),    # zero hours at closing time: the next opening
    (msk(2025, 10, 31, 17), 2, msk(2025, 11, 1, 10)),    # a decreed working Saturday
    (msk(2026, 11, 3, 17), 2, msk(2026, 11, 5, 10)),     # Unity Day (Wed)
])
def test_add_business_hours_across_russian_holidays(start, hours, expected):
    assert add_business_hours(start, hours, RU) == expected


def test_add_business_hours_uses_per_date_overrides():
    friday = msk(2026, 11, 20, 17)
    assert add_business_hours(friday, 2, replace(RU, working_dates=frozenset({date(2026, 11, 21)}))) == \
        msk(2026, 11, 21, 10)                                          # a Saturday worked
    assert add_business_hours(friday, 2, replace(RU, days_off=frozenset({date(2026, 11, 23)}))) == \
        msk(2026, 11, 24, 10)                                          # Monday off
    short = replace(RU, date_hours=((date(2026, 11, 20), time(9), time(16)),))
    assert add_business_hours(msk(2026, 11, 20, 15), 2, short) == msk(2026, 11, 23, 10)


def test_working_hours_are_local_wall_time_across_a_dst_change():
    ny = ZoneInfo("America/New_York")                   # clocks go forward on Sunday 8 March 2026
    cal = Calendar("America/New_York", frozenset(range(5)), time(9), time(17))
    due = add_business_hours(datetime(2026, 3, 6, 16, tzinfo=ny), 2, cal)
    assert due == datetime(2026, 3, 9, 10, tzinfo=ny)
    assert due.utcoffset() == timedelta(hours=-4)


def test_business_time_between_two_moments():
    assert business_time_between(msk(2026, 2, 20, 17), msk(2026, 2, 24, 10), RU) == timedelta(hours=2)
    assert business_time_between(msk(2025, 12, 30, 9), msk(2026, 1, 12, 12), RU) == timedelta(hours=12)
    assert business_time_between(msk(2026, 2, 24, 10), msk(2026, 2, 20, 17), RU) == timedelta(0)
    utc = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)                 # 09:00 in Moscow
    assert business_time_between(utc, utc + timedelta(days=4), RU) == timedelta(hours=18)   # Fri + Mon


def test_naive_moments_are_read_as_utc():
    assert add_business_hours(datetime(2026, 11, 20, 6), 1, RU) == datetime(2026, 11, 20, 7, tzinfo=timezone.utc)


def test_a_calendar_without_working_time_fails_loudly():
    with pytest.raises(ValueError, match="no working time"):
        add_business_hours(msk(2026, 1, 1, 9), 1, replace(RU, working_days=frozenset(), country=None))


# --- the policy file ---------------------------------------------------------------------------

def policy_with(**sections):
    doc = copy.deepcopy(BUNDLED)
    doc.pop("calendars", None)
    doc.update(sections)
    return parse_policy(doc, "retailer.yaml")


def test_bundled_policy_has_one_moscow_calendar_with_russian_holidays():
    policy = load_policy()
    assert policy.calendar == policy.calendars["moscow"]
    assert (policy.calendar.country, policy.calendar.timezone) == ("RU", "Europe/Moscow")


def test_named_calendars_with_a_default_and_overrides_read_from_yaml():
    doc = yaml.safe_load("""
calendars:
  office:
    default: true
    timezone: Europe/Moscow
    country: ru
    working: [2026-11-21]
    days_off: ["2026-11-23"]
    hours: {2026-12-30: ["09:00", "16:00"]}
  service:
    timezone: Asia/Yekaterinburg
    working_days: [mon, tue, wed, thu, fri, sat]
    working_hours: ["10:00", "20:00"]
""")
    policy = policy_with(**doc)
    office, service = policy.calendars["office"], policy.calendars["service"]
    assert policy.calendar is office and office.country == "RU"
    assert office.working_dates == {date(2026, 11, 21)} and office.days_off == {date(2026, 11, 23)}
    assert office.date_hours == ((date(2026, 12, 30), time(9), time(16)),)
    assert service.working_days == frozenset(range(6)) and service.opens == time(10)


@pytest.mark.parametrize("sections, words", [
    ({"calendars": {"a": {}, "b": {}}}, ["default"]),
    ({"calendars": {"a": {"default": True}, "b": {"default": True}}}, ["default"]),
    ({"calendars": {"a": {}}, "calendar": {}}, ["calendar", "not both"]),
    ({"calendars": {"a": {"country": "XX"}}}, ["calendars.a.country", "XX"]),
    ({"calendars": {"a": {"country": "RU", "subdivision": "NOPE"}}}, ["NOPE"]),
    ({"calendars": {"a": {"subdivision": "CA"}}}, ["subdivision", "country"]),
    ({"calendars": {"a": {"working": ["2026-11-21"], "days_off": ["2026-11-21"]}}}, ["2026-11-21", "day off"]),
    ({"calendars": {"a": {"working": ["21.11.2026"]}}}, ["working", "21.11.2026"]),
    ({"calendars": {"a": {"hours": {"2026-12-30": ["16:00", "09:00"]}}}}, ["hours", "open before"]),
    ({"calendars": {"a": {"workdays": ["mon"]}}}, ["workdays"]),
    ({"calendars": {"a": {"timezone": "Mars/Olympus"}}}, ["calendars.a.timezone", "Mars/Olympus"]),
])
def test_broken_calendars_are_refused_at_load_saying_where(sections, words):
    with pytest.raises(PolicyError) as err:
        policy_with(**sections)
    for word in words:
        assert word in str(err.value), str(err.value)
