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


def test_healthz_turns_503_when_the_sla_sweep_is_stuck_though_its_thread_lives(embedded_settings, monkeypatch):
    import threading
    app = bootstrap(embedded_settings.model_copy(update={"stuck_after_seconds": 1}), configure_logs=False)
    release = threading.Event()

    def stuck(*args, **kwargs):       # a sweep that waits on something forever (a lock, a dead peer)
        from sla_worker.sweep import SweepResult
        release.wait(30)
        return SweepResult()
    worker = SlaWorker(app).start()
    port = _port()
    server = serve_worker_metrics(app, port, healthy=worker.alive)
    try:
        assert _health(port) == 200
        monkeypatch.setattr(sla_module, "sweep_once", stuck)
        deadline = time.monotonic() + 10
        while worker.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker._thread.is_alive()          # the thread lives on…
        assert _health(port) == 503               # …but the probe hears that it is stuck
    finally:
        release.set()
        worker.stop(timeout=5)
        server.close()
        app.close()


def test_a_notify_worker_stuck_in_a_send_is_not_alive(embedded_settings, monkeypatch):
    import threading

    from notify_worker import worker as notify_module
    app = bootstrap(embedded_settings.model_copy(update={"stuck_after_seconds": 1}), configure_logs=False)
    release = threading.Event()
    worker = notify_module.NotifyWorker(app, threads=1)
    real_sender = worker.sender

    def stuck_sender():
        sender = real_sender()
        sender.run_once = lambda: release.wait(30) and 0
        return sender
    monkeypatch.setattr(worker, "sender", stuck_sender)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not worker.alive() and all(t.is_alive() for t in worker._threads)
    finally:
        release.set()
        worker.stop(timeout=5)
        app.close()


def test_a_stage_worker_is_alive_while_it_runs_and_not_after_it_stopped(app):
    worker = StageWorker(app, ("intake",), threads=1).start()
    try:
        assert worker.alive()
    finally:
        worker.stop()
    assert not worker.alive()
