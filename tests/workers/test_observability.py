"""Logs and metrics as operations see them: JSON lines with the claim number and event ids
bound, no personal data, and a /metrics endpoint with the pipeline's counters."""
from __future__ import annotations

import io
import json
import socket
import urllib.request

from prometheus_client import REGISTRY

from services.pipeline_run import run_replay
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.observability.logging import configure_logging
from shared.observability.metrics import serve_metrics


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_logs_are_json_with_ids_bound_and_no_personal_data(embedded_settings):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    app = bootstrap(embedded_settings, configure_logs=False)
    lines = web_events(5, seed=41)
    try:
        run_replay(app, None, lines=lines)
    finally:
        app.close()
        configure_logging("WARNING", "console")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]     # every line is JSON
    registered = [r for r in records if r["event"] == "claim.registered"]
    routed = [r for r in records if r["event"] == "claim.routed"]
    assert len(registered) == 5 and all(r["event_id"] and r["claim_number"].startswith("RK-") for r in registered)
    assert len(routed) == 5 and {r["claim_number"] for r in routed} == {r["claim_number"] for r in registered}
    classified = [r for r in records if r["event"] == "claim.classified"]
    assert len(classified) == 5 and all(
        r["event_ids"] == [next(g["event_id"] for g in registered if g["claim_number"] == r["claim_number"])]
        for r in classified)
    # one correlation id per claim, on each of its lines: registered, classified, routed
    ids = {r["claim_number"]: r["correlation_id"] for r in registered}
    assert len(set(ids.values())) == 5
    assert all(r["correlation_id"] == ids[r["claim_number"]] for r in classified + routed)
    text = stream.getvalue()
    for line in lines:
        payload = json.loads(line)["payload"]
        digits = "".join(ch for ch in payload["phone"] if ch.isdigit())
        for personal in (payload["email"], payload["email"].split("@")[0], payload["name"], payload["phone"],
                         digits, digits[1:], *payload["name"].split()):
            assert personal not in text


def test_metrics_endpoint_counts_accepted_registered_and_routed(embedded_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve_metrics(port)
    before = {"accepted": _sample("claimflow_events_accepted_total", channel="web"),
              "registered": _sample("claimflow_claims_registered_total", channel="web"),
              "intake_batches": _sample("claimflow_stage_seconds_count", stage="intake")}
    app = bootstrap(embedded_settings, configure_logs=False)
    try:
        run_replay(app, None, lines=web_events(7, seed=42))
    finally:
        app.close()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "claimflow_claims_routed_total{" in body and "claimflow_stage_seconds_bucket{" in body
    assert _sample("claimflow_events_accepted_total", channel="web") - before["accepted"] == 7
    assert _sample("claimflow_claims_registered_total", channel="web") - before["registered"] == 7
    assert _sample("claimflow_stage_seconds_count", stage="intake") > before["intake_batches"]
    assert "@" not in body                                    # no e-mail (or anything like it) in a label
