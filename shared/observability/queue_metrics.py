"""dramatiq's own Prometheus middleware, for queue-level figures, on the worker's ``/metrics``.

dramatiq's middleware counts messages processed, failed, retried and dead-lettered, and the ones in
progress, per queue and actor (``dramatiq_messages_total``, ``dramatiq_message_errors_total``,
``dramatiq_message_retries_total``, ``dramatiq_message_rejects_total``, ``dramatiq_messages_inprogress``,
``dramatiq_delayed_messages_inprogress``). As shipped it expects the ``dramatiq`` command line: it sets
up its metrics on ``process_boot``, points ``PROMETHEUS_MULTIPROC_DIR`` at a directory of its own and
serves them from a forked server on port 9191. ``claimflow worker`` runs dramatiq in-process, so
:class:`QueueMetrics` sets the same metrics up once per process, leaves the environment as it was
(multiprocess mode stays what the operator chose, see :mod:`shared.observability.exposition`), and
lets the worker's own ``/metrics`` serve them.

``dramatiq_message_duration_milliseconds`` is left out: it is not in base units (``promtool check
metrics`` rejects it), and ``claimflow_stage_seconds`` measures the same work per stage.
"""
from __future__ import annotations

import os
import threading

from dramatiq.middleware.prometheus import Prometheus
from prometheus_client import REGISTRY
from prometheus_client.multiprocess import mark_process_dead

from shared.observability.exposition import MULTIPROCESS_DIR

#: The middleware's metrics that claimflow exposes, by attribute name.
EXPOSED = ("total_messages", "total_errored_messages", "total_retried_messages", "total_rejected_messages",
           "inprogress_messages", "inprogress_delayed_messages")
_ENVIRONMENT = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
_lock = threading.Lock()
_shared: dict[str, object] = {}


class _NotMeasured:
    """Stands in for the millisecond histogram: accepts observations and keeps none."""

    def labels(self, *_):
        return self

    def observe(self, _value) -> None:
        pass


class QueueMetrics(Prometheus):
    """Add to a broker with ``broker.add_middleware(QueueMetrics())``; every instance in a process
    shares one set of metrics, so brokers built again and again (tests) do not clash."""

    def __init__(self) -> None:
        super().__init__()
        with _lock:
            if not _shared:
                _shared.update(_create(self))
        for name, metric in _shared.items():
            setattr(self, name, metric)
        self.message_durations = _NotMeasured()

    def after_process_boot(self, broker) -> None:
        """Already set up in ``__init__``; the base class would make a second set."""

    @property
    def forks(self):
        return []   # no separate exposition server: the worker's /metrics serves these

    def after_worker_shutdown(self, broker, worker) -> None:
        if MULTIPROCESS_DIR:
            mark_process_dead(os.getpid(), MULTIPROCESS_DIR)


def measure_queues(broker) -> None:
    """Add :class:`QueueMetrics` to ``broker`` unless it is there already."""
    if not any(isinstance(m, QueueMetrics) for m in broker.middleware):
        broker.add_middleware(QueueMetrics())


def _create(middleware: Prometheus) -> dict[str, object]:
    saved = {key: os.environ.get(key) for key in _ENVIRONMENT}
    try:
        Prometheus.after_process_boot(middleware, None)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    metrics = {name: getattr(middleware, name) for name in EXPOSED}
    if not MULTIPROCESS_DIR:   # in multiprocess mode the files are read instead of the registry
        for metric in metrics.values():
            REGISTRY.register(metric)
    return metrics
