"""One worker process: its /metrics (and /healthz) server, the worker's threads, and a clean stop
on SIGTERM or SIGINT. Every `claimflow worker NAME` runs through :func:`run_until_signalled`."""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from shared.bootstrap import App

#: the /metrics port of each worker when neither --metrics-port nor CLAIMFLOW_METRICS_PORT says
DEFAULT_PORTS = {"intake": 9401, "routing": 9402, "sla": 9403, "notify": 9404, "department-updates": 9405}


def metrics_port_of(app: App, name: str, asked: int | None) -> int:
    if asked is not None:
        return asked
    return app.settings.metrics_port if app.settings.metrics_port is not None else DEFAULT_PORTS[name]


def run_until_signalled(app: App, name: str, start: Callable[[], object], metrics_port: int | None = None) -> None:
    """Serve metrics, ``start()`` the worker (an object with ``stop()`` and ``alive()``), wait for a
    signal, stop it. ``/healthz`` answers 503 once a thread of the worker has died, so that
    Kubernetes' liveness probe restarts the pod instead of leaving a worker that does nothing."""
    started: list = []
    port = metrics_port_of(app, name, metrics_port)
    if port:
        from shared.observability.worker_metrics import serve_worker_metrics
        serve_worker_metrics(app, port, healthy=lambda: not started or started[0].alive())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = start()
    started.append(worker)
    try:
        stop.wait()
    finally:
        worker.stop()
        app.close()
