"""The SLA sweep on the embedded default and a frozen clock: warnings at 80 %, levels 1–3 of the
ladder, each once; met targets and waits for the customer fire nothing; every firing is in the
claim's history, tells the staff, reaches the department's queue and shows in the export."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main
from services.departments import transitions as t
from services.departments.keys import Principal
from services.departments.service import change_claim
from services.export import export_claims
from shared.db.models import Claim, ClaimHistory, Notification, OutboxMessage, SlaEscalation
from sla_worker.worker import sweep_once
from tests.helpers import routed_claims_app

# the synthetic claims arrive on Monday 2 November 2026 from 12:00 Moscow time (09:00 UTC)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
DEPT = Principal(key_id=0, owner="test", department=None, is_admin=True)


@pytest.fixture
def app(embedded_settings):
    app = routed_claims_app(embedded_settings, T0)
    yield app
    app.close()


def fired(app) -> list[tuple[str, str, int]]:
    with app.sessions() as s:
        rows = s.execute(select(Claim.claim_number, SlaEscalation.target, SlaEscalation.level)
                         .join(Claim, Claim.id == SlaEscalation.claim_id).order_by(SlaEscalation.id)).all()
    return [tuple(r) for r in rows]


def at(app, moment: datetime) -> list[tuple[str, str, int]]:
    app.clock.at = moment
    sweep_once(app)
    return fired(app)


def first_claim(app) -> Claim:
    with app.sessions() as s:
        return s.scalars(select(Claim).order_by(Claim.id)).first()


def test_first_response_warns_at_80_percent_then_climbs_the_ladder_once_each(app):
    claim = first_claim(app)
    number, due = claim.claim_number, claim.first_response_due

    def mine(moment):
        return [(target, level) for n, target, level in at(app, moment) if n == number]

    # 24 business hours of 09–18 Moscow from Monday 12:00: Monday 6 h, Tuesday 9 h, Wednesday
    # 4 November is Unity Day (a public holiday), Thursday 9 h: due Thursday 18:00 Moscow
    assert due == datetime(2026, 11, 5, 15, 0, tzinfo=timezone.utc)
    assert claim.next_sla_at == datetime(2026, 11, 5, 10, 12, tzinfo=timezone.utc)   # 80 %: 19.2 h in
    assert mine(claim.next_sla_at - timedelta(seconds=1)) == []
    assert mine(claim.next_sla_at) == [("first_response", 0)]
    assert mine(due - timedelta(seconds=1)) == [("first_response", 0)]            # nothing twice
    assert mine(due) == [("first_response", 0), ("first_response", 1)]
    assert mine(due + timedelta(hours=24)) == [("first_response", level) for level in (0, 1, 2)]
    assert mine(due + timedelta(hours=72)) == [("first_response", level) for level in (0, 1, 2, 3)]
    # the others arrived seconds later: their first response rolled over to Friday 09:00 Moscow
    everything = at(app, due + timedelta(days=4))
    assert sorted((target, level) for _, target, level in everything) == sorted(
        [("first_response", level) for level in (0, 1, 2, 3)] * 6)
    assert at(app, due + timedelta(days=4, hours=1)) == everything                 # nothing twice
    with app.sessions() as s:
        assert set(s.scalars(select(Claim.escalation_level))) == {3}
        history = s.scalars(select(ClaimHistory).where(ClaimHistory.action.in_(["sla_warning", "escalated"]))).all()
        assert len(history) == 24 and all(h.actor == "sla" for h in history)
        assert len({(h.claim_id, h.data["target"], h.data["level"]) for h in history}) == 24
        notices = s.scalars(select(Notification).where(Notification.kind.in_(["sla_warning", "escalation"]))).all()
        assert {(n.kind, n.context["level"], n.recipient) for n in notices} >= {
            ("sla_warning", "warning", "department_lead"), ("escalation", "1", "department_lead"),
            ("escalation", "2", "head_of_claims"), ("escalation", "3", "management")}
        messages = s.scalars(select(OutboxMessage).where(OutboxMessage.claim_id == claim.id)
                             .order_by(OutboxMessage.id)).all()
        assert [m.payload["escalation_level"] for m in messages] == [0, 0, 1, 2, 3]   # routed, then each firing
    exported = {c["claim_number"]: c for c in export_claims(app)}
    assert exported[claim.claim_number]["escalation_level"] == 3


def test_an_acknowledged_claim_fires_nothing_more_for_its_first_response(app):
    claim = first_claim(app)
    change_claim(app, DEPT, claim.claim_number, lambda c: t.acknowledge(c.status))
    fired_later = at(app, claim.first_response_due + timedelta(days=3))
    assert (claim.claim_number, "first_response", 0) not in fired_later
    assert not any(n == claim.claim_number and target == "first_response" for n, target, _ in fired_later)


def test_waiting_for_the_customer_stops_the_decision_clock_and_the_answer_restarts_it(app):
    claim = first_claim(app)
    change_claim(app, DEPT, claim.claim_number, lambda c: t.acknowledge(c.status))
    change_claim(app, DEPT, claim.claim_number, lambda c: t.request_information(c.status, "Пришлите фото"))
    with app.sessions() as s:
        paused = s.get(Claim, claim.id)
        assert paused.next_sla_at is None and paused.sla_pauses[0][1] is None     # stopped: nothing to fire
    long_wait = claim.decision_due + timedelta(days=30)
    assert not any(n == claim.claim_number for n, _, _ in at(app, long_wait))
    app.clock.at = long_wait
    change_claim(app, DEPT, claim.claim_number, lambda c: t.customer_replied(c.status, "фото"))
    with app.sessions() as s:
        resumed = s.get(Claim, claim.id)
        waited = long_wait - T0
        # recomputed from the ledger: the decision is due as late as the wait was long
        assert resumed.decision_due == claim.decision_due + waited
        assert resumed.next_sla_at > long_wait


def test_sla_cli_sweeps_at_a_chosen_moment_and_simulates_a_breach_table(app):
    env = {"CLAIMFLOW_DATABASE_URL": app.settings.database_url, "CLAIMFLOW_LOG_LEVEL": "WARNING",
           "CLAIMFLOW_BLOB_DIR": str(app.settings.blob_dir)}
    runner = CliRunner()
    simulated = runner.invoke(main, ["sla", "simulate", "--from", "2026-11-02T09:00Z", "--to", "2027-01-31T09:00Z",
                                     "--step", "6h", "--format", "json"], env=env, catch_exceptions=False)
    assert simulated.exit_code == 0, simulated.output
    table = [json.loads(line) for line in simulated.output.splitlines() if line.startswith("{")]
    assert sum(row["level 1"] for row in table) == 18          # six claims, three targets, all missed
    assert {row["target"] for row in table} == {"first_response", "decision", "closure"}
    assert fired(app) == []                                    # a simulation fires nothing for real
    swept = runner.invoke(main, ["sla", "sweep", "--now", "2026-11-05T16:00Z"], env=env, catch_exceptions=False)
    lines = [json.loads(line) for line in swept.stdout.splitlines() if line.startswith("{")]
    assert {(line["target"], line["level"]) for line in lines} == {("first_response", 0), ("first_response", 1)}
    with app.sessions() as s:
        # six warnings; only the first claim is breached by then (the others are due Friday morning)
        assert s.scalar(select(func.count()).select_from(SlaEscalation)) == len(lines) == 7


def test_a_policy_change_retimes_only_the_claims_it_affects(app, tmp_path):
    import yaml
    from importlib import resources

    from shared.policy import load_policy
    from sla_worker.policy_versions import adopt
    document = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
    document["deadlines"].setdefault("overrides", []).append(
        {"name": "billing answers fast", "when": {"category": "billing"}, "first_response_business_hours": 8})
    changed = tmp_path / "policy.yaml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with app.sessions() as s:
        before = {c.claim_number: (c.category, c.first_response_due) for c in s.scalars(select(Claim))}
    # a calendar no target uses (with a YAML date, which the recorded rules keep as JSON) changes nothing
    document["calendars"]["service"] = {**document["calendars"]["moscow"], "default": False,
                                        "days_off": [date(2026, 12, 31)]}
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with app.sessions.begin() as s:       # what an SLA worker does when it starts
        assert adopt(s, app.policy, T0) == 0 and adopt(s, app.policy, T0) is None     # first rules; then current
        count = adopt(s, load_policy(changed), T0)
        assert adopt(s, load_policy(changed), T0) is None
    with app.sessions() as s:
        after = {c.claim_number: c.first_response_due for c in s.scalars(select(Claim))}
    billing = [n for n, (category, _) in before.items() if category == "billing"]
    assert count == len(billing) and 0 < count < len(before)
    for number, (category, due) in before.items():
        if category == "billing":     # 8 business hours from Monday 12:00 Moscow: Tuesday 11:00
            assert after[number] < due and after[number].date().isoformat() == "2026-11-03"
        else:
            assert after[number] == due


def test_a_reopened_claim_takes_up_its_decision_clock_where_the_decision_left_it(app):
    from sla_worker.claim_clocks import after_transition, clocks
    from sla_worker.targets import Target
    claim = first_claim(app)
    decided, reopened = T0 + timedelta(days=2), T0 + timedelta(days=40)
    facts = {**{c.key: getattr(claim, c.key) for c in Claim.__table__.columns}, "status": "closed",
             "first_response_at": T0 + timedelta(hours=3), "decided_at": decided,
             "closed_at": T0 + timedelta(days=3)}
    changes = after_transition(facts, "reopened", reopened)
    assert (changes["decided_at"], changes["closed_at"]) == (None, None)
    after = {**facts, **changes, "status": "reopened"}
    decision = clocks(after, app.policy)[Target.DECISION]
    # 10 days for a refund, 2 used before the decision: 8 remain from the reopening
    assert decision.due == claim.decision_due + (reopened - decided)
    assert decision.level_at(reopened) is None                         # nothing fires at once


@pytest.mark.parametrize("args, message", [
    (["sweep", "--now", "yesterday"], "not an ISO 8601 moment"),
    (["simulate", "--from", "2026-11-02", "--to", "2026-11-01"], "--to is before --from"),
    (["simulate", "--from", "2026-11-01", "--to", "2026-11-02", "--step", "0h"], "too short a step"),
    (["simulate", "--from", "2026-11-01", "--to", "2026-11-02", "--step", "soon"], "not a step"),
    (["simulate", "--from", "2026-11-01", "--to", "2026-11-02", "--policy", "{not_a_policy}"], "YAML mapping"),
    (["retime", "--previous-policy", "{not_a_policy}"], "YAML mapping")])
def test_sla_cli_refuses_what_it_cannot_read_with_a_clear_message(app, args, message, tmp_path):
    env = {"CLAIMFLOW_DATABASE_URL": app.settings.database_url, "CLAIMFLOW_LOG_LEVEL": "WARNING"}
    not_a_policy = tmp_path / "notes.yaml"
    not_a_policy.write_text("just a line of text\n", encoding="utf-8")
    done = CliRunner().invoke(main, ["sla", *(a.format(not_a_policy=not_a_policy) for a in args)], env=env)
    assert done.exit_code == 2 and message in done.output, done.output
    assert fired(app) == []
