"""The metrics catalogue keeps Prometheus' conventions and keeps personal data out of labels."""
from __future__ import annotations

from prometheus_client.metrics import MetricWrapperBase

from shared.observability import metrics
from shared.observability.database_gauges import FAMILIES, DatabaseGauges
from tests.deploy.support import known_metric_names, metric_names


def _defined():
    return {name: value for name, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)}


def test_every_metric_is_prefixed_named_in_base_units_and_labelled_from_closed_vocabularies():
    defined = _defined()
    assert len(defined) >= 20
    for attribute, metric in defined.items():
        family, = metric.describe()
        assert family.name.startswith("claimflow_"), attribute
        assert set(metric._labelnames) <= metrics.BOUNDED_LABELS, (attribute, metric._labelnames)
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), attribute
        assert not any(unit in family.name for unit in ("_milliseconds", "_minutes", "_hours", "_days")), attribute


def test_the_database_gauges_are_labelled_from_closed_vocabularies_too():
    assert {f.name for f in DatabaseGauges(None, None).describe()} == set(FAMILIES)
    for name, (_, labels) in FAMILIES.items():
        assert name.startswith("claimflow_") and set(labels) <= metrics.BOUNDED_LABELS, name


def test_the_issue_s_figures_are_all_defined():
    names = known_metric_names()
    for wanted in ("claimflow_events_accepted_total", "claimflow_events_redelivered_total",
                   "claimflow_events_merged_total", "claimflow_events_quarantined_total",
                   "claimflow_claims_registered_total", "claimflow_claims_routed_total",
                   "claimflow_claims_rerouted_total", "claimflow_open_claims", "claimflow_sla_warnings_total",
                   "claimflow_sla_breaches_total", "claimflow_escalations_total",
                   "claimflow_time_to_first_response_seconds_bucket", "claimflow_time_to_decision_seconds_bucket",
                   "claimflow_time_to_closure_seconds_bucket", "claimflow_stage_seconds_bucket",
                   "claimflow_stage_errors_total", "claimflow_notifications_total", "claimflow_backlog_items",
                   "dramatiq_messages_total", "dramatiq_message_rejects_total"):
        assert wanted in names, wanted


def test_metric_names_are_read_out_of_promql_so_a_misspelt_one_is_caught():
    assert metric_names('histogram_quantile(0.9, sum by (le, stage) (rate(claimflow_stage_seconds_bucket'
                        '{stage=~"intake|routing"}[$__rate_interval])))') == {"claimflow_stage_seconds_bucket"}
    assert metric_names('max(claimflw_backlog_items{stage="outbox"}) > 120 and on (stage) up offset 10m') \
        == {"claimflw_backlog_items", "up"}
    assert metric_names("sum(x) / ignoring (le) group_left(department) y * 1e3 > bool 0.05") == {"x", "y"}
