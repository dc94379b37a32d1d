"""One claim as the report sees it, and what follows for it alone: the product it is about, its
outcome, and each deadline target's verdict with the department answerable for it and the time each
department held it. Pure: the SLA arithmetic is ``sla_worker``'s (``clocks``, ``time_held``)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.policy import Policy
from sla_worker.attribution import Assignment, assignments_from_routing, time_held
from sla_worker.claim_clocks import clocks, ledger
from sla_worker.periods import as_utc

#: a product named after a label at the start of a line or a sentence ("Товар: …", "Item: …"); the
#: name runs to the end of its line or to a full stop followed by a space ("3.0" and "8/256" stay)
_PRODUCT = re.compile(r"(?:^|(?<=[.!?…])[ \t]+)(?:товар|изделие|модель|наименование|item|product|model)"
                      r"[ \t]*:[ \t]*(?P<name>[^\n]+?)[ \t]*(?:\.(?=\s|$)|;|$)", re.IGNORECASE | re.MULTILINE)
_QUOTES = {'""', "''", "«»", "“”", "„“"}
MAX_NAME = 120
PENDING = "pending"       # the outcome of a claim with no decision yet
UNROUTED = "(before routing)"   # who "held" a claim from its receipt to its first routing


def product_name(text: str | None) -> str | None:
    """The product a claim's text names after a label, whitespace tidied, or None."""
    found = _PRODUCT.search(text or "")
    if found is None:
        return None
    name = " ".join(found.group("name").split())
    if len(name) > 1 and name[0] + name[-1] in _QUOTES:
        name = name[1:-1].strip()
    return name[:MAX_NAME] or None


@dataclass(frozen=True)
class ClaimFacts:
    """A claim's columns the report needs (no personal data: ``customers`` are hashes of its contacts),
    its routings ``(moment, department)``, its latest decision, the customer's latest answer (as
    ``services.closing.dossier.customer_answer`` reads it) and the escalations fired for it."""
    id: int
    channel: str
    category: str | None
    department: str | None
    priority: str
    status: str
    received_at: datetime
    desired_resolution: str | None = None
    sku: str | None = None
    product: str | None = None
    details: dict = field(default_factory=dict)        # only what the clocks read ("sla_flags")
    sla_pauses: list = field(default_factory=list)
    routed_at: datetime | None = None
    first_response_at: datetime | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    customers: tuple[str, ...] = ()
    routes: tuple[tuple[datetime, str], ...] = ()
    resolution: str | None = None
    answer: dict | None = None
    escalations: tuple[tuple[str, int, str | None], ...] = ()     # target, level, department

    @property
    def outcome(self) -> str:
        return self.resolution or PENDING


@dataclass(frozen=True)
class TargetVerdict:
    """A target of one claim: ``met`` (on time), ``missed`` (met late), ``open_overdue`` (not met and
    past due) or ``open``; the department answerable for it (holding the claim when it was met on
    time, else when it fell due); the counted time each department held the claim until it was met
    (the time from receipt to the first routing as :data:`UNROUTED`)."""
    target: str
    verdict: str
    department: str | None
    held: dict[str, timedelta]


def assignments(claim: ClaimFacts) -> list[Assignment]:
    """Who held the claim when: its routings and reroutes; without any, its department since routing."""
    routes = list(claim.routes)
    if not routes and claim.department:
        routes = [(claim.routed_at or claim.received_at, claim.department)]
    return assignments_from_routing(routes)


def holder(held_by: list[Assignment], moment: datetime) -> str | None:
    """The department holding the claim at ``moment`` (before the first routing: the first one)."""
    found = held_by[0][0] if held_by else None
    for department, since, _ in held_by:
        if as_utc(since) <= as_utc(moment):
            found = department
    return found


def verdicts(claim: ClaimFacts, policy: Policy, now: datetime) -> list[TargetVerdict]:
    """Each deadline target of ``claim`` as it stands at ``now``."""
    held_by, pauses, out = assignments(claim), ledger(claim), []
    timeline = held_by
    if held_by and as_utc(held_by[0][1]) > as_utc(claim.received_at):
        timeline = [(UNROUTED, claim.received_at, held_by[0][1]), *held_by]
    for target, clock in clocks(claim, policy).items():
        met = clock.met_at if clock.met_at is not None and as_utc(clock.met_at) <= as_utc(now) else None
        due = clock.due
        if met is not None:
            verdict = "met" if due is None or as_utc(met) <= as_utc(due) else "missed"
            settled = met if verdict == "met" else due
        elif due is not None and as_utc(now) > as_utc(due):
            verdict, settled = "open_overdue", due
        else:
            verdict, settled = "open", now
        held = time_held(timeline, clock.rule, now=met or now, pauses=pauses)
        out.append(TargetVerdict(target.value, verdict, holder(held_by, settled) or claim.department, held))
    return out
