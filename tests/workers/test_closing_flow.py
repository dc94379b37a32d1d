"""Tier 2: closing a claim on the embedded default — the survey link answered through the gateway,
a low score reopening, silence closing as "no response", a reply taken as the answer, no closing
without the remedy's evidence (but for a rejection), and the archive: read-only, still exported.
The helpers at the top are shared with the report and PostgreSQL tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from services.closing.closing import closing_sweep, record_survey_answer, survey_link
from services.closing.satisfaction import Refused
from services.departments import transitions as t
from services.departments.keys import Principal, create_key
from services.departments.service import change_claim
from services.gateway.app import create_app
from shared.db.models import Claim, ClaimExecution, ClaimHistory, ClaimReport, Notification, OutboxMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
SECRET = "survey-secret-of-the-tests"
OPERATOR = Principal(key_id=0, owner="quality-lead", department=None, is_admin=True)
EVIDENCE = {"refund_transaction_id": "TX-2026-0042"}


# --- helpers (also used by test_closing_report and test_closing_postgres) -----------------------

def closing_settings(settings):
    return settings.model_copy(update={"survey_secret": SECRET, "public_url": "https://claims.example.ru"})


def first_claims(app, count: int = 1) -> list[str]:
    with app.sessions() as s:
        return list(s.scalars(select(Claim.claim_number).order_by(Claim.id).limit(count)))


def settle(app, number: str, *, reject: bool = False, evidence=EVIDENCE) -> None:
    """Take the claim through the departments' steps to executed (with evidence) or rejected."""
    app.clock.advance(hours=3)
    change_claim(app, OPERATOR, number, lambda c: t.acknowledge(c.status))
    app.clock.advance(days=2)
    decision = (t.decision_of("rejected", None, None, "the warranty ran out") if reject
                else t.decision_of("refund", Decimal("2490"), "RUB", "a faulty kettle: the money back"))
    change_claim(app, OPERATOR, number, lambda c: t.decide(c.status, decision))
    if not reject:
        app.clock.advance(days=1)
        change_claim(app, OPERATOR, number, lambda c: t.execute(c.status, evidence, "refunded to the card"))


def token_of(app, number: str) -> str:
    with app.sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.claim_number == number))
        url = survey_link(app, s, claim, app.clock.now())
    assert url.startswith("https://claims.example.ru/v1/survey/")
    return url.rsplit("/", 1)[1]


def status_of(app, number: str) -> str:
    with app.sessions() as s:
        return s.scalar(select(Claim.status).where(Claim.claim_number == number))


def history(app, number: str) -> list[ClaimHistory]:
    with app.sessions() as s:
        claim_id = s.scalar(select(Claim.id).where(Claim.claim_number == number))
        rows = s.scalars(select(ClaimHistory).where(ClaimHistory.claim_id == claim_id).order_by(ClaimHistory.id))
        return list(rows)


def notices(app, number: str) -> list[tuple[str, dict]]:
    """The customer's notices of closing and reopening (the departments' steps write others)."""
    with app.sessions() as s:
        return [(n.kind, n.context) for n in s.scalars(select(Notification).where(
            Notification.claim_number == number, Notification.kind.in_(["closed", "reopened"]))
            .order_by(Notification.id))]


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def app(embedded_settings):
    from tests.helpers import routed_claims_app
    app = routed_claims_app(closing_settings(embedded_settings), T0)
    yield app
    app.close()


@pytest.fixture
def gateway(app):
    with TestClient(create_app(app)) as client:
        yield client


@pytest.fixture
def executed(app) -> str:
    [number] = first_claims(app)
    settle(app, number)
    return number


# --- the survey through the gateway -------------------------------------------------------------

