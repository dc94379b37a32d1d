"""A department's changes tell the customer: asking for information, a decision, the remedy carried
out — each written with the change and delivered by the notify worker to a real SMTP server."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from notify_worker.worker import NotifyWorker
from services.departments.api import router
from services.gateway.errors import install_error_handlers
from shared.db.models import Claim, Notification
from tests.helpers import department_world, routed_claims_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BASE = "/v1/department/claims"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(embedded_settings, mailbox):
    app = routed_claims_app(embedded_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port,
                                                                 "smtp_from": "claims@shop.test",
                                                                 "survey_secret": "s3cret-for-tests"}), T0)
    yield app
    app.close()


def test_information_request_decision_and_execution_reach_the_customer_once_each(app, mailbox):
    world = department_world(app, T0)
    api = FastAPI()
    api.state.claimflow = app
    install_error_handlers(api)
    api.include_router(router)
    number, key = world["own"], {"Authorization": f"Bearer {world['keys']['own']}"}
    with TestClient(api) as client:
        for path, body in (("acknowledge", None), ("request-information", {"question": "Пришлите фото чека"}),
                           ("customer-replied", None),
                           ("decision", {"resolution": "refund", "amount": "1499.90", "currency": "RUB"}),
                           ("executed", {"evidence": {"refund_id": "R-77"}})):
            assert client.post(f"{BASE}/{number}/{path}", json=body, headers=key).status_code == 200
        refused = client.post(f"{BASE}/{number}/executed", json={"evidence": "again"}, headers=key)
        assert refused.status_code == 409                     # no change, no notice
    with app.sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.claim_number == number))
        kinds = s.scalars(select(Notification.kind).where(Notification.claim_id == claim.id,
                                                          Notification.recipient == "customer")
                          .order_by(Notification.id)).all()
    assert kinds == ["registered", "information_requested", "decided", "executed"]    # registered: routing's

    NotifyWorker(app, threads=1).drain()
    mine = [(to, m) for to, m in mailbox.received if m["X-Claimflow-Claim"] == number]
    assert [to for to, _ in mine] == [[claim.customer_email]] * 4
    bodies = [m.get_body(("plain",)).get_content() for _, m in mine]
    assert all(number in m["Subject"] for _, m in mine)
    assert "Пришлите фото чека" in bodies[1]
    assert "1\u00a0499,90\u00a0₽" in bodies[2]
    # the remedy carried out: the customer is asked how it went, with a signed survey link
    assert "/v1/survey/" in bodies[3] and "/v1/survey/" not in bodies[2]
    assert NotifyWorker(app, threads=1).drain() == 0 and len(mailbox.received) == 6 + 3    # six claims registered
