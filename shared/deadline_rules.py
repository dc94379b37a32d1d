"""The deadline targets of the policy file (``policy.md``): first response, decision and closure,
each a :class:`Measure` of business or calendar time, with overrides by the claim's category,
channel, priority, department, desired resolution and flags (extensions such as "a replacement
that needs a quality check: 20 days"). Read and checked once at load; ``sla_worker.targets``
picks a claim's rules. Errors are plain ``ValueError``, made a ``PolicyError`` by ``shared.policy``.

A target is written as a number in its default unit or as one unit and, for business time, a
calendar: ``first_response: {business_hours: 8, calendar: service}``, ``decision: {calendar_days:
20}``; the older ``first_response_business_hours``, ``decision_days`` and ``closure_days`` keys
are the same thing. ``decision`` may be given per resolution, ``other`` standing for any
resolution the mapping does not list."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta

TARGETS = ("first_response", "decision", "closure")
UNITS = ("business_hours", "calendar_hours", "calendar_days")
CONDITIONS = ("category", "channel", "priority", "department", "resolution", "flags")
_KEYS = {  # key -> (target, its default unit)
    "first_response": ("first_response", "business_hours"),
    "first_response_business_hours": ("first_response", "business_hours"),
    "decision": ("decision", "calendar_days"), "decision_days": ("decision", "calendar_days"),
    "closure": ("closure", "calendar_days"), "closure_days": ("closure", "calendar_days"),
}


@dataclass(frozen=True)
class Measure:
    """An amount of time a target allows: ``business_hours`` count only the working time of a
    calendar (``calendar``, or the policy's default when None); ``calendar_hours`` and
    ``calendar_days`` count all time. Time while the claim waits for the customer never counts."""
    amount: float
    unit: str = "calendar_days"
    calendar: str | None = None

    @property
    def business(self) -> bool:
        return self.unit == "business_hours"

    @property
    def duration(self) -> timedelta:
        return timedelta(days=self.amount) if self.unit == "calendar_days" else timedelta(hours=self.amount)


@dataclass(frozen=True)
class Override:
    """Targets that replace the defaults for claims that meet ``when`` (every listed attribute has
    one of its values, every flag is raised). Later overrides win over earlier ones."""
    when: tuple[tuple[str, frozenset[str]], ...]
    flags: frozenset[str] = frozenset()
    first_response: Measure | None = None
    decision: dict[str, Measure] | None = None
    closure: Measure | None = None
    calendar: str | None = None          # business time of a matching claim counts on this calendar
    name: str = ""


@dataclass(frozen=True)
class DeadlinePolicy:
    first_response: Measure
    decision: dict[str, Measure]            # by desired resolution; "other" for the rest
    closure: Measure
    calendar: str | None = None             # the calendar of business time; None: the policy's default
    overrides: tuple[Override, ...] = ()
    warning_at: float = 0.8                 # share of a target's time that raises the warning
    escalation_hours: tuple[float, ...] = (0.0, 24.0, 72.0)   # levels 1, 2, 3: hours past the breach

    @property
    def first_response_business_hours(self) -> float:
        return self.first_response.duration / timedelta(hours=1)

    @property
    def closure_days(self) -> float:
        return self.closure.duration / timedelta(days=1)

    def decision_for(self, resolution: str | None) -> Measure:
        return decision_measure(self.decision, resolution) or self.decision["other"]

    def decision_days_for(self, resolution: str | None) -> float:
        return self.decision_for(resolution).duration / timedelta(days=1)


def decision_measure(by_resolution: Mapping[str, Measure], resolution) -> Measure | None:
    """The measure a per-resolution mapping gives ``resolution`` (a string or a str enum)."""
    key = getattr(resolution, "value", resolution) or "other"
    return by_resolution.get(key, by_resolution.get("other"))


def parse_deadlines(spec, calendars: Collection[str], known: Mapping[str, Collection[str]]) -> DeadlinePolicy:
    """The ``deadlines:`` section. ``calendars`` are the names a measure may use; ``known`` the
    values each ``when`` attribute may take (categories, channels…), for typos to fail at load."""
    if not isinstance(spec, dict):
        raise ValueError("deadlines: a mapping")
    base = _targets(spec, "deadlines", calendars, {"overrides", "warning_at", "escalation_hours"})
    for target, key in zip(TARGETS, ("first_response_business_hours", "decision_days", "closure_days")):
        if base[target] is None:
            raise ValueError(f"deadlines: missing {key!r} (or {target}:)")
    if "other" not in base["decision"]:
        raise ValueError("deadlines.decision_days needs an 'other' entry")
    overrides = spec.get("overrides") or []
    if not isinstance(overrides, list):
        raise ValueError("deadlines.overrides: a list of {when: …, <targets>}")
    warning_at = float(spec.get("warning_at", 0.8))
    if not 0 < warning_at < 1:
        raise ValueError(f"deadlines.warning_at: {warning_at} is not a share between 0 and 1 (0.8 is 80 %)")
    levels = tuple(float(h) for h in spec.get("escalation_hours", (0, 24, 72)))
    if len(levels) != 3 or levels[0] < 0 or list(levels) != sorted(levels):
        raise ValueError("deadlines.escalation_hours: three growing hours past the breach, for levels 1, 2, 3")
    return DeadlinePolicy(
        base["first_response"], base["decision"], base["closure"], base["calendar"],
        tuple(_override(o, f"deadlines.overrides[{i}]", calendars, known) for i, o in enumerate(overrides)),
        warning_at, levels)


def _override(spec, where: str, calendars, known) -> Override:
    if not isinstance(spec, dict) or not isinstance(spec.get("when", {}), dict):
        raise ValueError(f"{where}: a mapping with when: {{attribute: value(s)}} and the targets it changes")
    when = spec.get("when") or {}
    unknown = sorted(set(map(str, when)) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"{where}.when: unknown attribute(s) {unknown}; known: {', '.join(CONDITIONS)}")
    conditions = tuple((str(k), frozenset(_strings(v))) for k, v in when.items() if k != "flags")
    for attribute, values in conditions:
        strange = sorted(values - set(known.get(attribute, values)))
        if strange:
            raise ValueError(f"{where}.when.{attribute}: unknown value(s) {strange}")
    targets = _targets(spec, where, calendars, {"when", "name"})
    if not any(targets.values()):
        raise ValueError(f"{where}: changes no target and no calendar")
    return Override(conditions, frozenset(_strings(when.get("flags"))), targets["first_response"],
                    targets["decision"], targets["closure"], targets["calendar"], str(spec.get("name", "")))


def _targets(spec: dict, where: str, calendars, extra: set[str]) -> dict:
    unknown = sorted(set(map(str, spec)) - set(_KEYS) - extra - {"calendar"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {', '.join(sorted(set(_KEYS) | extra))}")
    calendar = spec.get("calendar")
    if calendar is not None and calendar not in calendars:
        raise ValueError(f"{where}.calendar: {calendar!r} is not among calendars ({', '.join(calendars)})")
    found: dict = {t: None for t in TARGETS}
    for key, (target, unit) in _KEYS.items():
        if key not in spec:
            continue
        if found[target] is not None:
            raise ValueError(f"{where}: {target} is given twice")
        value, at = spec[key], f"{where}.{key}"
        if target == "decision" and isinstance(value, dict) and not set(value) & set(UNITS):
            found[target] = {str(r): _measure(v, unit, f"{at}.{r}", calendars) for r, v in value.items()}
        else:
            measure = _measure(value, unit, at, calendars)
            found[target] = {"other": measure} if target == "decision" else measure
    return {**found, "calendar": calendar}


def _measure(value, unit: str, where: str, calendars) -> Measure:
    calendar = None
    if isinstance(value, dict):
        units = [u for u in UNITS if u in value]
        if len(units) != 1 or set(value) - set(UNITS) - {"calendar"}:
            raise ValueError(f"{where}: one of {', '.join(UNITS)}, and a calendar for business_hours")
        unit, value, calendar = units[0], value[units[0]], value.get("calendar")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{where}: {value!r} is not a number of {unit.replace('_', ' ')}")
    if calendar is not None and unit != "business_hours":
        raise ValueError(f"{where}: a calendar counts business_hours only; {unit} count all time")
    if calendar is not None and calendar not in calendars:
        raise ValueError(f"{where}.calendar: {calendar!r} is not among calendars ({', '.join(calendars)})")
    return Measure(float(value), unit, calendar)


def _strings(value) -> list[str]:
    if value is None:
        return []
    return [str(getattr(v, "value", v)) for v in (value if isinstance(value, (list, tuple, set)) else [value])]
