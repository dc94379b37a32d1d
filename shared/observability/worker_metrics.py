"""What a worker process exposes: its metrics, dramatiq's queue figures and the database gauges on
``/metrics``, and ``/healthz`` for Kubernetes' probes."""
from __future__ import annotations

from collections.abc import Callable

from shared.observability.database_gauges import DatabaseGauges
from shared.observability.exposition import MetricsServer, serve_metrics
from shared.observability.queue_metrics import measure_queues


def serve_worker_metrics(app, port: int, healthy: Callable[[], bool] = lambda: True) -> MetricsServer:
    """``app``: a :class:`shared.bootstrap.App`; serves on ``port`` until the process exits."""
    measure_queues(app.broker)
    return serve_metrics(port, DatabaseGauges(app.sessions, app.clock), healthy=healthy)
