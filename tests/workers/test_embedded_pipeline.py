"""Tier 2: the whole flow on the embedded default — SQLite file and in-process stub broker."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from services.export import export_claims, list_quarantine
from services.pipeline_run import run_replay
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.db.models import ClaimHistory, InboxEvent, OutboxMessage
from tests.helpers import drain_with_kombu, validate_all

BAD_LINES = [
    '{"event_id": "bad-1", "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00+03:00"',
    '{"event_id": "bad-2", "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00+03:00"}',
    '{"event_id": "bad-3", "channel": "telegram", "source": "bot", "received_at": "2026-11-02T10:00:00Z", "payload": {}}',
    '{"event_id": "bad-4", "channel": "web", "source": "site", "received_at": "вчера в 14:20", "payload": {}}',
    '{"event_id": "bad-5", "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00Z", '
    '"payload": {"description": "Сломался чайник"}}',
    '{"event_id": "bad-6", "channel": "web", "source": "site", "received_at": "2026-11-02T10:00:00Z", '
    '"payload": {"email": "a@example.ru", "description": "  \\n "}}',
    '{"event_id": "call-1", "channel": "phone", "source": "callcenter", "received_at": "2026-11-02T10:00:00Z", '
    '"payload": {"call_id": "c-1", "transcript": "чайник течёт"}}',
]
EXPECTED_REASONS = {None: "not_json", "bad-2": "missing_field", "bad-3": "unknown_channel", "bad-4": "bad_timestamp",
                    "bad-5": "no_contact", "bad-6": "empty_description", "call-1": "no_contact"}


@pytest.fixture
def app(embedded_settings):
    app = bootstrap(embedded_settings, configure_logs=False)
    yield app
    app.close()


def test_a_replay_registers_routes_and_quarantines_every_event_once(app):
    good = web_events(40, seed=3)
    lines = good[:20] + BAD_LINES + good[20:] + good[:5]            # the last five are redeliveries
    report = run_replay(app, None, lines=lines)

    assert report.as_dict() == {"events": 52, "claims": 40, "merged": 0, "redeliveries": 5, "quarantined": 7, "ignored": 0}
    claims = list(export_claims(app))
    assert len(claims) == 40
    assert sorted(e for c in claims for e in c["source_event_ids"]) == sorted(json.loads(g)["event_id"] for g in good)
    assert all(c["status"] == "routed" and c["department"] in app.policy.departments for c in claims)
    assert all(c["claim_number"].startswith("RK-") and c["deadlines"]["decision"] for c in claims)
    assert len({c["claim_number"] for c in claims}) == 40
    reasons = {q["event_id"]: q["reason"] for q in list_quarantine(app)}
    assert reasons == EXPECTED_REASONS


def test_department_queues_on_the_embedded_default_hold_each_routed_claim_once(app):
    run_replay(app, None, lines=web_events(30, seed=4))
    queues = [app.department_queues.queue_name(d) for d in app.policy.departments]
    bodies = drain_with_kombu(app.settings.effective_department_queue_url, queues, idle=0.2)

    validate_all(bodies)
    exported = {c["claim_number"]: c for c in export_claims(app)}
    assert sorted(b["claim_number"] for b in bodies) == sorted(exported)
    for body in bodies:
        assert app.department_queues.queue_name(body["department"]).endswith(exported[body["claim_number"]]["department"])


def test_replaying_the_same_file_again_changes_nothing(app):
    lines = web_events(25, seed=5)
    first = run_replay(app, None, lines=lines)
    second = run_replay(app, None, lines=lines)
    assert first.claims == 25
    assert second.as_dict() == {"events": 25, "claims": 0, "merged": 0, "redeliveries": 25, "quarantined": 0, "ignored": 0}
    assert len(list(export_claims(app))) == 25


def test_a_publish_that_fails_after_commit_is_published_later_and_only_once(app, monkeypatch):
    real_publish = app.department_queues.publish_many

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(app.department_queues, "publish_many", broker_down)
    from services.replay import ReplayTimeout
    with pytest.raises(ReplayTimeout):
        run_replay(app, None, lines=web_events(10, seed=6), timeout=3)
    with app.sessions() as s:
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.published_at.is_(None))).all()
    assert len(waiting) == 10                        # committed, routed, not yet sent: nothing lost

    monkeypatch.setattr(app.department_queues, "publish_many", real_publish)
    from services.runner import Redriver
    import threading
    Redriver(app, ("intake", "routing", "outbox"), threading.Event()).sweep()
    queues = [app.department_queues.queue_name(d) for d in app.policy.departments]
    bodies = drain_with_kombu(app.settings.effective_department_queue_url, queues, idle=0.2)
    assert len(bodies) == 10 and len({b["claim_number"] for b in bodies}) == 10


def test_a_normaliser_crash_quarantines_that_event_and_spares_the_rest(app, monkeypatch):
    from intake_worker.channels import NORMALISERS, web
    from shared.schema import Channel

    def fragile(envelope, context):
        if envelope.event_id.endswith("0000003"):
            raise RuntimeError("bug")
        return web.normalise(envelope, context)

    monkeypatch.setitem(NORMALISERS, Channel.WEB, fragile)
    report = run_replay(app, None, lines=web_events(8, seed=7))
    assert (report.claims, report.quarantined) == (7, 1)
    [record] = list(list_quarantine(app))
    assert record["reason"] == "processing_error" and record["event_id"].endswith("0000003")


def test_claim_history_is_append_only_and_records_each_transition(app):
    run_replay(app, None, lines=web_events(3, seed=8))
    with app.sessions() as s:
        steps = s.execute(select(ClaimHistory.claim_id, ClaimHistory.actor, ClaimHistory.action, ClaimHistory.to_status)
                          .order_by(ClaimHistory.id)).all()
    per_claim: dict[int, list] = {}
    for claim_id, actor, action, to_status in steps:
        per_claim.setdefault(claim_id, []).append((actor, action, to_status))
    # routed only once the department queue confirmed the message: after the classification
    assert list(per_claim.values()) == [[("intake", "registered", "registered"),
                                         ("routing", "classified", "registered"),
                                         ("routing", "routed", "routed")]] * 3
    with pytest.raises(DatabaseError, match="append-only"):
        with app.sessions.begin() as s:
            s.execute(update(ClaimHistory).values(reason="rewritten"))
    with pytest.raises(DatabaseError, match="append-only"):
        with app.sessions.begin() as s:
            s.execute(text("DELETE FROM claim_history"))


def test_every_inbox_event_ends_in_exactly_one_place(app):
    run_replay(app, None, lines=web_events(15, seed=9) + BAD_LINES)
    with app.sessions() as s:
        statuses = dict(s.execute(select(InboxEvent.status, text("count(*)")).group_by(InboxEvent.status)).all())
        linked = s.execute(text("SELECT count(*), count(DISTINCT inbox_id) FROM claim_events")).one()
    assert statuses == {"registered": 15, "quarantined": 3}   # envelope-level refusals never reach the inbox
    assert linked[0] == linked[1] == 15


def test_a_customer_with_an_open_claim_gets_high_priority_on_the_next_one(app):
    first, second, stranger = (json.loads(line) for line in web_events(3, seed=10))
    second["payload"].update(email=first["payload"]["email"], order_number="ORD-999")
    for event in (first, second, stranger):
        event["payload"]["description"] = "Чайник сломался через неделю"   # no legal words
    stranger["payload"].pop("email")
    run_replay(app, None, lines=[json.dumps(e, ensure_ascii=False) for e in (first, second, stranger)])
    priority = {c["source_event_ids"][0]: c["priority"] for c in export_claims(app)}
    assert priority == {first["event_id"]: "normal", second["event_id"]: "high", stranger["event_id"]: "normal"}


def test_with_the_bundled_model_a_claim_without_strong_keywords_is_routed_by_the_model(embedded_settings):
    settings = embedded_settings.model_copy(update={"routing_model": "bundled"})
    app = bootstrap(settings, configure_logs=False)
    try:
        vague = json.loads(web_events(1, seed=61)[0])
        vague["payload"].update(subject="", description="Утюг выплёвывает ржавую воду и пачкает бельё")
        run_replay(app, None, lines=[json.dumps(vague, ensure_ascii=False)])
        with app.sessions() as s:
            [history] = s.scalars(select(ClaimHistory).where(ClaimHistory.action == "classified")).all()
    finally:
        app.close()
    assert any(e.startswith(("model:", "triage:")) for e in history.data["evidence"])
