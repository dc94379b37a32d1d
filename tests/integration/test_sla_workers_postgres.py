"""Four `claimflow worker sla` processes on real PostgreSQL escalate a batch of overdue claims:
every (claim, target, level) that is due fires exactly once — one escalation row, one history
row, one staff notice per role — the workers share the claims, and a claim whose moment comes
while they run fires within seconds of it."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.replay import ReplayReport, accept
from services.stages import declare_actors, intake_step, routing_step
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.db.models import Claim, ClaimHistory, Notification, SlaEscalation
from shared.settings import Settings
from sla_worker.claim_clocks import clocks
from sla_worker.clocks import due_escalations
from tests.integration.processes import Workers

CLAIMS = 120


@pytest.fixture
def env(migrated_pg_url, redis_url, names, tmp_path):
    values = {"CLAIMFLOW_DATABASE_URL": migrated_pg_url, "CLAIMFLOW_DEPARTMENT_QUEUE_URL": redis_url,
              "CLAIMFLOW_DEPARTMENT_EXCHANGE": names["department_exchange"],
              "CLAIMFLOW_DEPARTMENT_QUEUE_PREFIX": names["department_queue_prefix"],
              "CLAIMFLOW_SLA_BATCH_SIZE": "7", "CLAIMFLOW_SLA_INTERVAL_SECONDS": "0.5",
              "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_BLOB_DIR": str(tmp_path / "blobs")}
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}, **values}


def _settings(env) -> Settings:
    return Settings(**{k[len("CLAIMFLOW_"):].lower(): v for k, v in env.items() if k.startswith("CLAIMFLOW_")})


def test_four_sla_workers_fire_each_due_level_exactly_once(env, tmp_path):
    app = bootstrap(_settings(env), configure_logs=False)
    declare_actors(app)
    soon = datetime.now(UTC) + timedelta(seconds=12)
    lines = web_events(CLAIMS, seed=77)
    # one more claim whose closure warning (80 % of 30 calendar days) comes while the workers run
    late = json.loads(web_events(1, seed=78)[0])
    late["received_at"] = (soon - timedelta(days=24)).isoformat()
    accept(app, lines + [json.dumps(late, ensure_ascii=False)], ReplayReport())
    while intake_step(app) + routing_step(app):
        pass
    workers = Workers(env, tmp_path)
    try:
        for _ in range(4):
            workers.start("sla")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with app.sessions() as s:
                waiting = s.scalar(select(func.count()).select_from(Claim).where(Claim.next_sla_at <= func.now()))
            if not waiting and datetime.now(UTC) > soon + timedelta(seconds=3):
                break
            time.sleep(0.5)
        assert all(proc.poll() is None for proc in workers.procs.values()), "an SLA worker died"
    finally:
        workers.stop_all()

    now = datetime.now(UTC)
    with app.sessions() as s:
        claims = s.scalars(select(Claim)).all()
        expected = {(c.id, e.target.value, int(e.level)) for c in claims for e in due_escalations(clocks(c, app.policy), now)}
        rows = s.scalars(select(SlaEscalation)).all()
        history = s.scalars(select(ClaimHistory).where(ClaimHistory.action.in_(["sla_warning", "escalated"]))).all()
        notices = s.execute(select(Notification.idempotency_key).where(
            Notification.kind.in_(["sla_warning", "escalation"]), Notification.parent_id.is_(None))).scalars().all()
        levels = {c.id: c.escalation_level for c in claims}
    app.close()

    fired = Counter((r.claim_id, r.target, r.level) for r in rows)
    assert len(expected) > 4 * CLAIMS                          # most claims are far past several targets
    assert set(fired) == expected and set(fired.values()) == {1}
    assert Counter((h.claim_id, h.data["target"], h.data["level"]) for h in history) == fired    # once each
    assert len(notices) == len(set(notices))
    assert len({r.fired_by for r in rows}) >= 2                  # the workers shared the claims
    assert all(levels[c] == max((lv for (i, _, lv) in fired if i == c), default=0) for c in levels)
    timely = [r for r in rows if r.due_at >= soon - timedelta(seconds=1)]
    assert timely and all(r.fired_at - r.due_at < timedelta(seconds=3) for r in timely), [
        (r.target, r.level, (r.fired_at - r.due_at).total_seconds()) for r in timely]
