"""What a department's request does to a claim, as pure functions: which transition (checked
against ``shared.lifecycle``), which fields are valid, what goes into the claim's history. The
database and HTTP are elsewhere (``service``, ``api``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from shared.lifecycle import IllegalTransition, allowed_next, transition
from shared.schema import Resolution, Status

S = Status
REJECTED = "rejected"
#: remedies that are a sum of money: an amount is required; for the others it does not apply
WITH_AMOUNT = frozenset({Resolution.REFUND, Resolution.DISCOUNT, Resolution.COMPENSATION})
MAX_AMOUNT = Decimal("9999999999.99")          # Numeric(12, 2)

#: each request: the states it applies to, and the state it leads to
ACTIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "acknowledge": (frozenset({S.ROUTED, S.REOPENED}), S.IN_PROGRESS),
    "request_information": (frozenset({S.IN_PROGRESS}), S.AWAITING_CUSTOMER),
    "customer_replied": (frozenset({S.AWAITING_CUSTOMER}), S.IN_PROGRESS),
    "decide": (frozenset({S.IN_PROGRESS}), S.DECIDED),          # or REJECTED
    "execute": (frozenset({S.DECIDED}), S.EXECUTED),
    "reroute": (frozenset({S.ROUTED, S.IN_PROGRESS, S.REOPENED}), S.ROUTED),
}


class IllegalAction(Exception):
    """The request does not apply to a claim in this state (a 409): the allowed next states."""

    def __init__(self, current: Status, message: str):
        super().__init__(message)
        self.current = current
        self.allowed = sorted(s.value for s in allowed_next(current))


class InvalidRequest(ValueError):
    """The request's fields do not make a valid change (a 422)."""

    def __init__(self, message: str, error: str = "invalid_request"):
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class Decision:
    resolution: str                 # a Resolution value, or "rejected"
    amount: Decimal | None = None
    currency: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    """One step of a claim: the history's action, the new status, the reason, the data, and what
    else comes with it (a decision, evidence of the remedy, a new department)."""
    action: str
    target: Status
    reason: str | None = None
    data: dict = field(default_factory=dict)
    decision: Decision | None = None
    evidence: object = None
    department: str | None = None
    category: str | None = None


def step(action: str, current: str, target: Status | None = None) -> Status:
    """The status ``action`` leads to from ``current``, or IllegalAction."""
    sources, default = ACTIONS[action]
    now, target = Status(current), target or default
    if now not in sources:
        applies = ", ".join(sorted(s.value for s in sources))
        raise IllegalAction(now, f"{action.replace('_', ' ')} applies to a claim that is {applies}; this one is "
                                 f"{now.value}")
    try:
        return transition(now, target)
    except IllegalTransition as exc:
        raise IllegalAction(now, str(exc)) from None


def text(value: str | None, name: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidRequest(f"{name} is required and may not be blank")
    return value or None


def acknowledge(current: str) -> Change:
    return Change("acknowledged", step("acknowledge", current))


def request_information(current: str, question: str) -> Change:
    question = text(question, "question", required=True)
    return Change("information_requested", step("request_information", current), question,
                  {"question": question, "clocks": "paused"})


def customer_replied(current: str, note: str | None) -> Change:
    return Change("customer_replied", step("customer_replied", current), text(note, "note", required=False),
                  {"clocks": "resumed"})


def decision_of(resolution: str, amount: Decimal | None, currency: str | None, reason: str | None) -> Decision:
    """A valid decision, or InvalidRequest saying what is wrong with it."""
    reason = text(reason, "reason", required=resolution == REJECTED)
    if resolution == REJECTED:
        if amount is not None or currency:
            raise InvalidRequest("a rejection has no amount")
        return Decision(REJECTED, reason=reason)
    remedy = Resolution(resolution)
    if remedy not in WITH_AMOUNT:
        if amount is not None or currency:
            raise InvalidRequest(f"an amount does not apply to {remedy.value}")
        return Decision(remedy.value, reason=reason)
    if amount is None:
        raise InvalidRequest(f"{remedy.value} needs an amount (and its currency)")
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidRequest(f"the amount must be positive and at most {MAX_AMOUNT}")
    if amount.as_tuple().exponent < -2:
        raise InvalidRequest("the amount has more than two decimal places")
    if not currency:
        raise InvalidRequest("the amount needs its currency (ISO 4217, like RUB)")
    return Decision(remedy.value, amount.quantize(Decimal("0.01")), currency, reason)


def decide(current: str, decision: Decision) -> Change:
    target = S.REJECTED if decision.resolution == REJECTED else S.DECIDED
    data = {"resolution": decision.resolution}
    if decision.amount is not None:
        data |= {"amount": str(decision.amount), "currency": decision.currency}
    return Change("rejected" if target is S.REJECTED else "decided", step("decide", current, target),
                  decision.reason, data, decision=decision)


def execute(current: str, evidence: str | dict, note: str | None = None) -> Change:
    if isinstance(evidence, str):
        evidence = text(evidence, "evidence", required=True)
    elif not evidence:
        raise InvalidRequest("evidence is required: a text or a non-empty JSON object")
    return Change("executed", step("execute", current), text(note, "note", required=False),
                  {"evidence": evidence}, evidence=evidence)


def reroute(claim, to_department: str, reason: str, policy, category: str | None = None) -> Change:
    """Send ``claim`` (its status, department and category) to another department. The category
    follows: the one named, else the target department's only category, else it stays. The
    (text, new category) pair is what ``claimflow routing corrections`` hands to training."""
    reason = text(reason, "reason", required=True)
    known = list(policy.departments)
    if to_department not in known:
        raise InvalidRequest(f"{to_department!r} is not a department; known: {', '.join(known)}",
                             "unknown_department")
    if category is not None and category not in policy.categories:
        raise InvalidRequest(f"{category!r} is not a category; known: {', '.join(policy.categories)}",
                             "unknown_category")
    target = step("reroute", claim.status)
    if to_department == claim.department:
        raise InvalidRequest(f"the claim is already with {to_department}", "same_department")
    if category is None:
        own = [name for name, c in policy.categories.items() if c.department == to_department]
        category = own[0] if len(own) == 1 else claim.category
    return Change("rerouted", target, reason, {"from_department": claim.department, "to_department": to_department,
                                               "from_category": claim.category, "to_category": category},
                  department=to_department, category=category)


def may_access(is_admin: bool, key_department: str | None, claim_department: str | None) -> bool:
    """An administrator sees every claim; a department only its own."""
    return is_admin or (key_department is not None and key_department == claim_department)
