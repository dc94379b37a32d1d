"""Tier 3: closing on real PostgreSQL — the survey answer recorded with its actor, a low score
reopening, two sweeps at once closing each unanswered claim exactly once (SKIP LOCKED), two answers
at once serialised by the claim's row lock, the report kept as JSONB beside its HTML, the archive
read-only and still exported."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.closing.closing import closing_sweep, record_survey_answer
from services.closing.satisfaction import Refused
from services.departments import transitions as t
from services.departments.service import change_claim
from services.export import export_claims
from shared.db.models import Claim, ClaimHistory, ClaimReport, Notification
from shared.settings import Settings
from tests.workers.test_closing_flow import OPERATOR, T0, closing_settings, first_claims, settle, token_of

pytestmark = [pytest.mark.services, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def app(migrated_pg_url, names, tmp_path):
    from tests.helpers import routed_claims_app
    settings = Settings(database_url=migrated_pg_url, broker_url=None,
                        department_queue_url=f"sqla+sqlite:///{tmp_path / 'queues.db'}", log_level="WARNING",
                        blob_dir=tmp_path / "blobs", **names)
    app = routed_claims_app(closing_settings(settings), T0)
    yield app
    app.close()


def count(app, model, *where) -> int:
    with app.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def actions(app, number) -> list[tuple[str, str]]:
    with app.sessions() as s:
        claim_id = s.scalar(select(Claim.id).where(Claim.claim_number == number))
        return [tuple(r) for r in s.execute(select(ClaimHistory.actor, ClaimHistory.action)
                                            .where(ClaimHistory.claim_id == claim_id).order_by(ClaimHistory.id))]


def test_a_low_score_reopens_and_the_report_is_kept(app):
    [number] = first_claims(app)
    settle(app, number)
    outcome = record_survey_answer(app, token_of(app, number), 1, "не вернули деньги", app.clock.now())
    assert (outcome.status, outcome.actions) == ("reopened", ["closed", "reopened"])
    assert actions(app, number)[-2:] == [("customer:survey", "closed"), ("customer:survey", "reopened")]
    with app.sessions() as s:
        report = s.scalar(select(ClaimReport).join(Claim).where(Claim.claim_number == number))
        by_score = s.scalar(select(func.count()).select_from(ClaimReport)
                            .where(ClaimReport.dossier["answer"]["score"].as_integer() == 1))
    assert report.dossier["answer"]["comment"] == "не вернули деньги" and by_score == 1
    assert count(app, Notification, Notification.claim_number == number, Notification.kind == "reopened") == 1


def test_two_sweeps_at_once_close_each_claim_once(app):
    numbers = first_claims(app, 4)
    for number in numbers:
        settle(app, number)
    app.clock.advance(days=15)
    barrier, results, errors = threading.Barrier(2), [], []

    def sweep():
        try:
            barrier.wait()
            results.append(closing_sweep(app))
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    closed = sorted(o.claim_number for r in results for o in r["closed"])
    assert closed == sorted(numbers)
    for number in numbers:
        assert actions(app, number)[-1] == ("closing", "closed")
        assert count(app, ClaimHistory, ClaimHistory.action == "closed",
                     ClaimHistory.claim_id == select(Claim.id).where(Claim.claim_number == number)
                     .scalar_subquery()) == 1
    assert count(app, ClaimReport) == 4
    assert count(app, Notification, Notification.kind == "closed") == 4


def test_two_answers_at_once_are_serialised(app):
    [number] = first_claims(app)
    settle(app, number)
    token = token_of(app, number)
    barrier, outcomes = threading.Barrier(2), []

    def answer(score):
        barrier.wait()
        outcomes.append(record_survey_answer(app, token, score, None, app.clock.now()))

    threads = [threading.Thread(target=answer, args=(s,)) for s in (4, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(o.actions[0] for o in outcomes) == ["closed", "survey_answered"]
    assert [a for _, a in actions(app, number)].count("closed") == 1


def test_archived_claims_are_read_only_and_exported(app):
    [number] = first_claims(app)
    settle(app, number)
    record_survey_answer(app, token_of(app, number), 5, None, app.clock.now())
    app.clock.advance(days=366)
    assert [o.claim_number for o in closing_sweep(app)["archived"]] == [number]
    with pytest.raises(t.IllegalAction):
        change_claim(app, OPERATOR, number, lambda c: t.acknowledge(c.status))
    with pytest.raises(Refused):
        record_survey_answer(app, token_of(app, number), 1, None, app.clock.now() - timedelta(seconds=1))
    assert {c["claim_number"]: c["status"] for c in export_claims(app)}[number] == "archived"
