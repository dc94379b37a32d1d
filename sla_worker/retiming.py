"""Keeping a claim's SLA facts and deadlines true on every change, in the changer's transaction:
the departments' API, closing and reopening call :func:`record_transition` before the status
changes and :func:`retime` after. Deadlines are recomputed from the facts (pause ledger, met-at
moments, the claim's terms), never moved by hand."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shared.db.models import Claim
from shared.lifecycle import PAUSED
from shared.observability.metrics import TIME_TO_CLOSURE, TIME_TO_DECISION, TIME_TO_FIRST_RESPONSE
from shared.policy import Policy
from shared.schema import Status
from sla_worker.claim_clocks import after_transition, ledger, timing
from sla_worker.sweep import fired_of

_MET_METRIC = {"first_response_at": TIME_TO_FIRST_RESPONSE, "decided_at": TIME_TO_DECISION,
               "closed_at": TIME_TO_CLOSURE}


def record_transition(claim: Claim, to_status: Status | str, now: datetime) -> dict:
    """Update the claim's SLA facts for ``claim.status → to_status``; what the history should say of
    its clocks (stopped, or resumed after so many seconds)."""
    to_status = Status(to_status)
    before = ledger(claim)
    changes = after_transition(claim, to_status, now)
    for name, value in changes.items():
        setattr(claim, name, value)
    for name, histogram in _MET_METRIC.items():
        if changes.get(name) is not None:
            histogram.labels(claim.department or "none").observe(max(0.0, (now - claim.received_at).total_seconds()))
    if "sla_pauses" not in changes:
        return {}
    if to_status in PAUSED:
        return {"clocks": "stopped"}
    if to_status is Status.REOPENED:
        return {"clocks": "reopened"}
    return {"clocks": "resumed", "paused_seconds": max(0.0, (now - before[-1][0]).total_seconds())}


def retime(session: Session, claim: Claim, policy: Policy) -> None:
    """Recompute the claim's deadlines and next firing moment from its facts (after its status,
    department or terms changed)."""
    for name, value in timing(claim, policy, fired_of(session, [claim.id])[claim.id]).items():
        setattr(claim, name, value)
