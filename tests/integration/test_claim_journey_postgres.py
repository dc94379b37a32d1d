"""Issue 6's whole way on real PostgreSQL and a real SMTP server: a claim from the web form to the
archive. The customer receives exactly the expected messages, in order (read back from the SMTP
server); the department's lead and the head of claims get the escalations when the first response
is missed; the survey answer is recorded; the closing report exists and is served; and the claim is
archived, read-only, and still exported."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from notify_worker.worker import NotifyWorker
from services.closing.closing import closing_sweep, survey_link
from services.export import export_claims
from services.gateway.app import create_app
from services.stages import declare_actors, intake_step, routing_step
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, ClaimHistory, ClaimReport
from shared.settings import Settings
from sla_worker.worker import sweep_once

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)        # Monday, 12:00 in Moscow


@pytest.fixture
def app(migrated_pg_url, names, tmp_path, mailbox):
    policy = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
    policy["notifications"]["departments"] = {"quality": {"lead": {"email": ["quality-lead@shop.test"]}}}
    policy["notifications"]["head_of_claims"] = {"email": ["head@shop.test"]}
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    settings = Settings(database_url=migrated_pg_url, broker_url=None, log_level="WARNING",
                        department_queue_url=f"sqla+sqlite:///{tmp_path / 'queues.db'}", blob_dir=tmp_path / "blobs",
                        policy_file=policy_file, smtp_host="127.0.0.1", smtp_port=mailbox.port,
                        smtp_from="claims@shop.test", survey_secret="journey-secret",
                        public_url="https://claims.shop.test", **names)
    app = bootstrap(settings, clock=FrozenClock(T0), configure_logs=False)
    declare_actors(app)
    yield app
    app.close()


def deliver(app) -> None:
    NotifyWorker(app, threads=1).drain()


def test_a_web_claim_goes_from_the_form_to_the_archive(app, mailbox):
    gateway = TestClient(create_app(app))
    form = {"name": "Анна Петрова", "email": "anna@example.ru", "order_number": "ORD-4815162",
            "description": "Чайник протекает из-под крышки и не выключается сам, брак.",
            "desired_resolution": "refund"}
    assert gateway.post("/v1/forms/claim", json=form, headers={"Idempotency-Key": "form-1"}).status_code == 202
    while intake_step(app) + routing_step(app):
        pass
    with app.sessions() as s:
        claim = s.scalars(select(Claim)).one()
    number = claim.claim_number
    assert (claim.status, claim.department) == ("routed", "quality")
    deliver(app)
    [registered] = mailbox.to("anna@example.ru")
    assert number in registered["Subject"]

    # nobody answers: the first response is missed; the lead is told, then the head of claims
    for moment in (claim.first_response_due + timedelta(minutes=1), claim.first_response_due + timedelta(hours=25)):
        app.clock.at = moment
        sweep_once(app)
    deliver(app)
    lead = [m["Subject"] for m in mailbox.to("quality-lead@shop.test")]
    assert len(lead) == 3 and all(number in s for s in lead)        # new claim, 80 % warning, level 1
    assert len(mailbox.to("head@shop.test")) == 1                      # level 2

    # the department takes it, decides and carries the refund out, with evidence
    key = create_admin_key(app)
    auth = {"Authorization": f"Bearer {key}"}
    for path, body in (("acknowledge", None),
                       ("decision", {"resolution": "refund", "amount": "2490.00", "currency": "RUB"}),
                       ("executed", {"evidence": {"refund_transaction": "TX-42"}})):
        app.clock.advance(hours=2)
        assert gateway.post(f"/v1/department/claims/{number}/{path}", json=body, headers=auth).status_code == 200
    deliver(app)

    # the customer answers the survey from the link in the last message
    with app.sessions() as s:
        link = survey_link(app, s, s.scalars(select(Claim)).one(), app.clock.now())
    executed_mail = mailbox.to("anna@example.ru")[-1].get_body(("plain",)).get_content()
    assert link in executed_mail
    token = link.rsplit("/", 1)[1]
    answered = gateway.post(f"/v1/survey/{token}", json={"score": 5, "comment": "Быстро вернули деньги"})
    assert answered.status_code == 200, answered.text
    deliver(app)
    subjects = [m["Subject"] for m in mailbox.to("anna@example.ru")]
    assert len(subjects) == 4 and all(number in s for s in subjects)    # registered, decided, executed, closed
    assert "/v1/survey/" in mailbox.to("anna@example.ru")[2].get_body(("plain",)).get_content()

    with app.sessions() as s:
        closed = s.scalars(select(Claim)).one()
        answer = s.scalars(select(ClaimHistory).where(ClaimHistory.claim_id == closed.id)
                           .order_by(ClaimHistory.id.desc())).first()
        [report] = s.scalars(select(ClaimReport)).all()
    assert closed.status == "closed" and closed.closed_at is not None and closed.next_sla_at is None
    assert "Быстро вернули деньги" in str(answer.data) or "Быстро вернули деньги" in report.html
    assert "TX-42" in report.html and number in report.html
    served = gateway.get(f"/v1/department/claims/{number}/report", headers=auth)
    assert served.status_code == 200 and "TX-42" in served.text

    # past the retention period: archived, read-only, still exported
    app.clock.advance(days=400)
    closing_sweep(app)
    with app.sessions() as s:
        assert s.scalars(select(Claim.status)).one() == "archived"
    refused = gateway.post(f"/v1/department/claims/{number}/acknowledge", headers=auth)
    assert refused.status_code == 409
    assert [c["claim_number"] for c in export_claims(app)] == [number]
    deliver(app)
    assert len(mailbox.to("anna@example.ru")) == 4                      # nothing more told


def create_admin_key(app) -> str:
    from services.departments.keys import create_key
    with app.sessions.begin() as s:
        _, secret = create_key(s, department=None, owner="crm", is_admin=True, departments=app.policy.departments,
                               now=app.clock.now())
    return secret
