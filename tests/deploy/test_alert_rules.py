"""The alerting rules load in Prometheus, fire on the situations they are named after (their
``promtool test rules`` cases), read only metrics that exist, and tell the on-call what to do."""
from __future__ import annotations

import subprocess

import yaml

from tests.deploy.support import DEPLOY, known_metric_names, metric_names, tool

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))


def _rules():
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            yield from group["rules"]


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS)


def test_promtool_accepts_the_rules_and_the_scrape_configuration():
    assert RULE_FILES
    done = _promtool("check", "rules", *map(str, RULE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr
    done = _promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rules_pass_their_unit_tests():
    assert RULE_TESTS
    done = _promtool("test", "rules", *map(str, RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_the_issue_asks_for_exists_and_has_a_runbook_line():
    alerts = {rule["alert"]: rule for rule in _rules() if "alert" in rule}
    for wanted in ("ClaimflowSlaBreachesPilingUp", "ClaimflowQueueBackingUp", "ClaimflowWorkerDown",
                   "ClaimflowOutboxStuck", "ClaimflowQuarantineSpike"):
        assert wanted in alerts
    for name, rule in alerts.items():
        annotations = rule.get("annotations", {})
        assert annotations.get("runbook", "").strip() and "\n" not in annotations["runbook"].strip(), name
        assert annotations.get("summary"), name
        assert rule.get("labels", {}).get("severity") in ("warning", "critical"), name


def test_every_alert_is_unit_tested():
    tested = {case["alertname"] for path in RULE_TESTS
              for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
              for case in test.get("alert_rule_test", ())}
    assert {rule["alert"] for rule in _rules() if "alert" in rule} <= tested


def test_the_rules_read_only_metrics_that_exist():
    known = known_metric_names()
    for rule in _rules():
        unknown = metric_names(rule["expr"]) - known
        assert not unknown, (rule.get("alert") or rule.get("record"), unknown)
