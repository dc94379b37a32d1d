"""The `claimflow` command line, as ../shared/contracts/cli.md fixes it for scripts and other teams."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from services.cli import main
from services.synthetic import web_events

EXPORT_KEYS = {"claim_number", "status", "category", "department", "priority", "channels", "source_event_ids",
               "customer", "order_ref", "desired_resolution", "received_at", "deadlines", "escalation_level"}


@pytest.fixture
def env(tmp_path, names):
    return {"CLAIMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CLAIMFLOW_BROKER_URL": "",
            "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_DEPARTMENT_EXCHANGE": names["department_exchange"]}


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_replay_export_and_quarantine_list_speak_the_contract(tmp_path, env):
    events = tmp_path / "events.jsonl"
    lines = web_events(12, seed=31)
    events.write_text("\n".join(lines + [lines[0], "not json at all", ""]) + "\n", encoding="utf-8")

    replay = run(["replay", str(events)], env)
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout.strip().splitlines()[-1]) == {
        "events": 14, "claims": 12, "merged": 0, "redeliveries": 1, "quarantined": 1, "ignored": 0}

    exported = [json.loads(line) for line in run(["claims", "export"], env).stdout.splitlines()]
    assert len(exported) == 12 and all(set(c) == EXPORT_KEYS for c in exported)
    assert all(set(c["customer"]) == {"name", "email", "phone"} for c in exported)
    assert all(set(c["deadlines"]) == {"first_response", "decision", "closure"} for c in exported)
    [record] = [json.loads(line) for line in run(["quarantine", "list"], env).stdout.splitlines()]
    assert {"event_id", "source", "reason", "message"} <= set(record) and record["reason"] == "not_json"


def test_db_upgrade_prepares_an_empty_database(env):
    done = run(["db", "upgrade"], env)
    assert done.exit_code == 0 and "up to date" in done.stderr
    assert run(["claims", "export"], env).stdout == ""


def test_a_missing_file_is_a_clear_error(env, tmp_path):
    done = run(["replay", str(tmp_path / "nope.jsonl")], env)
    assert done.exit_code == 2 and "does not exist" in done.stderr


@pytest.mark.parametrize("name", ["intake", "routing"])
def test_a_separate_worker_without_a_broker_explains_itself(env, name):
    done = run(["worker", name], env)
    assert done.exit_code == 2 and "CLAIMFLOW_BROKER_URL" in done.stderr


def test_an_unknown_worker_is_refused_with_the_names_of_the_real_ones(env):
    done = run(["worker", "billing"], env)
    assert done.exit_code == 2
    assert all(name in done.stderr for name in ("intake", "routing", "sla", "notify", "department-updates"))


def test_routing_explain_names_the_evidence_and_the_runner_up(env):
    done = run(["routing", "explain", "Прислали другой цвет, а с карты списали дважды"], env)
    answer = json.loads(done.stdout)
    assert (answer["category"], answer["department"]) == ("wrong_item", "warehouse")
    assert "keyword:другой цвет" in answer["evidence"]
    assert list(answer["candidates"]) == ["wrong_item", "billing"]


def test_claims_reroute_moves_a_claim_and_refuses_what_makes_no_sense(tmp_path, env):
    events = tmp_path / "one.jsonl"
    events.write_text(web_events(1, seed=33)[0] + "\n", encoding="utf-8")
    run(["replay", str(events)], env)
    [claim] = [json.loads(line) for line in run(["claims", "export"], env).stdout.splitlines()]
    target = "finance" if claim["department"] != "finance" else "sales"

    moved = run(["claims", "reroute", claim["claim_number"], target, "--reason", "a billing question"], env)
    assert moved.exit_code == 0 and json.loads(moved.stdout)["department"] == target
    [after] = [json.loads(line) for line in run(["claims", "export"], env).stdout.splitlines()]
    assert after["department"] == target
    again = run(["claims", "reroute", claim["claim_number"], target, "--reason", "again"], env)
    assert again.exit_code == 1 and "already with" in again.stderr
    unknown = run(["claims", "reroute", claim["claim_number"], "marketing", "--reason", "x"], env)
    assert unknown.exit_code == 1 and "not a department" in unknown.stderr
