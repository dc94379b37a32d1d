"""One bad claim never stops the claims behind it: routing and the SLA sweep set it aside in the dead
list with its reason, the rest flow on in the same step, and `claimflow dead retry` completes it
once the cause is fixed — on the embedded default and on PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from services.cli import main
from services.replay import ReplayReport, accept
from services.stages import declare_actors, intake_step, routing_step
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, DeadItem, SlaEscalation
from shared.settings import Settings

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
GOOD = 200


@pytest.fixture(params=["embedded", "postgres"])
def app(request, embedded_settings, names, tmp_path):
    settings = embedded_settings
    if request.param == "postgres":
        settings = Settings(database_url=request.getfixturevalue("migrated_pg_url"), broker_url=None,
                            department_queue_url=None, log_level="WARNING", blob_dir=tmp_path / "blobs", **names)
    app = bootstrap(settings, clock=FrozenClock(T0), configure_logs=False)
    declare_actors(app)
    accept(app, web_events(GOOD + 1, seed=71), ReplayReport())
    while intake_step(app):
        pass
    yield app
    app.close()


def _cli(app, *args):
    return CliRunner().invoke(main, list(args), env={"CLAIMFLOW_DATABASE_URL": app.settings.database_url,
                                                     "CLAIMFLOW_BROKER_URL": "", "CLAIMFLOW_LOG_LEVEL": "WARNING"},
                              catch_exceptions=False)


def _claims(app) -> list[Claim]:
    with app.sessions() as s:
        return s.scalars(select(Claim).order_by(Claim.id)).all()


def _poison(app, claim_id: int, **values) -> None:
    with app.sessions.begin() as s:
        s.execute(update(Claim).where(Claim.id == claim_id).values(**values))


def test_a_claim_routing_fails_on_is_set_aside_and_the_others_are_routed(app):
    poison = _claims(app)[37]          # registered before the bounds on received_at existed
    _poison(app, poison.id, received_at=datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
    routing_step(app)                 # one step: the batch fails, its claims are taken one by one
    while routing_step(app):
        pass
    claims = _claims(app)
    assert sum(c.department is not None for c in claims) == GOOD
    assert next(c for c in claims if c.id == poison.id).department is None

    [dead] = [json.loads(line) for line in _cli(app, "dead", "list").stdout.splitlines()]
    assert (dead["stage"], dead["item_id"], dead["status"], dead["attempts"]) == ("routing", poison.id, "dead", 1)
    assert dead["reason"].startswith(("OverflowError", "ValueError")) and len(dead["digest"]) == 16
    assert routing_step(app) == 0      # never looped on: the dead claim is left alone

    _poison(app, poison.id, received_at=T0)          # the cause fixed
    retried = _cli(app, "dead", "retry", str(dead["id"]), "424242")
    assert retried.exit_code == 1      # the unknown id is named, the real one retried
    assert [json.loads(line)["outcome"] for line in retried.stdout.splitlines()] == ["retried", "not_found"]
    assert routing_step(app) == 1
    assert next(c for c in _claims(app) if c.id == poison.id).department is not None
    assert _cli(app, "dead", "list").stdout == ""
    assert json.loads(_cli(app, "dead", "list", "--all").stdout)["status"] == "retried"


def test_a_claim_the_sla_sweep_fails_on_does_not_stop_escalation_for_the_others(app):
    from sla_worker.worker import sweep_once
    while routing_step(app):
        pass
    poison = _claims(app)[120]
    _poison(app, poison.id, sla_pauses=[{"from": "not a moment"}])
    app.clock.advance(days=3)          # every first response is overdue now
    while sweep_once(app).taken:
        pass
    with app.sessions() as s:
        escalated = set(s.scalars(select(SlaEscalation.claim_id).distinct()))
        [dead] = s.scalars(select(DeadItem)).all()
    assert len(escalated) == GOOD and poison.id not in escalated
    assert (dead.stage, dead.item_id, dead.status) == ("sla", poison.id, "dead")

    dropped = _cli(app, "dead", "drop", str(dead.id))
    assert json.loads(dropped.stdout)["outcome"] == "dropped"
    assert sweep_once(app).taken == 0  # dropped stays out of the sweep
    assert json.loads(_cli(app, "dead", "retry", str(dead.id)).stdout)["outcome"] == "not_dead"


def test_the_dead_list_is_a_gauge_operations_can_alert_on(app):
    from shared.observability.database_gauges import DatabaseGauges
    poison = _claims(app)[5]
    _poison(app, poison.id, received_at=datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
    while routing_step(app):
        pass
    families = {f.name: f for f in DatabaseGauges(app.sessions, app.clock, ttl=0).collect()}
    samples = {s.labels["stage"]: s.value for s in families["claimflow_dead_items"].samples}
    assert samples == {"routing": 1, "sla": 0, "outbox": 0}


def test_a_message_for_a_department_the_policy_dropped_is_set_aside_and_the_rest_published(app):
    from shared.db.models import OutboxMessage
    from shared.messaging.outbox import MAX_ATTEMPTS
    while routing_step(app):
        pass
    with app.sessions.begin() as s:        # thirty messages wait; one is for a department no longer there
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id).limit(30)).all()
        for row in rows:
            row.published_at = None
        rows[3].routing_key = "repairs"
        bad_id = rows[3].id
    assert app.relay.publish_pending() == 29          # the others go at once, in the same call
    for _ in range(MAX_ATTEMPTS):
        app.relay.publish_pending()
    with app.sessions() as s:
        [dead] = s.scalars(select(DeadItem)).all()
        assert s.get(OutboxMessage, bad_id).published_at is None
    assert (dead.stage, dead.item_id, dead.status) == ("outbox", bad_id, "dead")
    assert "repairs" in dead.reason
    assert app.relay.publish_pending() == 0         # left alone: no more refusals, nothing else waits


def test_an_unreachable_broker_sets_nothing_aside(app):
    from shared.db.models import OutboxMessage
    from shared.messaging.outbox import MAX_ATTEMPTS
    while routing_step(app):
        pass
    with app.sessions.begin() as s:
        for row in s.scalars(select(OutboxMessage).limit(10)):
            row.published_at = None

    def down(messages):
        raise ConnectionRefusedError("broker down")
    app.relay.queues.publish_many, real = down, app.relay.queues.publish_many
    for _ in range(MAX_ATTEMPTS + 2):
        assert app.relay.publish_pending() == 0
    with app.sessions() as s:
        assert s.scalars(select(DeadItem)).all() == []
    app.relay.queues.publish_many = real
    assert app.relay.publish_pending() == 10
