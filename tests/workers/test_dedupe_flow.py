"""Deduplication through the real intake stage on the embedded default: one claim per problem,
whatever the number of messages, and never two problems in one claim."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.export import export_claims
from services.pipeline_run import run_replay
from shared.bootstrap import bootstrap
from shared.db.models import ClaimHistory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def web(event_id, description, *, email=None, phone=None, order=None, at=T0, **extra) -> str:
    payload = {"description": description, **extra}
    for name, value in (("email", email), ("phone", phone), ("order_number", order)):
        if value:
            payload[name] = value
    return json.dumps({"event_id": event_id, "channel": "web", "source": "site", "received_at": at.isoformat(),
                       "payload": payload}, ensure_ascii=False)


@pytest.fixture
def app(embedded_settings):
    app = bootstrap(embedded_settings, configure_logs=False)
    yield app
    app.close()


def claims_by_event(app) -> dict[str, str]:
    return {e: c["claim_number"] for c in export_claims(app) for e in c["source_event_ids"]}


def test_follow_ups_of_one_problem_join_its_claim_and_other_problems_do_not(app):
    lines = [
        web("w1", "Чайник протекает, заказ ORD-4815162", email="Anna@Example.ru", order="ORD-4815162"),
        web("w2", "Снова про чайник", phone="8 (912) 345-67-89", email="anna@example.ru", order="№ 4815162",
            at=T0 + timedelta(days=2)),
        web("w3", "Звоню повторно", phone="+7 912 345-67-89", order="заказ 4815162", at=T0 + timedelta(days=3)),
        web("w4", "А ещё утюг не греет", email="anna@example.ru", order="7777777", at=T0 + timedelta(days=3)),
        web("w5", "Чайник протекает", email="boris@example.ru", order="4815162"),
    ]
    report = run_replay(app, None, lines=lines)
    where = claims_by_event(app)

    assert (report.claims, report.merged) == (3, 2)
    assert where["w1"] == where["w2"] == where["w3"]       # e-mail, then phone learned from w2
    assert len({where["w1"], where["w4"], where["w5"]}) == 3
    [first] = [c for c in export_claims(app) if "w1" in c["source_event_ids"]]
    assert first["source_event_ids"] == ["w1", "w2", "w3"]
    assert first["customer"]["phone"] == "+79123456789"       # filled in by the merged event


def test_a_merge_is_recorded_in_the_claims_history_with_its_rule(app):
    run_replay(app, None, lines=[web("a", "Не работает пылесос, не включается", email="c@example.ru"),
                                 web("b", "Пылесос не включается, не работает", email="c@example.ru",
                                     at=T0 + timedelta(hours=5))])
    with app.sessions() as s:
        merged = s.scalars(select(ClaimHistory).where(ClaimHistory.action == "merged")).one()
    assert merged.data["event_id"] == "b" and merged.data["rule"] == 5


def test_events_merge_across_batches_and_across_replays(app):
    first = run_replay(app, None, lines=[web("x1", "Курьер нагрубил", email="d@example.ru", order="555555")])
    second = run_replay(app, None, lines=[web("x2", "По поводу курьера", email="d@example.ru", order="555555",
                                              at=T0 + timedelta(days=1))])
    assert (first.claims, second.claims, second.merged) == (1, 0, 1)
    assert len(set(claims_by_event(app).values())) == 1


def test_a_wrong_merge_is_undone_by_split_with_history_on_both_claims(app):
    from intake_worker.channels import NormaliseContext
    from intake_worker.splitting import SplitRefused, split
    from services.stages import routing_step
    run_replay(app, None, lines=[web("p1", "Чайник протекает", email="e@example.ru", order="4242"),
                                 web("p2", "Утюг не греет", email="e@example.ru", order="4242",
                                     at=T0 + timedelta(days=1))])
    [joined] = list(export_claims(app))
    assert joined["source_event_ids"] == ["p1", "p2"]
    context = NormaliseContext("RU")
    with pytest.raises(SplitRefused, match="opened from"):
        with app.sessions.begin() as s:
            split(s, joined["claim_number"], "p1", now=T0, context=context, max_bytes=1 << 20, actor="t", reason=None)
    with app.sessions.begin() as s:
        new_number = split(s, joined["claim_number"], "p2", now=T0 + timedelta(days=2), context=context,
                           max_bytes=1 << 20, actor="operator", reason="two different products")
    routing_step(app)
    claims = {c["claim_number"]: c for c in export_claims(app)}
    assert claims[joined["claim_number"]]["source_event_ids"] == ["p1"]
    assert claims[new_number]["source_event_ids"] == ["p2"] and claims[new_number]["status"] == "routed"
    with app.sessions() as s:
        actions = s.execute(select(ClaimHistory.action, ClaimHistory.actor).where(ClaimHistory.actor == "operator")).all()
    assert sorted(a for a, _ in actions) == ["registered", "split"]


def test_an_archived_claim_takes_no_follow_up_a_new_claim_does(app):
    from sqlalchemy import update

    from shared.db.models import Claim
    run_replay(app, None, lines=[web("old", "Курьер нагрубил", email="e@example.ru", order="666666")])
    with app.sessions.begin() as s:        # closed and past its retention: archived, read-only
        s.execute(update(Claim).values(status="archived"))
    again = run_replay(app, None, lines=[web("new", "Снова про курьера", email="e@example.ru", order="666666",
                                             at=T0 + timedelta(days=1))])
    assert (again.claims, again.merged) == (1, 0)
    where = claims_by_event(app)
    assert where["old"] != where["new"]
