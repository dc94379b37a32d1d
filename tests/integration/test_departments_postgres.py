"""Tier 3: the departments' API on real PostgreSQL — a claim goes registered → routed → in_progress →
awaiting_customer → in_progress → decided → executed through the API with each step and its key in
the history; a reroute lands on the new department's queue; the claim row lock serialises two
departments' keys acting at once."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.departments import service, transitions
from services.departments.api import router
from services.departments.keys import authenticate, create_key
from services.export import export_claims
from services.gateway.errors import install_error_handlers
from services.pipeline_run import run_replay
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.db.models import Claim, ClaimDecision, ClaimExecution, ClaimHistory
from shared.settings import Settings
from tests.helpers import drain_with_kombu, validate_all

pytestmark = [pytest.mark.services, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
BASE = "/v1/department/claims"


@pytest.fixture
def app(migrated_pg_url, names, tmp_path):
    settings = Settings(database_url=migrated_pg_url, broker_url=None,
                        department_queue_url=f"sqla+sqlite:///{tmp_path / 'queues.db'}", log_level="WARNING",
                        blob_dir=tmp_path / "blobs", **names)
    app = bootstrap(settings, configure_logs=False)
    yield app
    app.close()


@pytest.fixture
def client(app):
    api = FastAPI()
    api.state.claimflow = app
    install_error_handlers(api)
    api.include_router(router)
    with TestClient(api) as client:
        yield client


def routed_claims(app, count: int, seed: int) -> list[dict]:
    report = run_replay(app, None, lines=web_events(count, seed=seed))
    assert report.claims == count
    claims = list(export_claims(app))
    assert {c["status"] for c in claims} == {"routed"}
    return claims


def key_for(app, department: str | None, owner: str) -> dict:
    with app.sessions.begin() as session:
        _, secret = create_key(session, department=department, owner=owner, is_admin=department is None,
                               departments=app.policy.departments, now=app.clock.now())
    return {"Authorization": f"Bearer {secret}"}


def queue(app, department: str) -> list[dict]:
    return drain_with_kombu(app.settings.effective_department_queue_url,
                            [app.department_queues.queue_name(department)], idle=0.5)


def test_a_claim_goes_the_whole_way_through_the_api_and_its_history_says_who(app, client):
    [claim] = routed_claims(app, 1, seed=51)
    number, department = claim["claim_number"], claim["department"]
    crm, operator = key_for(app, department, "crm-" + department), key_for(app, None, "Ольга (call centre)")

    steps = [("acknowledge", None, crm),
             ("request-information", {"question": "Пришлите фото дефекта"}, crm),
             ("customer-replied", {"note": "фото получено по телефону"}, operator),
             ("decision", {"resolution": "refund", "amount": "2490.50", "currency": "RUB",
                           "reason": "брак подтверждён"}, crm),
             ("executed", {"evidence": {"refund_transaction": "TX-42"}}, crm)]
    for endpoint, body, key in steps:
        answer = client.post(f"{BASE}/{number}/{endpoint}", json=body, headers=key)
        assert answer.status_code == 200, (endpoint, answer.text)
    assert answer.json()["status"] == "executed"

    with app.sessions() as s:
        claim_id = s.scalar(select(Claim.id).where(Claim.claim_number == number))
        rows = s.scalars(select(ClaimHistory).where(ClaimHistory.claim_id == claim_id).order_by(ClaimHistory.id)).all()
        decision = s.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == claim_id)).one()
        execution = s.scalars(select(ClaimExecution).where(ClaimExecution.claim_id == claim_id)).one()
    crm_actor, operator_actor = f"key:crm-{department}", "key:Ольга (call centre)"
    assert [(r.actor, r.action, r.from_status, r.to_status) for r in rows] == [
        ("intake", "registered", None, "registered"),
        ("routing", "classified", "registered", "registered"),
        ("routing", "routed", "registered", "routed"),
        (crm_actor, "acknowledged", "routed", "in_progress"),
        (crm_actor, "information_requested", "in_progress", "awaiting_customer"),
        (operator_actor, "customer_replied", "awaiting_customer", "in_progress"),
        (crm_actor, "decided", "in_progress", "decided"),
        (crm_actor, "executed", "decided", "executed")]
    assert [r.reason for r in rows[4:]] == ["Пришлите фото дефекта", "фото получено по телефону",
                                            "брак подтверждён", None]
    assert rows[3].data["by"] == {"key_id": rows[3].data["by"]["key_id"], "department": department, "admin": False}
    assert rows[5].data["by"]["admin"] is True and rows[5].data["clocks"] == "resumed"
    assert rows[6].data == {**rows[6].data, "resolution": "refund", "amount": "2490.50", "currency": "RUB"}
    assert (decision.resolution, decision.amount, decision.currency, decision.decided_by) == (
        "refund", Decimal("2490.50"), "RUB", crm_actor)
    assert (execution.evidence, execution.decision_id, execution.executed_by) == (
        {"refund_transaction": "TX-42"}, decision.id, crm_actor)

    seen = client.get(f"{BASE}/{number}", headers=crm).json()
    assert [(h["actor"], h["to_status"]) for h in seen["history"]] == [(r.actor, r.to_status) for r in rows]
    late = client.post(f"{BASE}/{number}/reroute", json={"department": department, "reason": "r"}, headers=crm)
    assert late.status_code == 409 and late.json()["allowed"] == ["closed"]


def test_a_reroute_lands_a_message_on_the_new_departments_queue(app, client):
    [claim] = routed_claims(app, 1, seed=52)
    number, first = claim["claim_number"], claim["department"]
    second = next(d for d in app.policy.departments if d != first)
    assert [m["claim_number"] for m in queue(app, first)] == [number]      # routing's own message
    mine, theirs = key_for(app, first, "crm-first"), key_for(app, second, "crm-second")

    assert client.post(f"{BASE}/{number}/acknowledge", headers=mine).status_code == 200
    moved = client.post(f"{BASE}/{number}/reroute", json={"department": second, "reason": "это не к нам"},
                        headers=mine)
    assert moved.status_code == 200, moved.text

    [message] = queue(app, second)
    validate_all([message])
    assert (message["claim_number"], message["department"], message["status"]) == (number, second, "routed")
    assert queue(app, first) == []
    assert client.get(f"{BASE}/{number}", headers=mine).status_code == 403
    assert client.post(f"{BASE}/{number}/acknowledge", headers=theirs).json()["status"] == "in_progress"
    with app.sessions() as s:
        rerouted = s.scalars(select(ClaimHistory).where(ClaimHistory.action == "rerouted")).one()
    assert (rerouted.actor, rerouted.from_status, rerouted.to_status, rerouted.reason) == (
        "key:crm-first", "in_progress", "routed", "это не к нам")
    assert (rerouted.data["from_department"], rerouted.data["to_department"], rerouted.data["message_id"]) == (
        first, second, message["message_id"])


def test_the_claim_row_lock_lets_one_of_two_simultaneous_steps_through(app, client):
    [claim] = routed_claims(app, 1, seed=53)
    number = claim["claim_number"]
    key = key_for(app, None, "ops")["Authorization"].removeprefix("Bearer ")
    with app.sessions() as s:
        who = authenticate(s, key)
    locked, finished, outcomes = threading.Event(), {}, {}

    def slow(c):                     # holds the row lock a while, between reading and writing the claim
        locked.set()
        time.sleep(0.5)
        return transitions.acknowledge(c.status)

    def run(name, make):
        try:
            outcomes[name] = service.change_claim(app, who, number, make)["status"]
        except transitions.IllegalAction as exc:
            outcomes[name] = f"409 {exc.current.value}"
        finished[name] = time.monotonic()

    first = threading.Thread(target=run, args=("first", slow))
    first.start()
    assert locked.wait(5)
    second = threading.Thread(target=run, args=("second", lambda c: transitions.acknowledge(c.status)))
    second_started = time.monotonic()
    second.start()
    first.join(10)
    second.join(10)
    assert outcomes == {"first": "in_progress", "second": "409 in_progress"}
    # it came while the first held the lock, waited for it, then saw the new status (the 409 above)
    assert second_started < finished["first"]
    with app.sessions() as s:
        actions = s.scalars(select(ClaimHistory.action).join(Claim).where(Claim.claim_number == number)).all()
    assert actions.count("acknowledged") == 1
