"""Closing on the database: the customer's survey answer (``record_survey_answer``), the sweep that
closes claims nobody answered and takes replies as answers (``close_unanswered``), and the archive
(``archive_due``). ``closing_sweep(app)`` runs both sweeps, each in its own transaction: the CLI's
``claimflow claims close-unanswered`` / ``archive`` and the SLA worker call it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.closing_policy import ClosingPolicy, parse_closing
from services.closing.replies import claims_with_replies, unanswered_replies
from services.closing.satisfaction import (AWAITING, Refused, answer_of, answer_steps, archive_steps,
                                           silence_steps)
from services.closing.steps import SurveyLinks, apply_steps, claim_state, survey_round
from services.closing.survey_token import TokenRefused, public_base, verify
from shared.bootstrap import App
from shared.db.models import Claim
from shared.db.statements import claim_work
from shared.policy import Policy
from shared.schema import Status

log = structlog.get_logger("closing")
SWEEPER = "closing"


@lru_cache(maxsize=8)
def _closing_of(policy: Policy) -> ClosingPolicy:     # a Policy is hashed by identity: one per load
    return parse_closing(policy.document, policy.source)


def closing_policy(app: App) -> ClosingPolicy:
    """The ``closing:`` section of the policy the process loaded (the file is not read again)."""
    return _closing_of(app.policy)


def survey_links(app: App) -> SurveyLinks:
    return SurveyLinks(app.settings.survey_secret, public_base(app.settings), closing_policy(app).survey_lifetime)


def survey_link(app: App, session: Session, claim: Claim, now: datetime) -> str | None:
    """The survey link of ``claim`` as it is now (for the notice of an executed or rejected claim)."""
    return survey_links(app).url(claim.claim_number, survey_round(session, claim.id), now)


@dataclass
class Outcome:
    claim_number: str
    status: str
    actions: list[str]
    outbox_ids: list[int] = field(default_factory=list)


def record_survey_answer(app: App, token: str, score: int, comment: str | None, now: datetime) -> Outcome:
    """The customer's survey answer: closes, reopens or is recorded (``satisfaction.answer_steps``).
    TokenRefused (TokenExpired) for a link that is not ours (or too old), Refused for a claim that
    cannot take it (archived, not waiting for an answer, an earlier round's link), ValueError for a
    score outside 1–5."""
    ticket = verify(app.settings.survey_secret or "", token, now)
    answer = answer_of(score, comment)
    with app.sessions.begin() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == ticket.claim_number).with_for_update())
        if claim is None:
            raise TokenRefused("not a survey link of ours")
        if survey_round(session, claim.id) != ticket.round:
            raise Refused("stale", "this survey link was sent before the claim was reopened; the latest "
                                   "message about the claim has the current one")
        steps = answer_steps(claim_state(session, claim), answer, now, closing_policy(app))
        applied = apply_steps(session, claim, steps, "customer:survey", now, links=survey_links(app),
                              timezone=app.policy.calendar.timezone, sla_policy=app.policy)
        outcome = Outcome(claim.claim_number, claim.status, applied.actions, applied.outbox_ids)
    publish_after_commit(app, outcome.outbox_ids)
    return outcome


def close_unanswered(session: Session, now: datetime, policy: ClosingPolicy, *, links: SurveyLinks | None = None,
                     timezone: str = "UTC", limit: int = 500, sla_policy=None) -> list[Outcome]:
    """Replies merged into waiting (or recently closed) claims are their answers; then executed or
    rejected claims that waited ``answer_days`` without one are closed as "no response"."""
    done = []
    for claim_id in claims_with_replies(session, now - policy.survey_lifetime):
        claim = session.scalar(claim_work(session, select(Claim).where(Claim.id == claim_id)))
        if claim is None:
            continue
        actions = []
        for answer in unanswered_replies(session, claim.id, claim_state(session, claim).since):
            state = claim_state(session, claim)
            if state.status not in AWAITING | {Status.CLOSED}:
                break
            try:
                steps = answer_steps(state, answer, now, policy)
            except Refused as e:
                log.warning("closing.reply_refused", claim_number=claim.claim_number, code=e.code)
                break
            actions += apply_steps(session, claim, steps, "customer:reply", now, links=links,
                                   timezone=timezone, sla_policy=sla_policy).actions
        if actions:
            done.append(Outcome(claim.claim_number, claim.status, actions))
    due = select(Claim).where(Claim.status.in_([s.value for s in AWAITING]),
                              Claim.updated_at <= now - policy.answer_time).order_by(Claim.id).limit(limit)
    for claim in session.scalars(claim_work(session, due)).all():
        try:
            steps = silence_steps(claim_state(session, claim), now, policy)
        except Refused as e:        # executed without evidence: a person must look at it
            log.warning("closing.cannot_close", claim_number=claim.claim_number, code=e.code)
            continue
        if steps:
            applied = apply_steps(session, claim, steps, SWEEPER, now, links=links, timezone=timezone,
                                  sla_policy=sla_policy)
            done.append(Outcome(claim.claim_number, claim.status, applied.actions))
    return done


def archive_due(session: Session, now: datetime, retention: timedelta, *, limit: int = 500) -> list[Outcome]:
    """Claims closed for longer than ``retention`` become ``archived``: read-only, still exported."""
    due = select(Claim).where(Claim.status == Status.CLOSED.value,
                              Claim.updated_at <= now - retention).order_by(Claim.id).limit(limit)
    done = []
    for claim in session.scalars(claim_work(session, due)).all():
        steps = archive_steps(claim_state(session, claim), now, retention)
        if steps:
            apply_steps(session, claim, steps, SWEEPER, now)
            done.append(Outcome(claim.claim_number, claim.status, [s.action for s in steps]))
    return done


def closing_sweep(app: App, now: datetime | None = None) -> dict[str, list[Outcome]]:
    """Both sweeps, each in its own transaction; for the SLA worker's sweep and the CLI."""
    now = now or app.clock.now()
    policy = closing_policy(app)
    with app.sessions.begin() as session:
        closed = close_unanswered(session, now, policy, links=survey_links(app),
                                  timezone=app.policy.calendar.timezone, sla_policy=app.policy)
    with app.sessions.begin() as session:
        archived = archive_due(session, now, policy.retention)
    if any("reopened" in o.actions for o in closed):
        publish_after_commit(app, None)
    if closed or archived:
        log.info("closing.swept", closed=sum("closed" in o.actions for o in closed),
                 reopened=sum("reopened" in o.actions for o in closed), archived=len(archived))
    return {"closed": closed, "archived": archived}


def publish_after_commit(app: App, outbox_ids: list[int] | None) -> None:
    """After the commit; a failure loses nothing: the outbox stage re-drives the message."""
    if outbox_ids is not None and not outbox_ids:
        return
    try:
        app.relay.publish_pending(outbox_ids)
    except Exception as exc:   # noqa: BLE001
        log.warning("closing.publish_failed", error=type(exc).__name__)
