"""Gauges read from the database at scrape time: the state of the claims, not of one process.

A handful of grouped ``COUNT`` queries, cached for ``ttl`` seconds so that several Prometheus servers
(or a dashboard's refresh) do not multiply them. Every worker registers one (through
:func:`shared.observability.worker_metrics.serve_worker_metrics`), so each replica reports the same
figures: aggregate them with ``max``, never ``sum``. Labels are the policy's departments, the claim
statuses, escalation levels 0-3, SLA targets, stages and quarantine reason codes.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, func, select

from shared.dead_list import set_aside_ids
from shared.db.models import Claim, DeadItem, InboxEvent, Notification, OutboxMessage, QuarantinedEvent
from shared.lifecycle import OPEN
from shared.schema import Status

log = structlog.get_logger("metrics")

#: A deadline this close (or past) makes a claim "at risk" on the SLA dashboard.
AT_RISK_HORIZON = timedelta(hours=24)
#: While which statuses each SLA target's clock runs (``awaiting_customer`` stops every clock).
RUNNING = {
    "first_response": (Status.REGISTERED, Status.ROUTED),
    "decision": (Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS, Status.REOPENED),
    "closure": tuple(s for s in OPEN if s != Status.AWAITING_CUSTOMER),
}
DUE = {"first_response": Claim.first_response_due, "decision": Claim.decision_due, "closure": Claim.closure_due}
UNASSIGNED = "unassigned"
DEAD_LIST_STAGES = ("routing", "sla", "outbox")   # the stages that set items aside (shared.dead_list)

FAMILIES = {   # name: (help, labels)
    "claimflow_open_claims": ("Claims not yet closed, by department, status and escalation level",
                              ["department", "status", "escalation_level"]),
    "claimflow_claims_at_risk": ("Open claims whose target's deadline falls within the next 24 hours",
                                 ["department", "target"]),
    "claimflow_claims_overdue": ("Open claims past a target's deadline, its clock still running",
                                 ["department", "target"]),
    "claimflow_backlog_items": ("Work waiting in the database: pending inbox events (intake), claims to "
                                "route (routing), unpublished outbox messages (outbox), notifications due "
                                "(notify)", ["stage"]),
    "claimflow_backlog_oldest_seconds": ("Age of the oldest waiting item of a stage's backlog; 0 when empty",
                                         ["stage"]),
    "claimflow_quarantine_events": ("Events in quarantine now, by reason code", ["reason"]),
    "claimflow_dead_items": ("Items a stage set aside in the dead list and nobody retried or dropped yet "
                             "(claimflow dead list)", ["stage"]),
    "claimflow_database_gauges_up": ("1 if the last read of these gauges from the database succeeded", []),
}


class DatabaseGauges:
    """A prometheus_client collector; ``sessions`` a SQLAlchemy sessionmaker, ``clock`` has ``now()``."""

    def __init__(self, sessions, clock, ttl: float = 5.0):
        self.sessions, self.clock, self.ttl = sessions, clock, ttl
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._families: list[GaugeMetricFamily] = []

    def describe(self):
        return [GaugeMetricFamily(name, help_text, labels=labels or None)
                for name, (help_text, labels) in FAMILIES.items()]

    def collect(self):
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at >= self.ttl:
                self._families = self._read()
                self._read_at = time.monotonic()
            return list(self._families)

    def _read(self) -> list[GaugeMetricFamily]:
        up = GaugeMetricFamily("claimflow_database_gauges_up", FAMILIES["claimflow_database_gauges_up"][0])
        try:
            with self.sessions() as session:
                families = self._families_from(session, self.clock.now())
        except Exception as exc:   # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics.database_gauges_failed", error=type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [*families, up]

    def _families_from(self, session, now: datetime) -> list[GaugeMetricFamily]:
        family = {name: GaugeMetricFamily(name, help_text, labels=labels)
                  for name, (help_text, labels) in FAMILIES.items() if labels}
        rows = session.execute(select(Claim.department, Claim.status, Claim.escalation_level, func.count())
                               .where(Claim.status.in_([s.value for s in OPEN]))
                               .group_by(Claim.department, Claim.status, Claim.escalation_level))
        for department, status, level, n in rows:
            family["claimflow_open_claims"].add_metric([department or UNASSIGNED, status, str(level or 0)], n)
        for target, statuses in RUNNING.items():
            due = DUE[target]
            overdue, at_risk = func.sum(case((due < now, 1), else_=0)), func.sum(case((due >= now, 1), else_=0))
            rows = session.execute(
                select(Claim.department, overdue, at_risk)
                .where(Claim.status.in_([s.value for s in statuses]), due.isnot(None), due < now + AT_RISK_HORIZON)
                .group_by(Claim.department))
            for department, overdue, at_risk in rows:
                family["claimflow_claims_overdue"].add_metric([department or UNASSIGNED, target], overdue or 0)
                family["claimflow_claims_at_risk"].add_metric([department or UNASSIGNED, target], at_risk or 0)
        for stage, (count, oldest) in _backlogs(session, now).items():
            family["claimflow_backlog_items"].add_metric([stage], count or 0)
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            family["claimflow_backlog_oldest_seconds"].add_metric([stage], max(age, 0.0))
        for reason, n in session.execute(select(QuarantinedEvent.reason, func.count())
                                         .group_by(QuarantinedEvent.reason)):
            family["claimflow_quarantine_events"].add_metric([reason], n)
        dead = dict(session.execute(select(DeadItem.stage, func.count()).where(DeadItem.status == "dead")
                                    .group_by(DeadItem.stage)).all())
        for stage in DEAD_LIST_STAGES:
            family["claimflow_dead_items"].add_metric([stage], dead.get(stage, 0))
        return list(family.values())


def _backlogs(session, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Per stage: how many items wait, and since when the oldest (a notification: since it fell due)."""
    queries = {
        "intake": select(func.count(), func.min(InboxEvent.accepted_at)).where(InboxEvent.status == "pending"),
        "routing": select(func.count(), func.min(Claim.registered_at)).where(
            Claim.status == Status.REGISTERED.value, Claim.department.is_(None),
            Claim.id.not_in(set_aside_ids("routing"))),
        "outbox": select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.published_at.is_(None), OutboxMessage.id.not_in(set_aside_ids("outbox"))),
        "notify": select(func.count(), func.min(Notification.next_attempt_at)).where(
            Notification.status == "pending", Notification.next_attempt_at <= now),
    }
    return {stage: tuple(session.execute(query).one()) for stage, query in queries.items()}
