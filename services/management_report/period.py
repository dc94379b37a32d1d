"""The period a report covers: ``--from`` and ``--to`` as ISO dates (whole days in the report's time
zone, ``--to`` included) or moments (a moment without an offset is read in that time zone). Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


class BadPeriod(ValueError):
    """A bound that is neither an ISO date nor an ISO moment, or an empty period."""


@dataclass(frozen=True)
class Period:
    """Claims received from ``start`` (included) to ``end`` (excluded), aware UTC moments."""
    start: datetime
    end: datetime
    timezone: str = "UTC"

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def bound(text: str, zone: str, *, end: bool = False) -> datetime:
    """One bound as an aware UTC moment. A date is its midnight; as an ``end``, the next midnight."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) <= 10:
        moment = datetime.combine(day + timedelta(days=1 if end else 0), time(0), ZoneInfo(zone))
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadPeriod(f"{text!r} is neither a date (2026-09-01) nor a moment (2026-09-01T09:00+03:00)") \
                from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(timezone.utc)


def period_of(start: str, end: str, zone: str = "UTC") -> Period:
    found = Period(bound(start, zone), bound(end, zone, end=True), zone)
    if found.end <= found.start:
        raise BadPeriod(f"the period is empty: {start} is not before {end}")
    return found
