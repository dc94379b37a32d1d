"""One SLA sweep: find the claims whose next firing moment has come (through the index on
``claims.next_sla_at``, never by scanning open claims), fire what is due — warnings and escalation
levels — and store each claim's next moment. In the caller's transaction:

- the claims are taken ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so SLA workers share the work;
- each (claim, target, level) is inserted into ``sla_escalations`` under a unique constraint with
  ``ON CONFLICT DO NOTHING``: only a row this sweep inserted goes on to history, notices and the
  department queue, so each fires once however many workers run and however often they restart;
- history rows, the department message (outbox) and the staff notices are written in the same
  transaction, and the caller publishes after commit."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from notify_worker.enqueue import insert_many, staff_values
from routing_worker.department_message import events_of, outbox_row
from shared.dead_list import set_aside_ids
from shared.db.models import Claim, ClaimHistory, OutboxMessage, SlaEscalation
from shared.db.statements import claim_work, in_values, insert_ignoring_conflicts, insert_rows
from shared.observability.logging import bound_claim
from shared.observability.metrics import ESCALATIONS, SLA_BREACHES, SLA_WARNINGS
from shared.policy import Policy
from sla_worker.claim_clocks import DUE_COLUMN, clocks, highest_level, timing
from sla_worker.clocks import Level, due_escalations

log = structlog.get_logger("sla")
CLAIMS, FIRED = Claim.__table__, SlaEscalation.__table__
STAGE = "sla"


@dataclass
class SweepResult:
    taken: int = 0
    fired: list[dict] = field(default_factory=list)      # {claim_number, target, level, department, due_at}
    outbox_ids: list[int] = field(default_factory=list)


def fired_of(session: Session, claim_ids: list[int]) -> dict[int, set[tuple[str, int]]]:
    """The (target, level) pairs already fired, by claim."""
    fired: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for row in session.execute(select(FIRED.c.claim_id, FIRED.c.target, FIRED.c.level)
                               .where(in_values(session, FIRED.c.claim_id, claim_ids))):
        fired[row.claim_id].add((row.target, row.level))
    return fired


def _insert_once(session: Session, rows: list[dict]) -> set[tuple[int, str, int]]:
    """Insert the escalations; the (claim, target, level) triples that were new."""
    if not rows:
        return set()
    # one executemany of INSERT … ON CONFLICT DO NOTHING RETURNING (SQLAlchemy's "insertmanyvalues")
    statement = insert_ignoring_conflicts(session, FIRED).returning(FIRED.c.claim_id, FIRED.c.target, FIRED.c.level)
    return {tuple(r) for r in session.execute(statement, rows).all()}


def due(now: datetime, ids: list[int] | None = None):
    """The claims whose next moment has come, but those the dead list holds."""
    query = select(CLAIMS).where(CLAIMS.c.next_sla_at <= now, CLAIMS.c.id.not_in(set_aside_ids(STAGE)))
    return query.where(CLAIMS.c.id.in_(ids)) if ids is not None else query


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(due(now).with_only_columns(CLAIMS.c.id).order_by(CLAIMS.c.next_sla_at).limit(limit)))


def sweep(session: Session, *, now: datetime, policy: Policy, limit: int = 500, worker: str = "sla",
          ids: list[int] | None = None) -> SweepResult:
    """Fire what is due at ``now`` for up to ``limit`` claims (or only ``ids``), in the caller's
    transaction."""
    rows = session.execute(claim_work(session, due(now, ids).order_by(CLAIMS.c.next_sla_at)
                                      .limit(limit))).mappings().all()
    result = SweepResult(taken=len(rows))
    if not rows:
        return result
    claims = {r["id"]: dict(r) for r in rows}
    fired = fired_of(session, list(claims))
    wanted, updates, found = [], [], {}
    for claim_id, claim in claims.items():
        found[claim_id] = clocks(claim, policy)
        for e in due_escalations(found[claim_id], now, fired[claim_id]):
            wanted.append({"claim_id": claim_id, "target": e.target.value, "level": int(e.level),
                           "department": claim["department"], "due_at": e.at, "fired_at": now, "fired_by": worker})
    new = _insert_once(session, wanted)
    fresh = [w for w in wanted if (w["claim_id"], w["target"], w["level"]) in new]
    for w in fresh:
        fired[w["claim_id"]].add((w["target"], w["level"]))
    for claim_id, claim in claims.items():
        claim["escalation_level"] = max(claim["escalation_level"] or 0, highest_level(fired[claim_id]))
        retimed = timing(claim, policy, fired[claim_id], found[claim_id])
        claim.update(retimed)
        updates.append({"_id": claim_id, "_level": claim["escalation_level"], "_updated": now,
                        **{f"_{k}": v for k, v in retimed.items()}})
    _store_timing(session, updates)
    if fresh:
        result.outbox_ids = _announce(session, claims, fresh, now)
    result.fired = [{"claim_number": claims[w["claim_id"]]["claim_number"], "target": w["target"],
                     "level": w["level"], "department": w["department"], "due_at": w["due_at"]} for w in fresh]
    return result


def _store_timing(session: Session, updates: list[dict]) -> None:
    session.execute(update(CLAIMS).where(CLAIMS.c.id == bindparam("_id")).values(
        escalation_level=bindparam("_level"), updated_at=bindparam("_updated"),
        **{column: bindparam(f"_{column}") for column in (*DUE_COLUMN.values(), "next_sla_at")}), updates)


def _announce(session: Session, claims: dict[int, dict], fresh: list[dict], now: datetime) -> list[int]:
    """History, staff notices and one department message per claim for what fired."""
    history, notices, per_claim = [], [], defaultdict(list)
    for w in fresh:
        claim, level = claims[w["claim_id"]], Level(w["level"])
        per_claim[w["claim_id"]].append(w)
        warning = level is Level.WARNING
        history.append({"claim_id": w["claim_id"], "at": now, "actor": "sla", "action":
                        "sla_warning" if warning else "escalated", "from_status": claim["status"],
                        "to_status": claim["status"], "reason": f"{w['target']} " + (
                            "80 % used" if warning else f"level {int(level)}"),
                        "data": {"target": w["target"], "level": int(level), "due_at": w["due_at"].isoformat()}})
        notices += staff_values(claim, "sla_warning" if warning else "escalation", now,
                                context={"target": w["target"], "level": "warning" if warning else int(level)})
        department = claim["department"] or "none"
        if warning:
            SLA_WARNINGS.labels(w["target"], department).inc()
        else:
            ESCALATIONS.labels(str(int(level)), w["target"]).inc()
            if level is Level.LEVEL_1:
                SLA_BREACHES.labels(w["target"], department).inc()
        with bound_claim(claim):
            log.info("sla.fired", claim_number=claim["claim_number"], target=w["target"], level=int(level),
                     department=claim["department"])
    session.execute(insert(ClaimHistory.__table__), history)
    insert_many(session, notices)      # the staff are told once: the notices' keys are unique
    events = events_of(session, list(per_claim))
    messages = [outbox_row(claims[claim_id], events[claim_id], now) for claim_id in per_claim
                if claims[claim_id]["department"]]
    return insert_rows(session, OutboxMessage.__table__, messages)
