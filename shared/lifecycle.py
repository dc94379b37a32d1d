"""The claim state machine of ``policy.md``, as pure functions.

registered → routed → in_progress ⇄ awaiting_customer → decided → executed → closed → archived,
with ``rejected`` as a decision and ``reopened`` when the customer disputes a closed claim.
"""
from __future__ import annotations

from shared.schema import Status

S = Status

ALLOWED: dict[Status, frozenset[Status]] = {
    S.REGISTERED: frozenset({S.ROUTED}),
    S.ROUTED: frozenset({S.ROUTED, S.IN_PROGRESS}),                 # routed → routed is a reroute
    S.IN_PROGRESS: frozenset({S.AWAITING_CUSTOMER, S.DECIDED, S.REJECTED, S.ROUTED}),
    S.AWAITING_CUSTOMER: frozenset({S.IN_PROGRESS}),
    S.DECIDED: frozenset({S.EXECUTED}),
    S.REJECTED: frozenset({S.CLOSED, S.REOPENED}),
    S.EXECUTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.ARCHIVED, S.REOPENED}),
    S.REOPENED: frozenset({S.ROUTED, S.IN_PROGRESS}),
    S.ARCHIVED: frozenset(),
}

#: States in which the claim's SLA clocks stop.
PAUSED = frozenset({S.AWAITING_CUSTOMER})
#: States in which a claim is still the retailer's to handle.
OPEN = frozenset(set(Status) - {S.CLOSED, S.ARCHIVED})


class IllegalTransition(ValueError):
    def __init__(self, current: Status, target: Status):
        self.current, self.target = current, target
        self.allowed = sorted(s.value for s in ALLOWED[current])
        super().__init__(f"a claim that is {current.value} cannot become {target.value}; "
                         f"allowed next: {', '.join(self.allowed) or 'none'}")


def allowed_next(current: Status) -> frozenset[Status]:
    return ALLOWED[current]


def transition(current: Status, target: Status) -> Status:
    """Return ``target`` if the machine allows ``current → target``, else raise IllegalTransition."""
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)
    return target
