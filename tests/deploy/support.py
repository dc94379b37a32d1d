"""What the deploy tests share: the Prometheus tools, the metric names claimflow exposes, and the
metric names a PromQL expression reads."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REQUIRE_SERVICES = os.environ.get("CLAIMFLOW_REQUIRE_SERVICES") == "1"


def tool(name: str) -> str:
    """The path of ``promtool`` or ``prometheus``; skips without it, fails in CI."""
    path = shutil.which(name)
    if path:
        return path
    message = f"`{name}` is not installed (Debian: apt-get install prometheus; .ci/run installs it)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and CLAIMFLOW_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
             "gauge": ("",), "summary": ("", "_sum", "_count", "_created")}


def exposed_names(families) -> set[str]:
    """Sample names of metric families (``describe()`` output), as Prometheus stores them."""
    return {family.name + suffix for family in families for suffix in _SUFFIXES[family.type]}


def known_metric_names() -> set[str]:
    """Every series name a claimflow process can expose, plus Prometheus' own ``up``."""
    from prometheus_client.metrics import MetricWrapperBase

    from shared.observability import metrics
    from shared.observability.database_gauges import DatabaseGauges
    from shared.observability.queue_metrics import EXPOSED, QueueMetrics
    families = [f for value in vars(metrics).values() if isinstance(value, MetricWrapperBase) for f in value.describe()]
    families += DatabaseGauges(None, None).describe()
    middleware = QueueMetrics()
    families += [f for name in EXPOSED for f in getattr(middleware, name).describe()]
    return exposed_names(families) | {"up"}


_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
             "offset", "inf", "nan", "atan2"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects: identifiers outside label matchers, ranges, strings and
    grouping clauses, not called as functions, not keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)   # strings
    text = re.sub(r"\{[^}]*\}", " ", text)                                    # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)                                   # ranges, subqueries
    text = re.sub(r"\$\w+", " ", text)                                        # Grafana variables
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        word, called = match.group(1), match.group(2)
        if called or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def label_values_metric(query: str) -> str | None:
    """The metric of a Grafana ``label_values(metric, label)`` variable query."""
    found = re.match(r"\s*label_values\(\s*([A-Za-z_:][\w:]*)", query)
    return found.group(1) if found else None
