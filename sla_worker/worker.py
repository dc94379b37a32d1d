"""The SLA worker: sweeps due claims every ``sla_interval_seconds`` (and at once again while a sweep
comes back full), publishes what fired after each commit, and runs the closing housekeeping
(claims unanswered too long are closed, old closed ones archived) once a minute. Any number of them
may run: the sweep shares claims with ``FOR UPDATE SKIP LOCKED`` and a unique constraint decides
what fires."""
from __future__ import annotations

import os
import socket
import threading
import time

import structlog

from shared.bootstrap import App
from shared.observability.metrics import STAGE_ERRORS, STAGE_ITEMS, STAGE_SECONDS
from shared.dead_list import isolating
from shared.heartbeat import Heartbeat
from sla_worker.sweep import SweepResult, due_ids, sweep

log = structlog.get_logger("sla")
HOUSEKEEPING_SECONDS = 60.0


def sweep_once(app: App, *, now=None, limit: int | None = None, worker: str = "sla") -> SweepResult:
    """One sweep in its own transaction, then publish its department messages. A claim the sweep
    fails on even alone goes to the dead list and never stops escalation for the others."""
    started = time.perf_counter()
    at, limit = now or app.clock.now(), limit or app.settings.sla_batch_size

    def run(ids):
        with app.sessions.begin() as session:
            return sweep(session, now=at, policy=app.policy, limit=limit, worker=worker, ids=ids)

    def pending():
        with app.sessions() as session:
            return due_ids(session, at, limit)
    parts = isolating(app.sessions, app.clock, "sla", run, pending)
    result = SweepResult(taken=sum(p.taken for p in parts), fired=[f for p in parts for f in p.fired],
                         outbox_ids=[i for p in parts for i in p.outbox_ids])
    STAGE_SECONDS.labels("sla").observe(time.perf_counter() - started)
    STAGE_ITEMS.labels("sla").inc(result.taken)
    if result.outbox_ids:
        app.relay.publish_pending(result.outbox_ids)
    return result


class SlaWorker:
    def __init__(self, app: App):
        self.app = app
        self.name = f"sla:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sla-sweep", daemon=True)
        self._housekept = 0.0
        self.heartbeat = Heartbeat(app.settings.stuck_after_seconds)

    def start(self) -> "SlaWorker":
        from sla_worker.policy_versions import adopt
        with self.app.sessions.begin() as session:     # new deadline rules: re-time what they change
            adopt(session, self.app.policy, self.app.clock.now())
        log.info("worker.started", stages=["sla"])
        self._thread.start()
        return self

    def alive(self) -> bool:
        """The sweep thread runs, and came round lately (not stuck in a sweep)."""
        return self._thread.is_alive() and not self._stop.is_set() and self.heartbeat.fresh()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)
        log.info("worker.stopped", stages=["sla"])

    def _run(self) -> None:
        settings = self.app.settings
        while not self._stop.is_set():
            self.heartbeat.beat()
            try:
                result = sweep_once(self.app, worker=self.name)
                self._housekeeping()
            except Exception:   # noqa: BLE001 - a failed sweep leaves its claims due: the next one retries
                STAGE_ERRORS.labels("sla").inc()
                log.exception("sla.sweep_failed")
                self._stop.wait(settings.sla_interval_seconds)
                continue
            if result.taken < settings.sla_batch_size:
                self._stop.wait(settings.sla_interval_seconds)

    def _housekeeping(self) -> None:
        if time.monotonic() - self._housekept < HOUSEKEEPING_SECONDS:
            return
        self._housekept = time.monotonic()
        from services.closing.closing import closing_sweep
        closing_sweep(self.app)
