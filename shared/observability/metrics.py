"""Every claimflow metric, defined once. Labels are bounded vocabularies (channel, reason code,
department, category, stage): never a customer, an event id or free text."""
from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server

EVENTS_ACCEPTED = Counter("claimflow_events_accepted_total",
                          "Channel events written to the inbox", ["channel"])
EVENTS_REDELIVERED = Counter("claimflow_events_redelivered_total",
                             "Events whose (source, event_id) was already in the inbox", ["channel"])
EVENTS_QUARANTINED = Counter("claimflow_events_quarantined_total",
                             "Events set aside with a reason code", ["channel", "reason"])
INTAKE_OUTCOMES = Counter("claimflow_intake_events_total",
                          "Inbox events processed by intake, by what became of them", ["channel", "outcome"])
CLAIMS_REGISTERED = Counter("claimflow_claims_registered_total",
                            "Claims registered by intake", ["channel"])
EVENTS_MERGED = Counter("claimflow_events_merged_total",
                        "Events merged into an existing claim", ["channel"])
CLAIMS_ROUTED = Counter("claimflow_claims_routed_total",
                        "Claims classified and assigned a department", ["department", "category"])
MESSAGES_PUBLISHED = Counter("claimflow_outbox_published_total",
                             "Outbox messages published to the department queues", ["department"])
STAGE_SECONDS = Histogram("claimflow_stage_seconds",
                          "Time to process one batch in a pipeline stage", ["stage"],
                          buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
STAGE_ITEMS = Counter("claimflow_stage_items_total", "Items processed by a pipeline stage", ["stage"])
STAGE_ERRORS = Counter("claimflow_stage_errors_total", "Batches that failed in a stage", ["stage"])
REDRIVEN = Counter("claimflow_redriven_total", "Stuck items re-driven from the database", ["stage"])


def serve_metrics(port: int) -> None:
    """Serve ``/metrics`` on ``port`` from a background thread."""
    start_http_server(port, registry=REGISTRY)
