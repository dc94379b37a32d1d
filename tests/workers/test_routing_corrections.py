"""Reroutes teach routing: the category a department corrected comes out of `claimflow routing
corrections` as a labelled row, and `claimflow routing train` learns from it beside a base set."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from services.cli import main
from services.departments import transitions as t
from services.departments.keys import Principal
from services.departments.service import change_claim
from tests.helpers import routed_claims_app

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
OPERATOR = Principal(key_id=0, owner="cli:test", department=None, is_admin=True)


@pytest.fixture
def app(embedded_settings):
    app = routed_claims_app(embedded_settings, T0)
    yield app
    app.close()


def _cli(app, *args, **env):
    runner = CliRunner()
    return runner.invoke(main, list(args), env={"CLAIMFLOW_DATABASE_URL": app.settings.database_url,
                                                "CLAIMFLOW_BLOB_DIR": str(app.settings.blob_dir),
                                                "CLAIMFLOW_LOG_LEVEL": "WARNING", **env},
                         catch_exceptions=False)


def _claims(app):
    from sqlalchemy import select

    from shared.db.models import Claim
    with app.sessions() as s:
        return s.scalars(select(Claim).order_by(Claim.id)).all()


def test_a_reroute_takes_the_new_departments_category_and_becomes_a_training_row(app):
    first = _claims(app)[0]
    target = next(d for d in app.policy.departments
                  if d not in (first.department, app.policy.triage_department)
                  and sum(c.department == d for c in app.policy.categories.values()) == 1)
    expected = next(n for n, c in app.policy.categories.items() if c.department == target)
    answer = _cli(app, "claims", "reroute", first.claim_number, target, "--reason", "это не наше")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["category"] == expected

    untouched = _claims(app)[1]      # a reroute that names the category it already has teaches nothing
    change_claim(app, OPERATOR, untouched.claim_number, lambda c: t.reroute(
        c, next(d for d in app.policy.departments if d != c.department), "на проверку", app.policy, c.category))

    rows = [json.loads(line) for line in _cli(app, "routing", "corrections").output.splitlines()]
    assert [(r["claim_number"], r["was"], r["category"]) for r in rows] == [
        (first.claim_number, first.category, expected)]
    assert rows[0]["text"] and first.description in rows[0]["text"] and rows[0]["reason"] == "это не наше"


def test_a_person_sending_a_triage_claim_on_teaches_routing_its_category(app):
    from shared.db.models import Claim
    waiting = _claims(app)[2]
    with app.sessions.begin() as s:          # as routing leaves a claim it could not read: no category
        claim = s.get(Claim, waiting.id)
        claim.department, claim.category = app.policy.triage_department, None
    answer = _cli(app, "claims", "reroute", waiting.claim_number, "logistics", "--reason", "посылка потерялась",
                  "--category", "delivery_delay")
    assert answer.exit_code == 0, answer.output
    rows = [json.loads(line) for line in _cli(app, "routing", "corrections").output.splitlines()]
    assert [(r["claim_number"], r["was"], r["category"]) for r in rows] == [
        (waiting.claim_number, None, "delivery_delay")]


def test_an_unknown_category_is_refused_and_changes_nothing(app):
    first = _claims(app)[0]
    other = next(d for d in app.policy.departments if d != first.department)
    with pytest.raises(t.InvalidRequest, match="not a category"):
        change_claim(app, OPERATOR, first.claim_number, lambda c: t.reroute(c, other, "r", app.policy, "nonsense"))
    assert (_claims(app)[0].department, _claims(app)[0].category) == (first.department, first.category)


def test_training_reads_a_base_file_and_the_corrections_together(app, tmp_path):
    base = tmp_path / "base.jsonl"
    texts = {name: [f"{name} образец {i} " + " ".join(" ".join(k.words) for k in c.keywords[:3])
                    for i in range(4)] for name, c in app.policy.categories.items()}
    base.write_text("\n".join(json.dumps({"text": x, "category": n}, ensure_ascii=False)
                              for n, xs in texts.items() for x in xs), encoding="utf-8")
    fixes = tmp_path / "corrections.jsonl"
    fixes.write_text(json.dumps({"text": "утюг выплёвывает ржавую воду", "category": "defect", "was": "service"},
                                ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "model.joblib"
    answer = _cli(app, "routing", "train", str(base), str(fixes), "--out", str(out), "--folds", "2")
    assert answer.exit_code == 0, answer.output
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["trained_from"] == "base.jsonl, corrections.jsonl"
    assert info["rows_per_category"]["defect"] == 5
