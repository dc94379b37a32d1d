"""The dead list: what a stage sets aside so that one bad item never stops the items behind it.

A stage runs its batch in one transaction. When that fails on anything but a lost connection,
``isolating`` runs the batch again item by item, each in its own transaction, and the item that
still fails is written here — stage, reason, a digest of the traceback's frames, attempts — and
left out of the stage's work from then on, instead of failing the same batch at every re-drive.
``claimflow dead list|retry|drop`` are what a person does about it."""
from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Iterable
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from shared.db.models import DeadItem

log = structlog.get_logger("dead_list")
DEAD, RETRIED, DROPPED = "dead", "retried", "dropped"
REASON_CHARS = 500


def transient(exc: BaseException) -> bool:
    """A lost connection or an unreachable database: retry later, the item is not at fault."""
    return isinstance(exc, DBAPIError) and (isinstance(exc, OperationalError) or exc.connection_invalidated)


def digest(exc: BaseException) -> str:
    """The same bug gives the same digest: the traceback's frames (file, function), not its values."""
    frames = [f"{f.filename.rsplit('/', 1)[-1]}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)]
    return hashlib.sha256("|".join([type(exc).__name__, *frames]).encode()).hexdigest()[:16]


def set_aside(session: Session, stage: str, item_id: int, exc: BaseException, now: datetime) -> None:
    """Record that ``item_id`` failed ``stage`` on its own; again after a retry, it counts an attempt."""
    from shared.observability.metrics import ITEMS_SET_ASIDE
    reason, bug = f"{type(exc).__name__}: {exc}"[:REASON_CHARS], digest(exc)
    found = session.scalar(select(DeadItem).where(DeadItem.stage == stage, DeadItem.item_id == item_id))
    if found is None:
        session.add(DeadItem(stage=stage, item_id=item_id, status=DEAD, reason=reason, digest=bug,
                             attempts=1, failed_at=now))
    else:
        found.status, found.reason, found.digest = DEAD, reason, bug
        found.attempts, found.failed_at, found.resolved_at = found.attempts + 1, now, None
    ITEMS_SET_ASIDE.labels(stage).inc()
    log.error("stage.item_set_aside", stage=stage, item_id=item_id, error=type(exc).__name__, digest=bug)


def set_aside_ids(stage: str):
    """The ids a stage must leave alone (dead or dropped), as a subquery for ``column.not_in(…)``."""
    return select(DeadItem.item_id).where(DeadItem.stage == stage, DeadItem.status != RETRIED).scalar_subquery()


def isolating(sessions, clock, stage: str, run: Callable[[list[int] | None], object],
              pending: Callable[[], list[int]]) -> list:
    """``run(None)``: the stage's batch in its own transaction. If it fails on anything but a lost
    connection, ``pending()`` names the batch's items and ``run([id])`` takes each alone; one that
    still fails goes to the dead list. The results of the runs that succeeded, in order."""
    try:
        return [run(None)]
    except Exception as exc:
        if transient(exc):
            raise
        log.warning("stage.batch_failed_isolating", stage=stage, error=type(exc).__name__)
    results = []
    for item_id in pending():
        try:
            results.append(run([item_id]))
        except Exception as exc:   # noqa: BLE001 - whatever it is, it must not stop the items behind it
            if transient(exc):
                raise
            with sessions.begin() as session:
                set_aside(session, stage, item_id, exc, clock.now())
    return results


def as_row(item: DeadItem) -> dict:
    return {"id": item.id, "stage": item.stage, "item_id": item.item_id, "status": item.status,
            "reason": item.reason, "digest": item.digest, "attempts": item.attempts,
            "failed_at": item.failed_at.isoformat(), "resolved_at": item.resolved_at and item.resolved_at.isoformat()}


def listed(session: Session, stage: str | None = None, everything: bool = False) -> list[dict]:
    query = select(DeadItem).order_by(DeadItem.id)
    if stage:
        query = query.where(DeadItem.stage == stage)
    if not everything:
        query = query.where(DeadItem.status == DEAD)
    return [as_row(item) for item in session.scalars(query)]


def resolve(session: Session, ids: Iterable[int], status: str, now: datetime) -> list[dict]:
    """Mark dead items ``retried`` (their stage takes them again) or ``dropped`` (left alone for
    good); one outcome per id: done, not_found or not_dead."""
    outcomes = []
    for dead_id in ids:
        item = session.get(DeadItem, dead_id)
        if item is None:
            outcomes.append({"id": dead_id, "outcome": "not_found"})
        elif item.status != DEAD:
            outcomes.append({"id": dead_id, "outcome": "not_dead", "status": item.status})
        else:
            item.status, item.resolved_at = status, now
            outcomes.append({"id": dead_id, "outcome": status, "stage": item.stage, "item_id": item.item_id})
    return outcomes
