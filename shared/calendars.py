"""The business calendars of the policy file (``policy.md``), read and checked once at load.
The arithmetic over them is ``sla_worker.calendar``'s; errors here are plain ``ValueError`` that
``shared.policy`` turns into a ``PolicyError`` naming the file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CALENDAR_KEYS = {"default", "timezone", "working_days", "working_hours", "country", "subdivision",
                  "working", "days_off", "hours"}


@dataclass(frozen=True)
class Calendar:
    """When business time runs: ``working_days`` (0 = Monday) from ``opens`` to ``closes`` in
    ``timezone``, except the public holidays of ``country`` (and ``subdivision``, codes of the
    ``holidays`` package: "RU", "US"/"CA"), with per-date overrides: ``working_dates`` are worked
    (a Saturday made a working day), ``days_off`` are not (a day off moved), and ``date_hours``
    gives a date its own hours (a short pre-holiday day; such a date is worked)."""
    timezone: str
    working_days: frozenset[int]
    opens: time
    closes: time
    name: str = "default"
    country: str | None = None
    subdivision: str | None = None
    working_dates: frozenset[date] = frozenset()
    days_off: frozenset[date] = frozenset()
    date_hours: tuple[tuple[date, time, time], ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_calendars(doc: dict) -> tuple[dict[str, Calendar], str]:
    """The named calendars of a ``calendars:`` section and the default's name (the one marked
    ``default: true``, or the only one); or the single ``calendar:`` section of older policy
    files, named "default"."""
    if "calendars" in doc and "calendar" in doc:
        raise ValueError("use either calendar: (one calendar) or calendars: (named ones), not both")
    specs = doc.get("calendars")
    if specs is None:
        return {"default": _calendar("default", doc.get("calendar") or {}, "calendar")}, "default"
    if not isinstance(specs, dict) or not specs:
        raise ValueError("calendars: name at least one calendar")
    calendars = {str(n): _calendar(str(n), s or {}, f"calendars.{n}") for n, s in specs.items()}
    marked = [str(n) for n, s in specs.items() if (s or {}).get("default")]
    if len(marked) > 1 or (not marked and len(calendars) > 1):
        raise ValueError(f"calendars: mark exactly one calendar `default: true` (marked: {marked or 'none'})")
    return calendars, marked[0] if marked else next(iter(calendars))


def _calendar(name: str, spec: dict, where: str) -> Calendar:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: a calendar is a mapping")
    unknown = sorted(set(map(str, spec)) - _CALENDAR_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {', '.join(sorted(_CALENDAR_KEYS))}")
    opens, closes = _hours(spec.get("working_hours", ["09:00", "18:00"]), f"{where}.working_hours")
    days = spec.get("working_days", list(DAY_NAMES[:5]))
    bad = [d for d in days if d not in DAY_NAMES]
    if bad:
        raise ValueError(f"{where}.working_days: unknown day(s) {bad}; use {', '.join(DAY_NAMES)}")
    if not days:
        raise ValueError(f"{where}.working_days: a calendar needs at least one working day")
    zone = str(spec.get("timezone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}.timezone: {zone!r} is not a known time zone (use a name like Europe/Moscow)") \
            from None
    country = str(spec["country"]).upper() if spec.get("country") else None
    subdivision = str(spec["subdivision"]) if spec.get("subdivision") else None
    if subdivision and not country:
        raise ValueError(f"{where}.subdivision: needs a country")
    if country:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as e:
            raise ValueError(f"{where}.country: {e} (the holidays package's codes: RU, KZ, US…)") from None
    working = _dates(spec.get("working"), f"{where}.working")
    days_off = _dates(spec.get("days_off"), f"{where}.days_off")
    hours_of = spec.get("hours") or {}
    if not isinstance(hours_of, dict):
        raise ValueError(f"{where}.hours: a mapping of date to [opens, closes]")
    date_hours = tuple(sorted((_date(d, f"{where}.hours"), *_hours(h, f"{where}.hours.{d}"))
                              for d, h in hours_of.items()))
    clash = sorted((working | {d for d, _, _ in date_hours}) & days_off)
    if clash:
        raise ValueError(f"{where}: {', '.join(map(str, clash))} both worked and a day off")
    return Calendar(zone, frozenset(DAY_NAMES.index(d) for d in days), opens, closes, name, country, subdivision,
                    working, days_off, date_hours)


def _hours(value, where: str) -> tuple[time, time]:
    try:
        opens, closes = value
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a pair like [\"09:00\", \"18:00\"]") from None
    opens, closes = _time(opens, where), _time(closes, where)
    if opens >= closes:
        raise ValueError(f"{where}: the day must open before it closes")
    return opens, closes


def _time(value, where: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)     # YAML 1.1 reads an unquoted 17:30 as 1050 minutes
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a time like \"09:00\"") from None


def _dates(values, where: str) -> frozenset[date]:
    if values is None:
        return frozenset()
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{where}: a list of dates like 2026-11-07")
    return frozenset(_date(v, where) for v in values)


def _date(value, where: str) -> date:
    if isinstance(value, date):                  # YAML reads an unquoted 2026-11-07 as a date
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date like 2026-11-07") from None

