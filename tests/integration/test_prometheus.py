"""Prometheus against running workers: every worker's /metrics passes `promtool check metrics`, and a
real Prometheus server scrapes a running worker and answers a query for a claimflow metric.

Needs PostgreSQL, Redis and Debian's `prometheus` package (`promtool` and the server); skips without
them on a laptop and fails under CLAIMFLOW_REQUIRE_SERVICES=1 (`.ci/run` installs the package)."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from services.worker_process import DEFAULT_PORTS
from services.synthetic import web_events
from tests.deploy.support import tool
from tests.integration.processes import free_port, replay, scrape

EVENTS = 12


@pytest.fixture
def broker_url(redis_url):
    """One broker is enough here (the shared `env` fixture would run every test on both)."""
    return redis_url


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.3)


def _start_workers(workers) -> dict[str, int]:
    """Every worker of this release with its /metrics on a free port, once /healthz answers."""
    ports = {name: free_port() for name in DEFAULT_PORTS}
    for name, port in ports.items():
        workers.start(name, metrics_port=port)
    for port in ports.values():
        _wait_for(f"http://127.0.0.1:{port}/healthz")
    return ports


def _feed(env, tmp_path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(web_events(EVENTS, seed=61)) + "\n", encoding="utf-8")
    report = replay(env, events)
    assert report["claims"] == EVENTS


def test_every_worker_s_metrics_pass_promtool(env, workers, tmp_path):
    promtool = tool("promtool")
    ports = _start_workers(workers)
    _feed(env, tmp_path)
    for name, port in ports.items():
        body = scrape(port)
        done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
        assert "claimflow_database_gauges_up 1.0" in body, name
        open_claims = sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                          if line.startswith("claimflow_open_claims{"))
        assert open_claims == EVENTS, name
    assert "dramatiq_messages_total{" in scrape(ports["intake"])


def _query(base: str, expr: str) -> list[dict]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    answer = json.load(urllib.request.urlopen(url, timeout=5))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_a_real_prometheus_scrapes_a_worker_and_answers_for_claimflow_metrics(env, workers, tmp_path):
    prometheus = tool("prometheus")
    ports = _start_workers(workers)
    _feed(env, tmp_path)
    web = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(json.dumps({   # JSON is YAML
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": f"claimflow-{name}", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                           for name, port in ports.items()]}))
    log = open(tmp_path / "prometheus.log", "w")
    server = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                               f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{web}"
    try:
        _wait_for(f"{base}/-/ready")
        deadline, wanted_up = time.monotonic() + 60, {f"claimflow-{name}": "1" for name in ports}
        while True:
            registered = _query(base, 'sum(claimflow_claims_registered_total{job="claimflow-intake"})')
            up = {r["metric"]["job"]: r["value"][1] for r in _query(base, 'up{job=~"claimflow-.+"}')}
            if registered and float(registered[0]["value"][1]) == EVENTS and up == wanted_up:
                break
            assert time.monotonic() < deadline, (f"Prometheus saw {registered} registered claims and up={up}; "
                                                 + (tmp_path / "prometheus.log").read_text()[-2000:])
            time.sleep(0.5)
        open_claims = _query(base, "sum(max by (department, status, escalation_level) (claimflow_open_claims))")
        assert float(open_claims[0]["value"][1]) == EVENTS
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
