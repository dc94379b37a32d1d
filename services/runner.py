"""Running stages: a dramatiq worker for some stages of this process, and a re-driver that
finds work stuck in the database (a lost message, a killed worker) and nudges it again."""
from __future__ import annotations

import math
import threading
from datetime import timedelta

import dramatiq
import structlog

from services.stages import BACKLOGS, declare_actors
from shared.bootstrap import App
from shared.observability.metrics import REDRIVEN

log = structlog.get_logger("runner")

#: Which stages each named stage worker runs (its /metrics port: ``services.worker_process``).
WORKERS = {"intake": ("intake",), "routing": ("routing", "outbox")}
MAX_NUDGES_PER_SWEEP = 100


class Redriver(threading.Thread):
    """Every ``redrive_interval_seconds``, nudges each stage that has work older than
    ``redrive_after_seconds``; at start, nudges whatever is pending at all."""

    def __init__(self, app: App, stages: tuple[str, ...], stop: threading.Event):
        super().__init__(name="redriver", daemon=True)
        self.app, self.stages, self.stop = app, stages, stop

    def sweep(self, older_than=None) -> dict[str, int]:
        found = {}
        for stage in self.stages:
            with self.app.sessions() as session:
                n = BACKLOGS[stage].count(session, older_than)
            if not n:
                continue
            found[stage] = n
            REDRIVEN.labels(stage).inc(n)
            log.info("redrive.found", target=stage, items=n)
            if stage == "outbox":
                self.app.relay.publish_pending(limit=1000)
            else:
                nudges = min(math.ceil(n / self.app.settings.batch_size), MAX_NUDGES_PER_SWEEP)
                for _ in range(nudges):
                    self.app.actors[stage].send()
        return found

    def run(self) -> None:
        settings = self.app.settings
        first = True
        while not self.stop.is_set():
            try:
                older = None if first else self.app.clock.now() - timedelta(seconds=settings.redrive_after_seconds)
                self.sweep(older)
                first = False
            except Exception:   # noqa: BLE001 - a database hiccup must not kill the re-driver
                log.exception("redrive.failed")
            self.stop.wait(settings.redrive_interval_seconds)


class StageWorker:
    """A dramatiq worker consuming the queues of ``stages``, plus their re-driver."""

    def __init__(self, app: App, stages: tuple[str, ...], threads: int | None = None):
        declare_actors(app)
        self.app, self.stages = app, stages
        queues = {app.actors[s].queue_name for s in stages if s in app.actors}
        self.worker = dramatiq.Worker(app.broker, queues=queues,
                                      worker_threads=threads or app.settings.worker_threads, worker_timeout=200)
        self.worker.queue_prefetch = app.settings.queue_prefetch
        self.stopping = threading.Event()
        self.redriver = Redriver(app, stages, self.stopping)

    def start(self) -> "StageWorker":
        self.worker.start()
        self.redriver.start()
        log.info("worker.started", stages=list(self.stages))
        return self

    def alive(self) -> bool:
        """Every dramatiq consumer and worker thread, and the re-driver, still running."""
        threads = [self.redriver, *self.worker.workers, *self.worker.consumers.values()]
        return not self.stopping.is_set() and all(t.is_alive() for t in threads)

    def stop(self) -> None:
        self.stopping.set()
        self.worker.stop(timeout=30_000)
        self.redriver.join(timeout=10)
        log.info("worker.stopped", stages=list(self.stages))
