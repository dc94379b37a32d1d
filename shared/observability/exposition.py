"""A worker's ``/metrics`` and ``/healthz``, served from a background thread.

Single process (the default): ``/metrics`` is prometheus_client's default registry — every metric of
:mod:`shared.observability.metrics` and dramatiq's queue figures — plus the collectors passed in (the
database gauges), read at scrape time.

Multiprocess mode: when ``PROMETHEUS_MULTIPROC_DIR`` names a directory in the environment of the
processes *before they start*, prometheus_client keeps every counter and histogram in memory-mapped
files there, one per process, and ``/metrics`` adds up all the files in the directory. Use it when
several worker processes share one scrape target (one container or pod running N ``claimflow worker``
processes, or a process manager forking them): give them all the same directory, let one serve
``/metrics`` and start the others with ``--metrics-port 0``. Wipe the directory before the processes
start (an ``emptyDir`` volume in Kubernetes does this), or the counts of earlier runs are added in.
The process and platform collectors (CPU, memory, file descriptors) are absent in that mode.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.multiprocess import MultiProcessCollector

#: Read once, as prometheus_client itself does when it is imported: later changes to the
#: environment (dramatiq's middleware makes some) do not move where the values live.
MULTIPROCESS_DIR: str | None = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
HEALTH_PATH = "/healthz"


def scrape_registry(*collectors) -> CollectorRegistry:
    """What one scrape reads: this process's metrics, or every process's files in multiprocess
    mode, and then ``collectors``."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIR:
        MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    else:
        registry.register(REGISTRY)
    for collector in collectors:
        registry.register(collector)
    return registry


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):   # noqa: A002 - the signature of the base class
        pass


def _application(registry: CollectorRegistry, healthy: Callable[[], bool]):
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ.get("PATH_INFO") != HEALTH_PATH:
            return metrics(environ, start_response)
        ok = healthy()
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps({"status": "ok" if ok else "unhealthy"}).encode()]
    return app


@dataclass
class MetricsServer:
    """The running HTTP server; ``port`` is the one bound (useful when asked for port 0)."""
    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_metrics(port: int, *collectors, addr: str = "0.0.0.0",
                  healthy: Callable[[], bool] = lambda: True) -> MetricsServer:
    """Serve ``/metrics`` (any path but ``/healthz``) and ``/healthz`` (200 while ``healthy()``,
    else 503) on ``addr:port`` from a daemon thread. ``collectors`` are read at every scrape."""
    httpd = make_server(addr, port, _application(scrape_registry(*collectors), healthy),
                        server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name=f"metrics:{port}", daemon=True)
    thread.start()
    return MetricsServer(httpd, thread)
