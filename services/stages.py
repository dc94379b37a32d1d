"""The pipeline's stages as dramatiq actors. An actor's message is a nudge ("there is work"):
the stage takes its next batch from the database, commits, publishes after the commit and
nudges the next stage. Every stage runs inside one wrapper that owns the transaction, the
metrics and the log context."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq
import structlog
from sqlalchemy import func, select

from intake_worker.blobs import BlobStore
from intake_worker.channels import NormaliseContext
from intake_worker.dedupe import DedupeRules
from intake_worker.registration import IntakeBatch, pending_ids, quarantine_failed, register_pending
from routing_worker.routing import pending_ids as routing_pending_ids
from routing_worker.routing import route_pending
from shared.bootstrap import App
from shared.dead_list import isolating, set_aside_ids, transient
from shared.db.models import Claim, InboxEvent, OutboxMessage
from shared.observability.metrics import STAGE_ERRORS, STAGE_ITEMS, STAGE_SECONDS

log = structlog.get_logger("stage")


@contextmanager
def stage_run(name: str):
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(stage=name):
        try:
            yield
        except Exception:
            STAGE_ERRORS.labels(name).inc()
            log.exception("stage.failed")
            raise
        finally:
            STAGE_SECONDS.labels(name).observe(time.perf_counter() - started)


def _register(app: App, ids: list[int] | None = None) -> IntakeBatch:
    settings = app.settings
    rules = DedupeRules(window=timedelta(days=settings.dedupe_window_days),
                        text_window=timedelta(hours=settings.dedupe_text_hours),
                        text_similarity=settings.dedupe_text_similarity)
    with app.sessions.begin() as session:
        return register_pending(session, now=app.clock.now(), batch_size=settings.batch_size,
                                context=NormaliseContext(settings.default_region),
                                max_bytes=settings.max_event_bytes, rules=rules,
                                blobs=BlobStore(settings.blob_dir), ids=ids,
                                order_wait=settings.dedupe_order_wait_seconds)


def _register_one_by_one(app: App) -> IntakeBatch:
    """After a batch failed on something other than a lost connection (the database refusing a
    row, dedupe, the blob store, any bug): each event in its own transaction, and the one that
    still fails is quarantined instead of blocking the rest."""
    with app.sessions() as session:
        ids = pending_ids(session, app.settings.batch_size)
    total = IntakeBatch()
    for inbox_id in ids:
        try:
            one = _register(app, [inbox_id])
        except Exception as exc:   # noqa: BLE001 - whatever it is, it must not stop the events behind it
            if transient(exc):
                raise
            with app.sessions.begin() as session:
                one = IntakeBatch(taken=1, quarantined=int(quarantine_failed(session, inbox_id, exc, app.clock.now())))
        for part in ("taken", "registered", "merged", "quarantined", "ignored"):
            setattr(total, part, getattr(total, part) + getattr(one, part))
    return total


def intake_step(app: App) -> int:
    settings = app.settings
    with stage_run("intake"):
        try:
            batch = _register(app)
        except Exception as exc:
            if transient(exc):
                raise
            log.warning("intake.batch_failed_isolating", error=repr(exc)[:300])
            batch = _register_one_by_one(app)
        STAGE_ITEMS.labels("intake").inc(batch.taken)
    if batch.registered:
        app.actors["routing"].send()
    if batch.taken >= settings.batch_size:      # there may be more: keep going
        app.actors["intake"].send()
    return batch.taken


def routing_model(app: App):
    """The category model the settings name (``none``: keyword rules only), loaded once a process and
    checked against the policy's categories."""
    choice = app.settings.routing_model.strip()
    if choice.lower() in ("", "none"):
        return None
    from routing_worker.model import CategoryModel
    model = CategoryModel.for_policy(app.policy, None if choice.lower() == "bundled" else choice)
    model.load()
    return model


def routing_step(app: App) -> int:
    """One routing batch; a claim it fails on even alone goes to the dead list (``shared.dead_list``)
    and never holds up the claims behind it."""
    settings = app.settings
    with stage_run("routing"):
        model = routing_model(app)

        def run(ids):
            with app.sessions.begin() as session:
                return route_pending(session, now=app.clock.now(), batch_size=settings.batch_size,
                                     policy=app.policy, model=model, ids=ids)

        def pending():
            with app.sessions() as session:
                return routing_pending_ids(session, settings.batch_size)
        batches = isolating(app.sessions, app.clock, "routing", run, pending)
        taken = sum(b.taken for b in batches)
        STAGE_ITEMS.labels("routing").inc(taken)
        app.relay.publish_pending([i for b in batches for i in b.outbox_ids])   # after commit; leftovers re-driven
    if taken >= settings.batch_size:
        app.actors["routing"].send()
    return taken


@dataclass(frozen=True)
class Backlog:
    """How to find a stage's stuck work in the database."""
    count: Callable  # (session, older_than) -> int


def _older(column, older_than):
    return column < older_than if older_than is not None else column.isnot(None)


BACKLOGS = {
    "intake": Backlog(lambda s, t: s.scalar(select(func.count()).select_from(InboxEvent).where(
        InboxEvent.status == "pending", _older(InboxEvent.accepted_at, t)))),
    "routing": Backlog(lambda s, t: s.scalar(select(func.count()).select_from(Claim).where(
        Claim.status == "registered", Claim.department.is_(None), _older(Claim.updated_at, t),
        Claim.id.not_in(set_aside_ids("routing"))))),
    "outbox": Backlog(lambda s, t: s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.published_at.is_(None), _older(OutboxMessage.created_at, t),
        OutboxMessage.id.not_in(set_aside_ids("outbox"))))),
}

STEPS = {"intake": intake_step, "routing": routing_step}


def nudge(app: App, stage: str, items: int) -> None:
    """After a commit that left ``items`` of work for ``stage``: wake it, one message a batch. A lost
    nudge loses nothing — the work is pending in the database and the re-driver finds it — so a
    broker failure here is only logged."""
    if not items:
        return
    actor = app.actors.get(stage)
    if actor is None:
        log.warning("stage.not_declared", target=stage, items=items)
        return
    try:
        for _ in range(math.ceil(items / app.settings.batch_size)):
            actor.send()
    except Exception as exc:   # noqa: BLE001 - any broker trouble: the re-driver catches up
        log.warning("stage.nudge_failed", target=stage, items=items, error=type(exc).__name__)


def declare_actors(app: App) -> dict[str, dramatiq.Actor]:
    """Attach the stage actors to this process's broker (never the global one)."""
    options = dict(broker=app.broker, max_retries=app.settings.max_retries, min_backoff=500,
                   max_backoff=30_000)
    for name, step in STEPS.items():
        if name not in app.actors:
            app.actors[name] = dramatiq.actor(_bind(step, app), actor_name=name,
                                              queue_name=app.settings.queue_prefix + name, **options)
    return app.actors


def _bind(step, app):
    def run() -> None:
        step(app)
    run.__name__ = step.__name__
    return run
