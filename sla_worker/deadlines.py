"""The deadlines a claim is given when it is routed (``policy.md``): its three targets' due
moments from ``received_at``, with no pause yet. The clocks that follow a claim afterwards, with
its pauses, warnings and escalation levels, are ``sla_worker.clocks``."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.policy import Policy
from shared.schema import Deadlines
from sla_worker.calendar import add_business_hours  # noqa: F401  (re-exported: the arithmetic's old home)
from sla_worker.clocks import due_at
from sla_worker.targets import ClaimTerms, Target, rules_for


def deadlines_for(received_at: datetime, desired_resolution: str | None, policy: Policy, *,
                  category: str | None = None, channel: str | None = None, priority: str | None = None,
                  department: str | None = None, flags: Iterable[str] = ()) -> Deadlines:
    """First response, decision and closure deadlines of a claim received at ``received_at``;
    the keyword arguments pick the policy's overrides (without them, its defaults apply)."""
    terms = ClaimTerms(desired_resolution, category, channel, priority, department, frozenset(flags))
    due = {target: due_at(rule, received_at) for target, rule in rules_for(terms, policy).items()}
    return Deadlines(first_response=due[Target.FIRST_RESPONSE], decision=due[Target.DECISION],
                     closure=due[Target.CLOSURE])
