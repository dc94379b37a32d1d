"""Every claimflow metric, defined once.

Names follow Prometheus conventions: the ``claimflow_`` prefix, ``_total`` on counters, base units
(``_seconds``). Labels are bounded vocabularies only — channel, reason code, outcome, department,
category, stage, SLA target, escalation level — never a customer, a claim number, an event id or
free text, so no personal data and no unbounded series reach Prometheus.

Beside these, a worker's ``/metrics`` carries dramatiq's own queue-level figures
(:mod:`shared.observability.queue_metrics`) and gauges read from the database at scrape time
(:mod:`shared.observability.database_gauges`); :mod:`shared.observability.exposition` serves them,
in prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

from shared.observability.exposition import MetricsServer, serve_metrics  # noqa: F401 - served from here too

# --- intake: channel events -----------------------------------------------------------------------
EVENTS_ACCEPTED = Counter("claimflow_events_accepted_total",
                          "Channel events written to the inbox", ["channel"])
EVENTS_REDELIVERED = Counter("claimflow_events_redelivered_total",
                             "Events whose (source, event_id) was already in the inbox", ["channel"])
EVENTS_QUARANTINED = Counter("claimflow_events_quarantined_total",
                             "Events set aside with a reason code", ["channel", "reason"])
EVENTS_MERGED = Counter("claimflow_events_merged_total",
                        "Events merged into an existing claim", ["channel"])
INTAKE_OUTCOMES = Counter("claimflow_intake_events_total",
                          "Inbox events processed by intake, by what became of them", ["channel", "outcome"])

# --- claims: registration and routing --------------------------------------------------------------
CLAIMS_REGISTERED = Counter("claimflow_claims_registered_total",
                            "Claims registered by intake", ["channel"])
CLAIMS_ROUTED = Counter("claimflow_claims_routed_total",
                        "Claims classified and assigned a department", ["department", "category"])
CLAIMS_REROUTED = Counter("claimflow_claims_rerouted_total",
                          "Claims sent on from one department to another", ["from_department", "to_department"])
MESSAGES_PUBLISHED = Counter("claimflow_outbox_published_total",
                             "Outbox messages published to the department queues", ["department"])

# --- SLA: deadlines, warnings, breaches, escalations (target: first_response | decision | closure) ---
SLA_WARNINGS = Counter("claimflow_sla_warnings_total",
                       "Claims that used 80 % of a target's time", ["target", "department"])
SLA_BREACHES = Counter("claimflow_sla_breaches_total",
                       "Claims that missed a target's deadline", ["target", "department"])
ESCALATIONS = Counter("claimflow_escalations_total",
                      "Escalations raised, by level (1 lead, 2 head of claims, 3 management)", ["level", "target"])

#: Hours to months: first responses are due within business hours, closures within 30 days.
_HOUR, _DAY = 3600.0, 86400.0
RESPONSE_BUCKETS = (900, 1800, _HOUR, 2 * _HOUR, 4 * _HOUR, 8 * _HOUR, 16 * _HOUR, _DAY, 2 * _DAY,
                    3 * _DAY, 5 * _DAY, 7 * _DAY, 10 * _DAY, 14 * _DAY, 21 * _DAY, 30 * _DAY, 45 * _DAY,
                    60 * _DAY)
TIME_TO_FIRST_RESPONSE = Histogram("claimflow_time_to_first_response_seconds",
                                   "From a claim's received_at to the customer's first response",
                                   ["department"], buckets=RESPONSE_BUCKETS)
TIME_TO_DECISION = Histogram("claimflow_time_to_decision_seconds",
                             "From a claim's received_at to its decision (or rejection)",
                             ["department"], buckets=RESPONSE_BUCKETS)
TIME_TO_CLOSURE = Histogram("claimflow_time_to_closure_seconds",
                            "From a claim's received_at to its closure",
                            ["department"], buckets=RESPONSE_BUCKETS)

# --- notifications (channel: email | sms | webhook; outcome: sent | retry | dead | lost) -----------
NOTIFICATIONS = Counter("claimflow_notifications_total",
                        "Notifications attempted, by delivery channel and outcome", ["channel", "outcome"])

# --- pipeline stages (stage: intake | routing | outbox | sla | notify | department_updates) ---------
STAGE_SECONDS = Histogram("claimflow_stage_seconds",
                          "Time to process one batch in a pipeline stage", ["stage"],
                          buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
STAGE_ITEMS = Counter("claimflow_stage_items_total", "Items processed by a pipeline stage", ["stage"])
STAGE_ERRORS = Counter("claimflow_stage_errors_total", "Batches that failed in a stage", ["stage"])
REDRIVEN = Counter("claimflow_redriven_total", "Stuck items re-driven from the database", ["stage"])
ITEMS_SET_ASIDE = Counter("claimflow_items_set_aside_total",
                          "Items a stage failed on even alone, set aside in the dead list", ["stage"])

#: Label names a claimflow metric may carry: each one a small, closed vocabulary.
BOUNDED_LABELS = frozenset({"channel", "reason", "outcome", "department", "category", "from_department",
                            "to_department", "target", "level", "stage", "status", "escalation_level"})
