"""Time as a stream of counted periods: the working periods of a calendar, or all time, less the
pauses. Two questions are asked of such a stream: when has an amount of counted time passed
(:func:`advance`), and how much counted time lies before a moment (:func:`measure`).

A period is a pair of aware UTC datetimes ``(start, end)``, start < end; a stream is ordered
and its periods do not overlap. A stream that ends (a pause still open) stops the clock."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
Period = tuple[datetime, datetime]
#: the end of the stream of all time
END_OF_TIME = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def as_utc(moment: datetime) -> datetime:
    """An aware moment in UTC; a naive one is read as UTC (as the database stores moments)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def all_time(since: datetime) -> Iterator[Period]:
    """Every moment from ``since`` on: the stream of targets that count calendar time."""
    yield as_utc(since), END_OF_TIME


def advance(periods: Iterable[Period], amount: timedelta) -> datetime | None:
    """The moment when ``amount`` of counted time has passed (an amount of zero: the first
    counted moment), or None when the stream ends before (the clock is stopped)."""
    left = amount
    for start, end in periods:
        if left <= end - start:
            return start + left
        left -= end - start
    return None


def measure(periods: Iterable[Period], until: datetime) -> timedelta:
    """Counted time of the stream before ``until``."""
    until, total = as_utc(until), timedelta(0)
    for start, end in periods:
        if start >= until:
            break
        total += min(end, until) - start
    return total
