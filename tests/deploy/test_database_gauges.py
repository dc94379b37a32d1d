"""The gauges read from the database at scrape time: open claims by department, status and
escalation level; claims at risk of and past their deadlines, with paused clocks left out; the
inbox, routing and outbox backlogs; the quarantine; and a scrape that survives a lost database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.orm import sessionmaker

from services.pipeline_run import run_replay
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, Notification, OutboxMessage
from shared.observability.database_gauges import DatabaseGauges

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _values(gauges: DatabaseGauges) -> dict[tuple, float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in gauges.collect() for sample in family.samples}


def _total(values, name, **labels) -> float:
    return sum(v for (n, ls), v in values.items() if n == name and labels.items() <= dict(ls).items())


def test_gauges_count_open_at_risk_overdue_backlog_and_quarantine(embedded_settings):
    app = bootstrap(embedded_settings, configure_logs=False)
    try:
        run_replay(app, None, lines=[*web_events(6, seed=7), "this is not JSON"])
        far = NOW + timedelta(days=30)
        with app.sessions.begin() as session:
            session.execute(update(Claim).values(first_response_due=far, decision_due=far, closure_due=far))
            late, soon, closed, paused, *_ = session.scalars(select(Claim).order_by(Claim.id)).all()
            late.first_response_due, late.escalation_level = NOW - timedelta(hours=1), 1
            soon.decision_due = NOW + timedelta(hours=2)
            closed.status = "closed"
            paused.status, paused.first_response_due = "awaiting_customer", NOW - timedelta(hours=5)
            session.add(OutboxMessage(message_id="m-stuck", topic="department", routing_key=late.department,
                                      payload={}, created_at=NOW - timedelta(minutes=10), attempts=0))
            session.execute(delete(Notification))     # routing's own notices: only these two count here
            for key, due in (("due", NOW - timedelta(minutes=3)), ("later", NOW + timedelta(hours=1))):
                session.add(Notification(idempotency_key=key, recipient="customer", kind="registered", language="ru",
                                         context={}, status="pending", attempts=0, next_attempt_at=due,
                                         created_at=NOW - timedelta(minutes=5)))
            late_department, soon_department = late.department, soon.department
        values = _values(DatabaseGauges(app.sessions, FrozenClock(NOW)))
    finally:
        app.close()

    assert _total(values, "claimflow_open_claims") == 5                       # the closed one is not open
    assert _total(values, "claimflow_open_claims", department=late_department, escalation_level="1") == 1
    assert _total(values, "claimflow_open_claims", status="awaiting_customer") == 1
    assert _total(values, "claimflow_claims_overdue", target="first_response") == 1   # the paused clock: not
    assert _total(values, "claimflow_claims_overdue", department=late_department, target="first_response") == 1
    assert _total(values, "claimflow_claims_at_risk", target="decision") == 1
    assert _total(values, "claimflow_claims_at_risk", department=soon_department, target="decision") == 1
    assert _total(values, "claimflow_claims_at_risk", target="closure") == 0
    assert _total(values, "claimflow_backlog_items", stage="intake") == 0
    assert _total(values, "claimflow_backlog_items", stage="outbox") == 1
    assert _total(values, "claimflow_backlog_oldest_seconds", stage="outbox") == 600
    assert _total(values, "claimflow_backlog_items", stage="notify") == 1            # the later one is not due
    assert _total(values, "claimflow_backlog_oldest_seconds", stage="notify") == 180
    assert _total(values, "claimflow_quarantine_events", reason="not_json") == 1
    assert _total(values, "claimflow_database_gauges_up") == 1


def test_reads_are_cached_for_the_ttl_so_scrapes_do_not_multiply_queries(embedded_settings):
    app = bootstrap(embedded_settings, configure_logs=False)
    try:
        run_replay(app, None, lines=web_events(3, seed=8))
        cached = DatabaseGauges(app.sessions, FrozenClock(NOW), ttl=3600)
        fresh = DatabaseGauges(app.sessions, FrozenClock(NOW), ttl=0)
        assert _total(_values(cached), "claimflow_open_claims") == 3
        with app.sessions.begin() as session:
            session.execute(update(Claim).values(status="closed"))
        assert _total(_values(cached), "claimflow_open_claims") == 3
        assert _total(_values(fresh), "claimflow_open_claims") == 0
    finally:
        app.close()


def test_a_scrape_answers_when_the_database_does_not(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    values = _values(DatabaseGauges(sessionmaker(engine), FrozenClock(NOW)))
    assert values == {("claimflow_database_gauges_up", ()): 0}
