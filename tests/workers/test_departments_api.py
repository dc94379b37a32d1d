"""Tier 2: the departments' API on the embedded default (SQLite file, stub broker) through FastAPI's
TestClient: access key by key, each endpoint's validation, the state machine's 409s, a reroute's
message on the new department's queue, the `claimflow keys` commands and the gateway mount."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.departments.api import router
from services.departments.commands import keys as keys_cli
from services.departments.keys import KeyRefused, create_key, revoke_key
from services.gateway.app import create_app
from services.gateway.errors import install_error_handlers
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import ApiKey, Claim, ClaimDecision, ClaimExecution, ClaimHistory, OutboxMessage
from tests.helpers import department_world, drain_with_kombu, routed_claims_app, validate_all

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BASE = "/v1/department/claims"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(embedded_settings):
    app = routed_claims_app(embedded_settings, T0)
    yield app
    app.close()


def small_api(app) -> FastAPI:
    api = FastAPI()
    api.state.claimflow = app
    install_error_handlers(api)
    api.include_router(router)
    return api


@pytest.fixture
def client(app):
    with TestClient(small_api(app)) as client:
        yield client


@pytest.fixture
def world(app):
    return department_world(app, T0)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def as_(world, who: str) -> dict:
    return bearer(world["keys"][who])


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and body["message"], body
    return body


def history(app, number: str) -> list[tuple]:
    with app.sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.claim_number == number))
        return s.execute(select(ClaimHistory.actor, ClaimHistory.action, ClaimHistory.from_status,
                                ClaimHistory.to_status).where(ClaimHistory.claim_id == claim.id)
                         .order_by(ClaimHistory.id)).all()


# --- access, key by key -------------------------------------------------------------------------

@pytest.mark.parametrize("headers, status", [
    ("own", 200), ("other", 403), ("admin", 200), (None, 401), ("revoked", 401),
    ("Bearer cfk_not-a-key-of-ours", 401), ("Bearer " + "x" * 300, 401), ("Basic dXNlcjpwdw==", 401)],
    ids=["own department", "another department", "administrator", "no key", "revoked key", "unknown key",
         "overlong key", "not a bearer"])
def test_who_may_read_and_change_a_claim(client, app, world, headers, status):
    sent = as_(world, headers) if headers in world["keys"] else {"Authorization": headers} if headers else {}
    read = client.get(f"{BASE}/{world['own']}", headers=sent)
    change = client.post(f"{BASE}/{world['own']}/acknowledge", headers=sent)
    assert (read.status_code, change.status_code) == (status, status), (read.text, change.text)
    if status == 401:
        error(read, 401, "unauthorized")
        assert read.headers["www-authenticate"].startswith("Bearer")
    elif status == 403:
        error(read, 403, "forbidden")
        error(change, 403, "forbidden")
    else:
        assert read.json()["claim_number"] == world["own"] and change.json()["status"] == "in_progress"
    expected = ("intake", "routing", "routing") + ((f"key:{headers}-system",) if status == 200 else ())
    assert tuple(actor for actor, *_ in history(app, world["own"])) == expected


def test_the_history_names_the_key_that_changed_the_claim(client, app, world):
    client.post(f"{BASE}/{world['own']}/acknowledge", headers=as_(world, "admin"))
    client.post(f"{BASE}/{world['own']}/request-information", json={"question": "Фото?"}, headers=as_(world, "own"))
    assert history(app, world["own"])[-2:] == [("key:admin-system", "acknowledged", "routed", "in_progress"),
                                               ("key:own-system", "information_requested", "in_progress",
                                                "awaiting_customer")]


def test_another_departments_key_learns_nothing_from_a_bad_request(client, world):
    for endpoint, body in (("decision", {"resolution": "refund"}), ("request-information", {"question": " "}),
                           ("reroute", {"department": "nowhere", "reason": "r"})):
        error(client.post(f"{BASE}/{world['own']}/{endpoint}", json=body, headers=as_(world, "other")),
              403, "forbidden")


def test_unknown_and_malformed_numbers_are_404(client, world):
    error(client.get(f"{BASE}/RK-2026-999999", headers=as_(world, "admin")), 404, "not_found")
    error(client.post(f"{BASE}/nonsense/acknowledge", headers=as_(world, "own")), 404, "not_found")
    huge = "RK-2026-" + "9" * 4400          # once answered 500: int() of more than 4,300 digits
    error(client.get(f"{BASE}/{huge}", headers=as_(world, "admin")), 404, "not_found")
    error(client.post(f"{BASE}/{huge}/acknowledge", headers=as_(world, "own")), 404, "not_found")


def test_a_page_cursor_past_the_largest_id_is_refused_not_a_500(client, world):
    assert client.get(BASE, params={"after": 2**63}, headers=as_(world, "admin")).status_code == 422
    assert client.get(BASE, params={"after": 2**63 - 1}, headers=as_(world, "admin")).json()["claims"] == []


def test_a_department_lists_its_own_claims_and_an_administrator_all(client, app, world):
    def numbers(who, **params):
        response = client.get(BASE, params=params, headers=as_(world, who))
        assert response.status_code == 200, response.text
        return [c["claim_number"] for c in response.json()["claims"]]

    with app.sessions() as s:
        everything = s.execute(select(Claim.claim_number, Claim.department).order_by(Claim.id)).all()
    assert numbers("own") == [n for n, d in everything if d == world["dept"]]
    assert numbers("admin") == [n for n, _ in everything]
    assert numbers("admin", department=world["other_dept"]) == [n for n, d in everything if d == world["other_dept"]]
    error(client.get(BASE, params={"department": world["other_dept"]}, headers=as_(world, "own")), 403, "forbidden")
    client.post(f"{BASE}/{world['own']}/acknowledge", headers=as_(world, "own"))
    assert numbers("own", status="in_progress") == [world["own"]]
    error(client.get(BASE, params={"status": "lost"}, headers=as_(world, "own")), 422, "invalid_request")
    first = client.get(BASE, params={"limit": 4}, headers=as_(world, "admin")).json()
    rest = client.get(BASE, params={"after": first["next_after"], "limit": 4}, headers=as_(world, "admin")).json()
    assert [c["claim_number"] for c in first["claims"] + rest["claims"]] == [n for n, _ in everything]
    assert rest["next_after"] is None
    error(client.get(BASE), 401, "unauthorized")


# --- the state machine --------------------------------------------------------------------------

def test_a_claim_goes_the_whole_way_and_the_wait_for_the_customer_moves_its_deadlines(client, app, world):
    number, key = world["own"], as_(world, "own")
    before = client.get(f"{BASE}/{number}", headers=key).json()["deadlines"]
    assert client.post(f"{BASE}/{number}/acknowledge", headers=key).status_code == 200
    asked = client.post(f"{BASE}/{number}/request-information", json={"question": "Пришлите фото"}, headers=key)
    assert asked.json()["status"] == "awaiting_customer"
    app.clock.advance(days=2)
    replied = client.post(f"{BASE}/{number}/customer-replied", json={"note": "фото пришли"}, headers=key).json()
    moved = {k: datetime.fromisoformat(v) - datetime.fromisoformat(before[k]) for k, v in replied["deadlines"].items()}
    assert moved == {"first_response": timedelta(0), "decision": timedelta(days=2), "closure": timedelta(days=2)}
    decided = client.post(f"{BASE}/{number}/decision", headers=key,
                          json={"resolution": "refund", "amount": "1499.90", "currency": "RUB"}).json()
    assert decided["status"] == "decided"
    assert decided["decisions"] == [{"resolution": "refund", "amount": "1499.90", "currency": "RUB", "reason": None,
                                     "decided_by": "key:own-system", "decided_at": decided["updated_at"]}]
    done = client.post(f"{BASE}/{number}/executed", json={"evidence": {"refund_id": "R-77"}}, headers=key).json()
    assert done["status"] == "executed" and done["executions"][0]["evidence"] == {"refund_id": "R-77"}
    assert [h["action"] for h in done["history"]] == ["registered", "classified", "routed", "acknowledged",
                                                      "information_requested",
                                                      "customer_replied", "decided", "executed"]
    with app.sessions() as s:
        resumed = s.scalars(select(ClaimHistory).where(ClaimHistory.action == "customer_replied")).one()
        assert resumed.data["paused_seconds"] == 2 * 86400 and resumed.data["by"]["department"] == world["dept"]
        assert s.scalars(select(ClaimExecution)).one().decision_id == s.scalars(select(ClaimDecision)).one().id


@pytest.mark.parametrize("steps, endpoint, body, status, allowed", [
    ([], "executed", {"evidence": "x"}, "routed", ["in_progress", "routed"]),
    ([], "decision", {"resolution": "repair"}, "routed", ["in_progress", "routed"]),
    ([], "customer-replied", None, "routed", ["in_progress", "routed"]),
    (["acknowledge"], "acknowledge", None, "in_progress", ["awaiting_customer", "decided", "rejected", "routed"]),
    (["acknowledge", "request-information"], "decision", {"resolution": "repair"}, "awaiting_customer",
     ["in_progress"]),
    (["acknowledge", "request-information"], "acknowledge", None, "awaiting_customer", ["in_progress"]),
    (["acknowledge", "decision"], "reroute", {"department": "X", "reason": "r"}, "decided", ["executed"]),
    (["acknowledge", "decision", "executed"], "request-information", {"question": "?"}, "executed", ["closed"])])
def test_an_illegal_step_is_409_with_the_allowed_next_states(client, app, world, steps, endpoint, body, status,
                                                              allowed):
    key = as_(world, "own")
    bodies = {"request-information": {"question": "?"}, "decision": {"resolution": "repair"},
              "executed": {"evidence": "накладная 123"}}
    for done in steps:
        assert client.post(f"{BASE}/{world['own']}/{done}", json=bodies.get(done), headers=key).status_code == 200
    if endpoint == "reroute":
        body = {"department": world["other_dept"], "reason": "not ours"}
    answer = error(client.post(f"{BASE}/{world['own']}/{endpoint}", json=body, headers=key), 409, "illegal_transition")
    assert (answer["status"], answer["allowed"]) == (status, allowed)
    assert len(history(app, world["own"])) == 3 + len(steps)   # registered, classified, routed


@pytest.mark.parametrize("body, code", [
    ({"resolution": "refund"}, "invalid_request"),
    ({"resolution": "refund", "amount": 100}, "invalid_request"),                        # no currency
    ({"resolution": "discount", "amount": 0, "currency": "RUB"}, "invalid_request"),
    ({"resolution": "compensation", "amount": "-5", "currency": "RUB"}, "invalid_request"),
    ({"resolution": "refund", "amount": "10.005", "currency": "RUB"}, "invalid_request"),
    ({"resolution": "refund", "amount": "1e12", "currency": "RUB"}, "invalid_request"),
    ({"resolution": "refund", "amount": "NaN", "currency": "RUB"}, "invalid_request"),
    ({"resolution": "refund", "amount": 10, "currency": "rub"}, "invalid_request"),
    ({"resolution": "repair", "amount": 10, "currency": "RUB"}, "invalid_request"),
    ({"resolution": "rejected"}, "invalid_request"),
    ({"resolution": "rejected", "reason": "   "}, "invalid_request"),
    ({"resolution": "rejected", "reason": "не гарантийный случай", "amount": 5}, "invalid_request"),
    ({"resolution": "apology"}, "invalid_request"),
    ({"resolution": "replacement", "colour": "red"}, "invalid_request"),
    ({}, "invalid_request")])
def test_a_decision_that_does_not_hold_together_is_422_and_changes_nothing(client, app, world, body, code):
    key = as_(world, "own")
    client.post(f"{BASE}/{world['own']}/acknowledge", headers=key)
    error(client.post(f"{BASE}/{world['own']}/decision", json=body, headers=key), 422, code)
    assert history(app, world["own"])[-1][1] == "acknowledged"


@pytest.mark.parametrize("body, status, stored", [
    ({"resolution": "rejected", "reason": "не гарантийный случай"}, "rejected", ("rejected", None, None)),
    ({"resolution": "compensation", "amount": 500, "currency": "RUB", "reason": "задержка"}, "decided",
     ("compensation", "500.00", "RUB")),
    ({"resolution": "replacement"}, "decided", ("replacement", None, None))])
def test_valid_decisions_are_stored(client, app, world, body, status, stored):
    key = as_(world, "own")
    client.post(f"{BASE}/{world['own']}/acknowledge", headers=key)
    answer = client.post(f"{BASE}/{world['own']}/decision", json=body, headers=key)
    assert answer.status_code == 200 and answer.json()["status"] == status
    [d] = answer.json()["decisions"]
    assert (d["resolution"], d["amount"], d["currency"]) == stored and d["reason"] == body.get("reason")
    assert history(app, world["own"])[-1][1:] == (status, "in_progress", status)


@pytest.mark.parametrize("endpoint, steps, body", [
    ("request-information", ["acknowledge"], {"question": "  "}),
    ("request-information", ["acknowledge"], {}),
    ("request-information", ["acknowledge"], {"question": "x" * 4001}),
    ("executed", ["acknowledge", "decision"], {}),
    ("executed", ["acknowledge", "decision"], {"evidence": " "}),
    ("executed", ["acknowledge", "decision"], {"evidence": {}}),
    ("reroute", [], {"department": "quality"}),
    ("reroute", [], {"reason": "не наше"})])
def test_each_endpoint_checks_its_fields(client, world, endpoint, steps, body):
    key = as_(world, "own")
    for done in steps:
        payload = {"resolution": "repair"} if done == "decision" else None
        assert client.post(f"{BASE}/{world['own']}/{done}", json=payload, headers=key).status_code == 200
    error(client.post(f"{BASE}/{world['own']}/{endpoint}", json=body, headers=key), 422, "invalid_request")


# --- reroute --------------------------------------------------------------------------------------

def test_a_reroute_hands_the_claim_and_its_message_to_the_new_department(client, app, world):
    own, other = as_(world, "own"), as_(world, "other")
    url = app.settings.effective_department_queue_url
    drain_with_kombu(url, [app.department_queues.queue_name(d) for d in app.policy.departments], idle=0.2)
    client.post(f"{BASE}/{world['own']}/acknowledge", headers=own)
    error(client.post(f"{BASE}/{world['own']}/reroute", json={"department": "nowhere", "reason": "r"}, headers=own),
          422, "unknown_department")
    error(client.post(f"{BASE}/{world['own']}/reroute", json={"department": world["dept"], "reason": "r"},
                      headers=own), 422, "same_department")
    from shared.observability.metrics import CLAIMS_REROUTED
    counted = CLAIMS_REROUTED.labels(world["dept"], world["other_dept"])._value.get()
    moved = client.post(f"{BASE}/{world['own']}/reroute", json={"department": world["other_dept"],
                                                                 "reason": "это доставка"}, headers=own)
    assert CLAIMS_REROUTED.labels(world["dept"], world["other_dept"])._value.get() == counted + 1   # the panel's figure
    assert moved.status_code == 200 and (moved.json()["status"], moved.json()["department"]) == (
        "routed", world["other_dept"])
    [message] = drain_with_kombu(url, [app.department_queues.queue_name(world["other_dept"])], idle=0.5)
    validate_all([message])
    assert (message["claim_number"], message["department"], message["status"]) == (
        world["own"], world["other_dept"], "routed")
    with app.sessions() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message["message_id"])).one()
        assert row.published_at is not None and row.routing_key == world["other_dept"]
        rerouted = s.scalars(select(ClaimHistory).where(ClaimHistory.action == "rerouted")).one()
        assert (rerouted.reason, rerouted.data["from_department"], rerouted.data["to_department"]) == (
            "это доставка", world["dept"], world["other_dept"])
    error(client.get(f"{BASE}/{world['own']}", headers=own), 403, "forbidden")       # no longer theirs
    assert client.post(f"{BASE}/{world['own']}/acknowledge", headers=other).json()["status"] == "in_progress"


# --- keys, the CLI, the gateway -------------------------------------------------------------------

def test_keys_are_kept_hashed_and_refused_when_they_make_no_sense(app):
    with app.sessions.begin() as s:
        key, secret = create_key(s, department="quality", owner=None, is_admin=False,
                                 departments=app.policy.departments, now=T0)
        assert secret.startswith("cfk_") and len(secret) == 47 and key.key_prefix == secret[:8]
        assert secret not in (key.key_hash, key.owner) and len(key.key_hash) == 64 and key.owner == "quality"
        for kwargs in ({"department": "nowhere", "is_admin": False}, {"department": None, "is_admin": False},
                       {"department": "quality", "is_admin": True}):
            with pytest.raises(KeyRefused):
                create_key(s, owner="x", departments=app.policy.departments, now=T0, **kwargs)
        with pytest.raises(KeyRefused):
            revoke_key(s, 999, T0)


def test_the_keys_commands_make_a_key_that_works_once_and_revoke_it(app, client, embedded_settings):
    env = {"CLAIMFLOW_DATABASE_URL": embedded_settings.database_url, "CLAIMFLOW_BROKER_URL": "",
           "CLAIMFLOW_LOG_LEVEL": "WARNING"}
    import json
    made = CliRunner().invoke(keys_cli, ["create", "--admin", "--owner", "Мария Петрова"], env=env)
    assert made.exit_code == 0, made.output
    record = json.loads(made.stdout)
    assert record["is_admin"] and record["owner"] == "Мария Петрова" and "cannot be shown again" in made.stderr
    assert client.get(BASE, headers=bearer(record["key"])).status_code == 200
    listed = CliRunner().invoke(keys_cli, ["list"], env=env).stdout
    assert record["key"] not in listed and record["key_prefix"] in listed
    revoked = CliRunner().invoke(keys_cli, ["revoke", str(record["id"])], env=env)
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"]
    error(client.get(BASE, headers=bearer(record["key"])), 401, "unauthorized")
    assert CliRunner().invoke(keys_cli, ["revoke", "999"], env=env).exit_code == 1
    refused = CliRunner().invoke(keys_cli, ["create", "nowhere"], env=env)
    assert refused.exit_code == 2 and "not a department" in refused.stderr
    with app.sessions() as s:
        assert s.scalars(select(ApiKey.owner).where(ApiKey.id == record["id"])).one() == "Мария Петрова"


def test_mounted_on_the_gateway_it_answers_503_when_the_database_is_gone(app, world, tmp_path):
    api = create_app(app)                     # the gateway mounts the departments' router itself
    with TestClient(api) as client:
        assert client.get(f"{BASE}/{world['own']}", headers=as_(world, "own")).status_code == 200
        doc = client.get("/openapi.json").json()
        assert {"401", "403", "404", "409", "422", "503"} <= set(doc["paths"][f"{BASE}/{{number}}/decision"]["post"]
                                                                 ["responses"])
        assert "HTTPValidationError" not in str(doc)
        app.engine.dispose()
        app.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
        app.sessions = make_sessionmaker(app.engine)
        answer = error(client.post(f"{BASE}/{world['own']}/acknowledge", headers=as_(world, "own")), 503,
                       "unavailable")
        assert answer and client.get("/healthz").status_code == 200
