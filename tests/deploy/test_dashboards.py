"""The Grafana dashboards load from files, read only metrics that exist, and show what the
on-call looks for: SLA state by department, and the pipeline's throughput, backlogs and failures."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.deploy.support import DEPLOY, known_metric_names, label_values_metric, metric_names

GRAFANA = DEPLOY / "grafana"
BOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _panels(board):
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", ())


def test_the_provisioning_files_point_at_the_dashboards_and_the_datasource_they_use():
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    uids = {d["uid"] for d in datasources if d["type"] == "prometheus"}
    provider, = yaml.safe_load((GRAFANA / "provisioning/dashboards/claimflow.yaml").read_text())["providers"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert len(BOARDS) >= 2
    for path in BOARDS:
        board = _load(path)
        for panel in _panels(board):
            assert panel["datasource"]["uid"] in uids, (path.name, panel["title"])


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.name)
def test_every_panel_query_reads_only_metrics_that_exist(path):
    known = known_metric_names()
    board = _load(path)
    assert len({board["uid"] for board in map(_load, BOARDS)}) == len(BOARDS)
    ids = [panel["id"] for panel in _panels(board)]
    assert len(ids) == len(set(ids))
    for panel in _panels(board):
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = metric_names(target["expr"])
            assert used and not used - known, (path.name, panel["title"], used - known)
    for variable in board["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        assert label_values_metric(query) in known, (path.name, variable["name"])


def _titles_and_queries(name):
    board = _load(GRAFANA / "dashboards" / name)
    return [(panel["title"].lower(), " ".join(t["expr"] for t in panel.get("targets", ())))
            for panel in _panels(board)]


def test_the_sla_overview_shows_what_the_issue_lists():
    panels = _titles_and_queries("sla-overview.json")
    def shown(title_word, metric):
        return any(title_word in title and metric in queries for title, queries in panels)
    assert shown("open claims by department", "claimflow_open_claims")
    assert shown("at-risk", "claimflow_claims_at_risk")
    assert shown("missed", "claimflow_sla_breaches_total")
    assert shown("first response", "histogram_quantile(0.9")
    assert shown("closure", "claimflow_time_to_closure_seconds_bucket")
    assert shown("escalations", "claimflow_escalations_total")


def test_the_pipeline_view_shows_what_the_issue_lists():
    panels = _titles_and_queries("pipeline.json")
    def shown(title_word, metric):
        return any(title_word in title and metric in queries for title, queries in panels)
    assert shown("throughput", "claimflow_stage_items_total")
    assert shown("latency", "claimflow_stage_seconds_bucket")
    assert shown("queue depth", "claimflow_backlog_items")
    assert shown("broker queues", "dramatiq_messages_inprogress")
    assert shown("quarantine", "claimflow_events_quarantined_total")
    assert shown("dead letters", "dramatiq_message_rejects_total")
    assert shown("errors", "claimflow_stage_errors_total")
