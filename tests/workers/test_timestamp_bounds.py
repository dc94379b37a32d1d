"""An event dated in year 9999 or year 0001 is quarantined at the door as bad_timestamp; the
events around it are registered and routed as if it were not there (issue 12: it once stopped
routing for every claim behind it on the embedded default)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from services.cli import main
from services.synthetic import web_events


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_far_future_and_far_past_events_are_quarantined_and_the_rest_are_routed(tmp_path, names):
    env = {"CLAIMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'bounds.db'}", "CLAIMFLOW_BROKER_URL": "",
           "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_DEPARTMENT_EXCHANGE": names["department_exchange"]}
    good = web_events(20, seed=57)
    future, past = (json.loads(line) for line in web_events(2, seed=58))
    future["received_at"], past["received_at"] = "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00+00:00"
    lines = good[:7] + [json.dumps(future, ensure_ascii=False)] + good[7:13] + [json.dumps(past)] + good[13:]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")

    replay = run(["replay", str(events)], env)
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout.strip().splitlines()[-1])["quarantined"] == 2

    quarantined = [json.loads(line) for line in run(["quarantine", "list"], env).stdout.splitlines()]
    assert sorted((q["event_id"], q["reason"]) for q in quarantined) == sorted(
        [(future["event_id"], "bad_timestamp"), (past["event_id"], "bad_timestamp")])
    assert all("now" in q["message"] for q in quarantined)

    claims = [json.loads(line) for line in run(["claims", "export"], env).stdout.splitlines()]
    assert len(claims) == 20
    assert all(c["status"] == "routed" and c["department"] for c in claims)
