"""Closing steps on the database: a claim's state as ``satisfaction`` sees it, and each step applied
with its history row (and the actor), its closing report, its customer notice and, on a reopening,
the department's message — all in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify_worker.enqueue import notify_customer
from routing_worker.department_message import write_department_message
from services.closing.report import write_report
from services.closing.satisfaction import ClaimState, Step
from services.closing.survey_token import issue, survey_url
from shared.db.models import Claim, ClaimExecution, ClaimHistory
from shared.schema import Status
from sla_worker.claim_clocks import FINISHED
from sla_worker.retiming import record_transition, retime

log = structlog.get_logger("closing")


@dataclass(frozen=True)
class SurveyLinks:
    """What a survey link is made of: the secret (None: no links), the public base and the lifetime."""
    secret: str | None
    base: str
    lifetime: timedelta

    def url(self, claim_number: str, round_: int, now: datetime) -> str | None:
        if not self.secret:
            return None
        return survey_url(self.base, issue(self.secret, claim_number, round_, now + self.lifetime))


@dataclass
class Applied:
    actions: list[str]
    outbox_ids: list[int]


def survey_round(session: Session, claim_id: int) -> int:
    """How many times the claim was reopened: a survey link answers for its own round only."""
    return session.scalar(select(func.count()).select_from(ClaimHistory)
                          .where(ClaimHistory.claim_id == claim_id, ClaimHistory.action == "reopened")) or 0


def claim_state(session: Session, claim: Claim) -> ClaimState:
    """The claim's status, since when, and whether the remedy's evidence exists for this round."""
    def last(*conditions):
        return session.scalar(select(func.max(ClaimHistory.at)).where(ClaimHistory.claim_id == claim.id,
                                                                      *conditions))
    since = last(ClaimHistory.to_status == claim.status) or claim.updated_at
    reopened = last(ClaimHistory.action == "reopened")
    evidence = select(ClaimExecution.id).where(ClaimExecution.claim_id == claim.id)
    if reopened is not None:
        evidence = evidence.where(ClaimExecution.executed_at >= reopened)
    found = [e for e in session.scalars(select(ClaimExecution.evidence).where(ClaimExecution.id.in_(evidence)))]
    return ClaimState(Status(claim.status), since, any(bool(e) for e in found))


def _department_message(session: Session, claim: Claim, now: datetime) -> int | None:
    """A reopened claim goes back to its department's queue (published after the commit)."""
    if not claim.department:
        return None
    return write_department_message(session, claim, now).id


def apply_steps(session: Session, claim: Claim, steps: list[Step], actor: str, now: datetime, *,
                links: SurveyLinks | None = None, timezone: str = "UTC", sla_policy=None) -> Applied:
    """Each step on the (locked) claim: status, history, then what comes with it; then its SLA
    clocks recomputed (under ``sla_policy``; without one a finished claim's simply stop)."""
    applied = Applied([], [])
    for number, step in enumerate(steps):
        previous = claim.status
        if step.target is not None:
            record_transition(claim, step.target, now)       # the met-at moments and pause ledger
            claim.status, claim.updated_at = step.target.value, now
        row = ClaimHistory(claim_id=claim.id, at=now, actor=actor, action=step.action,
                           from_status=previous if step.target else None,
                           to_status=step.target.value if step.target else None, reason=step.reason, data=step.data)
        session.add(row)
        session.flush()
        final = number == len(steps) - 1
        if step.action in ("closed", "survey_answered"):
            write_report(session, claim, "closed" if step.action == "closed" else "answered", now, timezone)
        if step.action == "closed" and final:
            url = links.url(claim.claim_number, survey_round(session, claim.id), now) if links else None
            notify_customer(session, claim, "closed", now, context={"survey_url": url, "discriminator": row.id,
                                                                    "outcome": step.data.get("outcome")})
        if step.action == "reopened":
            notify_customer(session, claim, "reopened", now, context={"survey_url": None, "discriminator": row.id,
                                                                      "reason": step.reason})
            if (outbox_id := _department_message(session, claim, now)) is not None:
                applied.outbox_ids.append(outbox_id)
        applied.actions.append(step.action)
        log.info("claim.closing_step", claim_number=claim.claim_number, action=step.action, from_status=previous,
                 to_status=claim.status, actor=actor.split(":")[0])
    if sla_policy is not None:
        retime(session, claim, sla_policy)
    elif Status(claim.status) in FINISHED:
        claim.next_sla_at = None
    return applied
