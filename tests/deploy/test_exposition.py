"""A worker's /metrics and /healthz: the health path for Kubernetes' probes, and prometheus_client's
multiprocess mode adding up what several worker processes counted."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request

from shared.observability.metrics import serve_metrics
from tests.deploy.support import ROOT

COUNT = """
import os, sys
from shared.observability.metrics import EVENTS_ACCEPTED
from shared.observability.queue_metrics import QueueMetrics
queue = QueueMetrics()
# dramatiq's middleware points this variable at a directory of its own; ours must survive it
assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == sys.argv[1], os.environ["PROMETHEUS_MULTIPROC_DIR"]
EVENTS_ACCEPTED.labels("web").inc(int(sys.argv[2]))
queue.total_messages.labels("claimflow.intake", "intake").inc()
"""
SCRAPE = """
import urllib.request
from shared.observability.metrics import serve_metrics
server = serve_metrics(0, addr="127.0.0.1")
print(urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode())
"""


def _python(code: str, *args: str, directory) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run([sys.executable, "-c", code, str(directory), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _value(body: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(prefix))


def test_in_multiprocess_mode_metrics_add_up_across_worker_processes(tmp_path):
    for n in ("3", "4"):
        _python(COUNT, n, directory=tmp_path)
    body = _python(SCRAPE, directory=tmp_path)
    assert _value(body, 'claimflow_events_accepted_total{channel="web"}') == 7
    assert _value(body, "dramatiq_messages_total{") == 2


GATEWAY_SCRAPE = """
import asyncio
from services.gateway.health import metrics
print(asyncio.run(metrics()).body.decode())
"""


def test_the_gateways_metrics_add_up_the_worker_processes_too(tmp_path):
    for n in ("2", "5"):
        _python(COUNT, n, directory=tmp_path)
    body = _python(GATEWAY_SCRAPE, directory=tmp_path)
    assert _value(body, 'claimflow_events_accepted_total{channel="web"}') == 7


def test_healthz_answers_for_the_probes_and_metrics_stay_on_every_other_path():
    healthy = {"ok": True}
    server = serve_metrics(0, addr="127.0.0.1", healthy=lambda: healthy["ok"])
    base = f"http://127.0.0.1:{server.port}"
    try:
        answer = urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert answer.status == 200 and answer.read() == b'{"status": "ok"}'
        healthy["ok"] = False
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
            raise AssertionError("an unhealthy worker answered 200")
        except urllib.error.HTTPError as e:
            assert e.code == 503
        body = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert "# TYPE claimflow_stage_seconds histogram" in body
    finally:
        server.close()
