"""A worker's /healthz tells Kubernetes the truth: 200 while its threads run, 503 once one has died
(so the liveness probe restarts the pod instead of leaving a worker that does nothing)."""
from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest

import sla_worker.worker as sla_module
from services.runner import StageWorker
from shared.bootstrap import bootstrap
from shared.observability.worker_metrics import serve_worker_metrics
from sla_worker.worker import SlaWorker


class Crash(BaseException):
    """What no `except Exception` catches: the thread dies."""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> int:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def app(embedded_settings):
    app = bootstrap(embedded_settings, configure_logs=False)
    yield app
    app.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")   # the death is the point
def test_healthz_turns_503_when_the_sla_sweep_thread_dies(app, monkeypatch):
    worker = SlaWorker(app).start()
    port = _port()
    server = serve_worker_metrics(app, port, healthy=worker.alive)
    try:
        assert _health(port) == 200
        monkeypatch.setattr(sla_module, "sweep_once", lambda *a, **k: (_ for _ in ()).throw(Crash()))
        deadline = time.monotonic() + 10
        while worker.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _health(port) == 503
    finally:
        worker.stop(timeout=5)
        server.close()


def test_a_stage_worker_is_alive_while_it_runs_and_not_after_it_stopped(app):
    worker = StageWorker(app, ("intake",), threads=1).start()
    try:
        assert worker.alive()
    finally:
        worker.stop()
    assert not worker.alive()
