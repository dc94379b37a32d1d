"""Deadline arithmetic of ``policy.md``, pure: the clock and the calendar are passed in.

First response counts business hours of the policy's calendar; decision and closure count
calendar days from ``received_at``."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.policy import Calendar, Policy
from shared.schema import Deadlines


def add_business_hours(start: datetime, hours: float, calendar: Calendar) -> datetime:
    """The moment when ``hours`` of the calendar's working time have passed since ``start``."""
    tz = ZoneInfo(calendar.timezone)
    at = start.astimezone(tz)
    left = timedelta(hours=hours)
    for _ in range(3660):   # ten years of days: a calendar with no working day is a policy error
        opens = at.replace(hour=calendar.opens.hour, minute=calendar.opens.minute, second=0, microsecond=0)
        closes = at.replace(hour=calendar.closes.hour, minute=calendar.closes.minute, second=0, microsecond=0)
        if at.weekday() in calendar.working_days and at < closes:
            begin = max(at, opens)
            available = closes - begin
            if left <= available:
                return (begin + left).astimezone(start.tzinfo)
            left -= available
        at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError("the business calendar has no working time")


def deadlines_for(received_at: datetime, desired_resolution: str | None, policy: Policy) -> Deadlines:
    rules = policy.deadlines
    return Deadlines(
        first_response=add_business_hours(received_at, rules.first_response_business_hours, policy.calendar),
        decision=received_at + timedelta(days=rules.decision_days_for(desired_resolution)),
        closure=received_at + timedelta(days=rules.closure_days),
    )
