"""`claimflow quarantine retry ID`: after a fix, a quarantined event runs again; what is still
bad stays in quarantine with today's reason; nothing is lost or doubled."""
from __future__ import annotations

import json

from click.testing import CliRunner

from intake_worker.channels import NORMALISERS
from services.cli import main
from services.synthetic import web_events
from shared.schema import Channel

BAD_TIME = ('{"event_id": "late-1", "channel": "web", "source": "site", "received_at": "вчера", '
            '"payload": {"email": "a@example.ru", "description": "Сломался"}}')


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_retry_after_a_fix_registers_the_event_and_keeps_the_still_bad_one(tmp_path, names, monkeypatch):
    env = {"CLAIMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}", "CLAIMFLOW_BROKER_URL": "",
           "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_BLOB_DIR": str(tmp_path / "blobs"),
           "CLAIMFLOW_DEPARTMENT_EXCHANGE": names["department_exchange"]}
    events = tmp_path / "events.jsonl"
    good = web_events(2, seed=51)
    events.write_text("\n".join(good + [BAD_TIME]) + "\n", encoding="utf-8")
    web = NORMALISERS.pop(Channel.WEB)                 # a build that cannot read web forms
    try:
        assert json.loads(run(["replay", str(events)], env).stdout.splitlines()[-1])["quarantined"] == 3
    finally:
        NORMALISERS[Channel.WEB] = web                 # the fix
    records = [json.loads(line) for line in run(["quarantine", "list"], env).stdout.splitlines()]
    ids = {r["event_id"]: r["id"] for r in records}
    assert {r["reason"] for r in records} == {"unsupported_channel", "bad_timestamp"}

    done = run(["quarantine", "retry", *map(str, ids.values())], env)
    outcomes = {json.loads(line)["event_id"]: json.loads(line)["outcome"] for line in done.stdout.splitlines()}
    assert outcomes == {json.loads(good[0])["event_id"]: "pending", json.loads(good[1])["event_id"]: "pending",
                        "late-1": "quarantined"}
    claims = [json.loads(line) for line in run(["claims", "export"], env).stdout.splitlines()]
    assert sorted(e for c in claims for e in c["source_event_ids"]) == sorted(json.loads(g)["event_id"] for g in good)
    assert all(c["status"] == "routed" for c in claims)
    left = [json.loads(line) for line in run(["quarantine", "list"], env).stdout.splitlines()]
    assert [(r["event_id"], r["reason"]) for r in left] == [("late-1", "bad_timestamp")]


def test_retrying_an_unknown_id_says_so(tmp_path):
    env = {"CLAIMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}", "CLAIMFLOW_BROKER_URL": ""}
    done = run(["quarantine", "retry", "42"], env)
    assert done.exit_code == 1 and json.loads(done.stdout)["outcome"] == "not_found"
