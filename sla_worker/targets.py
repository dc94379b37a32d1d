"""Which deadline targets a claim has (``policy.md``): first response, decision and closure, each
an amount of business or calendar time, chosen from the policy's defaults and the overrides that
match the claim (category, channel, priority, department, desired resolution, flags such as
``quality_check``). Pure: the policy is passed in."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from shared.calendars import Calendar
from shared.deadline_rules import Measure, Override, decision_measure
from shared.policy import Policy


class Target(str, enum.Enum):
    FIRST_RESPONSE = "first_response"   # met when the claim is acknowledged (in_progress)
    DECISION = "decision"               # met when decided or rejected
    CLOSURE = "closure"                 # met when closed


def _text(value) -> str | None:
    value = getattr(value, "value", value)
    return None if value is None else str(value)


@dataclass(frozen=True)
class ClaimTerms:
    """The facts of a claim that choose its targets. Enum members are read as their values."""
    desired_resolution: str | None = None
    category: str | None = None
    channel: str | None = None
    priority: str | None = None
    department: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self):
        for name in ("desired_resolution", "category", "channel", "priority", "department"):
            object.__setattr__(self, name, _text(getattr(self, name)))
        object.__setattr__(self, "flags", frozenset(_text(f) for f in (self.flags or ())))

    def attribute(self, name: str) -> str | None:
        return self.desired_resolution if name == "resolution" else getattr(self, name)


@dataclass(frozen=True)
class TargetRule:
    """One target of one claim: how much time it allows and how that time is counted:
    business time on ``calendar``, or all time when ``calendar`` is None."""
    target: Target
    measure: Measure
    calendar: Calendar | None

    @property
    def business(self) -> bool:
        return self.calendar is not None

    @property
    def duration(self) -> timedelta:
        return self.measure.duration


def matches(override: Override, terms: ClaimTerms) -> bool:
    return override.flags <= terms.flags and all(
        terms.attribute(name) in values for name, values in override.when)


def rules_for(terms: ClaimTerms, policy: Policy) -> dict[Target, TargetRule]:
    """The claim's three targets: the policy's defaults, changed by each matching override in
    turn (a later one wins). A business measure counts on its own calendar if it names one, else
    on the last matching override's calendar, else on ``deadlines.calendar``, else the default."""
    rules = policy.deadlines
    chosen = {Target.FIRST_RESPONSE: rules.first_response,
              Target.DECISION: rules.decision_for(terms.desired_resolution), Target.CLOSURE: rules.closure}
    calendar = rules.calendar
    for override in rules.overrides:
        if not matches(override, terms):
            continue
        decision = decision_measure(override.decision or {}, terms.desired_resolution)
        for target, measure in ((Target.FIRST_RESPONSE, override.first_response), (Target.DECISION, decision),
                                (Target.CLOSURE, override.closure)):
            if measure is not None:
                chosen[target] = measure
        calendar = override.calendar or calendar
    return {target: TargetRule(target, measure, _calendar(policy, measure, calendar))
            for target, measure in chosen.items()}


def _calendar(policy: Policy, measure: Measure, override: str | None) -> Calendar | None:
    if not measure.business:
        return None
    name = measure.calendar or override
    return policy.calendars[name] if name else policy.calendar


def rule_for(target: Target | str, terms: ClaimTerms, policy: Policy) -> TargetRule:
    return rules_for(terms, policy)[Target(target)]

