"""The SLA worker as a process: ``claimflow worker sla`` runs it until SIGTERM or SIGINT."""
from __future__ import annotations

import signal
import threading

from shared.bootstrap import App
from sla_worker.worker import SlaWorker

METRICS_PORT = 9403


def run_sla(app: App, metrics_port: int | None = None) -> None:
    settings = app.settings
    port = metrics_port if metrics_port is not None else (settings.metrics_port if settings.metrics_port is not None
                                                          else METRICS_PORT)
    if port:
        from shared.observability.worker_metrics import serve_worker_metrics
        serve_worker_metrics(app, port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = SlaWorker(app).start()
    try:
        stop.wait()
    finally:
        worker.stop()
        app.close()
