"""The facts of a closing report, gathered from the database into one JSON document: the problem,
the channels and contacts, the events, the analysis (category, department, confidence, reroutes),
the decisions, the executions with their evidence, the history with dates, the deadlines met or
missed, and the customer's answer. The summaries of the history are pure functions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Claim, ClaimDecision, ClaimEvent, ClaimExecution, ClaimHistory

#: each deadline, its column, and the history's statuses that meet it: the first time one is reached
#: (the last, for closure: a reopened claim is settled when it closes again)
DEADLINES = (("first_response", "first_response_due", ("routed",)),
             ("decision", "decision_due", ("decided", "rejected")),
             ("closure", "closure_due", ("closed",)))
LAST_COUNTS = frozenset({"closure"})
ANSWER_ACTIONS = ("closed", "reopened", "survey_answered")


def _iso(value):
    return value.isoformat() if value is not None else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def deadline_outcomes(due: dict[str, str | None], history: list[dict], now: datetime) -> list[dict]:
    """Each deadline: when it was due, when it was met (the first history row reaching one of its
    statuses), and whether that was in time: ``met``, ``missed``, ``open`` (not yet due) or ``none``."""
    outcomes = []
    for name, _, statuses in DEADLINES:
        order = reversed(history) if name in LAST_COUNTS else iter(history)
        reached = next((h["at"] for h in order if h["to_status"] in statuses), None)
        due_at, done_at = _at(due.get(name)), _at(reached)
        if due_at is None:
            verdict = "none"
        elif done_at is not None:
            verdict = "met" if done_at <= due_at else "missed"
        else:
            verdict = "missed" if now > due_at else "open"
        late = (done_at or now) - due_at if due_at is not None and verdict == "missed" else None
        outcomes.append({"name": name, "due": due.get(name), "done": reached, "verdict": verdict,
                         "late_hours": round(late.total_seconds() / 3600, 1) if late is not None else None})
    return outcomes


def customer_answer(history: list[dict]) -> dict | None:
    """The customer's latest answer (score, comment, how and when), "no response", or None."""
    for h in reversed(history):
        if h["action"] not in ANSWER_ACTIONS:
            continue
        if "answer" in h["data"]:
            return {**h["data"]["answer"], "at": h["at"], "outcome": "answered"}
        if h["data"].get("outcome") == "no_response":
            return {"outcome": "no_response", "at": h["at"]}
    return None


def reroutes(history: list[dict]) -> list[dict]:
    return [{"at": h["at"], "actor": h["actor"], "reason": h["reason"],
             "from_department": h["data"].get("from_department"), "to_department": h["data"].get("to_department"),
             "from_category": h["data"].get("from_category"), "to_category": h["data"].get("to_category")}
            for h in history if h["action"] == "rerouted"]


def gather(session: Session, claim: Claim, now: datetime) -> dict:
    """The dossier of ``claim`` as it stands at ``now``."""
    def rows(model, order):
        return session.scalars(select(model).where(model.claim_id == claim.id).order_by(order)).all()

    history = [{"at": _iso(h.at), "actor": h.actor, "action": h.action, "from_status": h.from_status,
                "to_status": h.to_status, "reason": h.reason, "data": h.data or {}}
               for h in rows(ClaimHistory, ClaimHistory.id)]
    events = [{"channel": e.channel, "source": e.source, "event_id": e.event_id, "kind": e.kind,
               "received_at": _iso(e.received_at), "text": e.text} for e in rows(ClaimEvent, ClaimEvent.id)]
    decisions = [{"resolution": d.resolution, "amount": None if d.amount is None else str(d.amount),
                  "currency": d.currency, "reason": d.reason, "decided_by": d.decided_by,
                  "department": d.department, "decided_at": _iso(d.decided_at)}
                 for d in rows(ClaimDecision, ClaimDecision.id)]
    executions = [{"evidence": x.evidence, "executed_by": x.executed_by, "department": x.department,
                   "executed_at": _iso(x.executed_at)} for x in rows(ClaimExecution, ClaimExecution.id)]
    moves = reroutes(history)
    departments = [m["from_department"] for m in moves if m["from_department"]] + [claim.department]
    departments = list(dict.fromkeys(d for d in departments if d))
    due = {name: _iso(getattr(claim, column)) for name, column, _ in DEADLINES}
    return {
        "claim_number": claim.claim_number, "status": claim.status, "produced_at": _iso(now),
        "problem": {"subject": claim.subject, "description": claim.description,
                    "desired_resolution": claim.desired_resolution, "order_ref": claim.order_ref, "sku": claim.sku,
                    "purchase_date": _iso(claim.purchase_date), "received_at": _iso(claim.received_at),
                    "language": claim.language, "attachments": (claim.details or {}).get("attachments", [])},
        "channels": list(dict.fromkeys(e["channel"] for e in events)) or [claim.channel],
        "contacts": {"name": claim.customer_name, "email": claim.customer_email, "phone": claim.customer_phone},
        "events": events,
        "analysis": {"category": claim.category, "department": claim.department, "departments": departments,
                     "priority": claim.priority, "confidence": claim.confidence,
                     "evidence": (claim.details or {}).get("evidence", []), "reroutes": moves,
                     "escalation_level": claim.escalation_level},
        "decisions": decisions, "executions": executions, "history": history,
        "deadlines": deadline_outcomes(due, history, now),
        "answer": customer_answer(history),
    }