def test_the_survey_form_is_a_page_with_five_scores(app, gateway, executed):
    page = gateway.get(f"/v1/survey/{token_of(app, executed)}", headers={"Accept-Language": "ru"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert executed in page.text and page.text.count('name="score"') == 5 and 'name="comment"' in page.text


def test_a_good_score_closes_the_claim_with_the_answer_in_its_history(app, gateway, executed):
    app.clock.advance(days=1)
    answer = gateway.post(f"/v1/survey/{token_of(app, executed)}", json={"score": 5, "comment": "Деньги вернули"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"claim_number": executed, "status": "closed", "actions": ["closed"]}
    last = history(app, executed)[-1]
    assert (last.actor, last.action, last.from_status, last.to_status) == ("customer:survey", "closed", "executed",
                                                                            "closed")
    assert last.data["answer"] == {"score": 5, "comment": "Деньги вернули", "via": "survey"}
    [(kind, context)] = notices(app, executed)
    assert kind == "closed" and context["survey_url"].startswith("https://claims.example.ru/v1/survey/")


def test_the_form_post_of_a_browser_gets_a_thank_you_page(app, gateway, executed):
    answer = gateway.post(f"/v1/survey/{token_of(app, executed)}", data={"score": "4", "comment": ""},
                          headers={"Accept-Language": "en"})
    assert answer.status_code == 200 and "Thank you" in answer.text
    assert status_of(app, executed) == "closed"


def test_a_low_score_reopens_the_claim_and_sends_it_back_to_its_department(app, gateway, executed):
    answer = gateway.post(f"/v1/survey/{token_of(app, executed)}", json={"score": 1, "comment": "снова течёт"})
    assert answer.json()["status"] == "reopened" and answer.json()["actions"] == ["closed", "reopened"]
    assert [h.action for h in history(app, executed)][-2:] == ["closed", "reopened"]
    assert [k for k, _ in notices(app, executed)] == ["reopened"]
    with app.sessions() as s:
        message = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.payload["claim_number"] == executed and message.payload["status"] == "reopened"
    acknowledged = change_claim(app, OPERATOR, executed, lambda c: t.acknowledge(c.status))
    assert acknowledged["status"] == "in_progress"


def test_a_link_from_before_a_reopening_no_longer_answers(app, gateway, executed):
    old = token_of(app, executed)
    gateway.post(f"/v1/survey/{old}", json={"score": 2})
    settle_again = change_claim(app, OPERATOR, executed, lambda c: t.acknowledge(c.status))
    assert settle_again["status"] == "in_progress"
    stale = gateway.post(f"/v1/survey/{old}", json={"score": 5})
    assert stale.status_code == 410 and stale.json()["error"] == "stale"


def test_tampered_expired_and_invalid_answers_are_refused(app, gateway, executed):
    token = token_of(app, executed)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    assert gateway.post(f"/v1/survey/{tampered}", json={"score": 5}).json()["error"] == "not_found"
    assert gateway.get(f"/v1/survey/{tampered}").status_code == 404
    bad = gateway.post(f"/v1/survey/{token}", json={"score": 9})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
    assert gateway.post(f"/v1/survey/{token}", content=b"{", headers={"Content-Type": "application/json"}
                        ).status_code == 400
    app.clock.advance(days=14 + 30 + 1)
    expired = gateway.post(f"/v1/survey/{token}", json={"score": 5})
    assert expired.status_code == 410 and expired.json()["error"] == "expired"
    assert gateway.get(f"/v1/survey/{token}").status_code == 410
    assert status_of(app, executed) == "executed"


def test_an_answer_after_closing_within_the_window_may_reopen(app, executed):
    token = token_of(app, executed)
    record_survey_answer(app, token, 4, None, app.clock.now())
    app.clock.advance(days=10)
    outcome = record_survey_answer(app, token, 2, "передумал: снова сломался", app.clock.now())
    assert (outcome.status, outcome.actions) == ("reopened", ["reopened"])


# --- silence, replies, evidence -----------------------------------------------------------------

def test_no_answer_within_the_answer_time_closes_as_no_response(app, executed, monkeypatch, embedded_settings):
    from services.cli import main
    monkeypatch.setenv("CLAIMFLOW_DATABASE_URL", embedded_settings.database_url)
    monkeypatch.setenv("CLAIMFLOW_SURVEY_SECRET", SECRET)
    monkeypatch.setenv("CLAIMFLOW_BLOB_DIR", str(embedded_settings.blob_dir))
    early = (app.clock.now() + timedelta(days=13)).isoformat()
    result = CliRunner().invoke(main, ["claims", "close-unanswered", "--now", early])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == '{"closed": 0, "reopened": 0, "claims": {}}'
    late = (app.clock.now() + timedelta(days=14, minutes=1)).isoformat()
    result = CliRunner().invoke(main, ["claims", "close-unanswered", "--now", late])
    assert result.exit_code == 0, result.output
    assert f'"claims": {{"{executed}": "closed"}}' in result.stdout
    last = history(app, executed)[-1]
    assert (last.actor, last.action, last.data) == ("closing", "closed", {"outcome": "no_response"})
    assert "no response" in last.reason


def test_a_reply_merged_into_the_claim_is_its_answer(app, executed):
    from services.replay import ReplayReport, accept
    from services.stages import intake_step
    with app.sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.claim_number == executed))
        email, order = claim.customer_email, claim.order_ref
    app.clock.advance(days=1)
    reply = {"event_id": "reply-1", "channel": "web", "source": "site", "received_at": app.clock.now().isoformat(),
             "payload": {"email": email, "order_number": order, "description": "Оценка 2: чайник снова течёт"}}
    import json
    accept(app, [json.dumps(reply, ensure_ascii=False)], ReplayReport())
    while intake_step(app):
        pass
    app.clock.advance(minutes=5)
    swept = closing_sweep(app)
    assert [(o.claim_number, o.actions) for o in swept["closed"]] == [(executed, ["closed", "reopened"])]
    last = history(app, executed)[-1]
    assert (last.actor, last.action) == ("customer:reply", "reopened")
    assert last.data["answer"]["score"] == 2 and last.data["answer"]["event_id"] == "reply-1"
    assert closing_sweep(app)["closed"] == []          # a reply answers once


def test_an_executed_claim_without_evidence_does_not_close_but_a_rejection_does(app):
    bare, rejected = first_claims(app, 2)
    settle(app, bare)
    settle(app, rejected, reject=True)
    with app.sessions.begin() as s:        # executed with no execution row: what a bad import could leave
        claim_id = s.scalar(select(Claim.id).where(Claim.claim_number == bare))
        s.execute(delete(ClaimExecution).where(ClaimExecution.claim_id == claim_id))
    with pytest.raises(Refused) as refused:
        record_survey_answer(app, token_of(app, bare), 5, None, app.clock.now())
    assert refused.value.code == "no_evidence"
    app.clock.advance(days=15)
    swept = closing_sweep(app)
    assert [o.claim_number for o in swept["closed"]] == [rejected]
    assert status_of(app, bare) == "executed" and status_of(app, rejected) == "closed"


# --- the archive --------------------------------------------------------------------------------

def test_archived_claims_refuse_changes_and_stay_in_the_export(app, gateway, executed):
    from services.export import export_claims
    token = token_of(app, executed)
    record_survey_answer(app, token, 5, None, app.clock.now())
    app.clock.advance(days=364)
    assert closing_sweep(app)["archived"] == []
    app.clock.advance(days=2)
    [archived] = closing_sweep(app)["archived"]
    assert (archived.claim_number, archived.status) == (executed, "archived")
    last = history(app, executed)[-1]
    assert (last.actor, last.action, last.to_status, last.data) == ("closing", "archived", "archived",
                                                                    {"read_only": True})
    with app.sessions.begin() as s:
        _, key = create_key(s, department=None, owner="admin", is_admin=True, departments=app.policy.departments,
                            now=app.clock.now())
    refused = gateway.post(f"/v1/department/claims/{executed}/reroute", json={"department": "sales", "reason": "x"},
                           headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 409 and refused.json()["status"] == "archived" and refused.json()["allowed"] == []
    with pytest.raises(Refused):
        record_survey_answer(app, token_of(app, executed), 1, None, app.clock.now())
    assert [e["status"] for e in export_claims(app) if e["claim_number"] == executed] == ["archived"]
    with app.sessions() as s:
        assert s.scalar(select(ClaimReport.version).join(Claim).where(Claim.claim_number == executed)) == 1
