"""The notify worker as a process: ``claimflow worker notify`` runs it until SIGTERM or SIGINT."""
from __future__ import annotations

import signal
import threading

from notify_worker.worker import NotifyWorker
from shared.bootstrap import App

METRICS_PORT = 9404


def run_notify(app: App, threads: int | None = None, metrics_port: int | None = None) -> None:
    settings = app.settings
    port = metrics_port if metrics_port is not None else (settings.metrics_port if settings.metrics_port is not None
                                                          else METRICS_PORT)
    if port:
        from shared.observability.worker_metrics import serve_worker_metrics
        serve_worker_metrics(app, port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = NotifyWorker(app, threads).start()
    try:
        stop.wait()
    finally:
        worker.stop()
        app.close()
