"""Business time on a :class:`shared.calendars.Calendar`: which local dates are worked and for
which hours, the working periods from a moment on, adding business hours to a moment and
counting business time between two moments.

A date is worked, in this order of precedence: with its own hours when the calendar gives it
some (``hours:``); when listed in ``working:``; not when listed in ``days_off:``; not on a public
holiday of the calendar's country (the ``holidays`` package, with its moved days off); yes on a
weekend day the country's decree makes a working day (Russia's working Saturdays); otherwise
when its weekday is a working day. Hours are local wall time of the calendar's time zone.

Pure: moments are aware datetimes (a naive one is read as UTC); results are in the time zone
of the moment given (UTC for a naive one)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from shared.calendars import Calendar
from sla_worker.periods import UTC, Period, advance, as_utc, measure

#: this many days in a row without working time: the calendar has none (a policy error)
_IDLE_DAYS = 3660


@lru_cache(maxsize=512)
def _country_year(country: str, subdivision: str | None, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """A country's public holidays (with moved days off) and its decreed working weekend days."""
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(table), frozenset(getattr(table, "weekend_workdays", ()))


def hours_on(calendar: Calendar, day: date) -> tuple[time, time] | None:
    """The working hours (opens, closes) of a local date, or None when it is not worked."""
    for special, opens, closes in calendar.date_hours:
        if special == day:
            return opens, closes
    usual = (calendar.opens, calendar.closes)
    if day in calendar.working_dates:
        return usual
    if day in calendar.days_off:
        return None
    if calendar.country:
        off, worked = _country_year(calendar.country, calendar.subdivision, day.year)
        if day in off:
            return None
        if day in worked:
            return usual
    return usual if day.weekday() in calendar.working_days else None


def is_working_day(calendar: Calendar, day: date) -> bool:
    return hours_on(calendar, day) is not None


def working_periods(calendar: Calendar, since: datetime) -> Iterator[Period]:
    """The calendar's working periods from ``since`` on, in UTC, the first one cut at ``since``.
    Endless; ValueError when ten years pass without working time."""
    zone, since = ZoneInfo(calendar.timezone), as_utc(since)
    day, idle = since.astimezone(zone).date(), 0
    while idle < _IDLE_DAYS:
        hours = hours_on(calendar, day)
        idle += 1
        if hours:
            opens = datetime.combine(day, hours[0], zone).astimezone(UTC)
            closes = datetime.combine(day, hours[1], zone).astimezone(UTC)
            if closes > since:
                idle = 0
                yield max(opens, since), closes
        day += timedelta(days=1)
    raise ValueError(f"the business calendar {calendar.name!r} has no working time")


def add_business_time(start: datetime, amount: timedelta, calendar: Calendar) -> datetime:
    """The moment when ``amount`` of the calendar's working time has passed since ``start``
    (zero: ``start`` if it is working time, else the next opening)."""
    return advance(working_periods(calendar, start), amount).astimezone(_zone_of(start))


def add_business_hours(start: datetime, hours: float, calendar: Calendar) -> datetime:
    return add_business_time(start, timedelta(hours=hours), calendar)


def business_time_between(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """Working time of the calendar from ``start`` to ``end`` (zero when end is not later)."""
    if as_utc(end) <= as_utc(start):
        return timedelta(0)
    return measure(working_periods(calendar, start), end)


def _zone_of(moment: datetime):
    return moment.tzinfo or UTC
