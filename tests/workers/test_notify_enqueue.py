"""Writing notices with the change that causes them: who gets which, by which channel, in which
language, and the same notice written twice is one row (SQLite here; PostgreSQL in the kill test)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notify_worker.audience import customer_route, language_of, staff_roles
from notify_worker.enqueue import notify_customer, notify_routed, notify_staff
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from shared.db.models import Claim, Notification

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def claim(**values) -> dict:
    return {"claim_number": "RK-2026-000007", "channel": "web", "language": "ru", "department": "logistics",
            "customer_email": "ivan@customer.test", "customer_phone": "+79001234567", "received_at": T0,
            "decision_due": T0 + timedelta(days=7), **values}


def all_rows(sessions) -> list[Notification]:
    with sessions() as s:
        return s.scalars(select(Notification).order_by(Notification.id)).all()


@pytest.mark.parametrize("values, route", [
    ({"channel": "email"}, ("email", "ivan@customer.test")),
    ({"channel": "phone"}, ("sms", "+79001234567")),
    ({"channel": "web"}, ("email", "ivan@customer.test")),
    ({"channel": "marketplace", "customer_email": None}, ("sms", "+79001234567")),
    ({"channel": "phone", "customer_phone": None}, ("email", "ivan@customer.test")),
    ({"customer_email": None, "customer_phone": None}, None)])
def test_the_customer_is_written_to_by_the_channel_they_used_else_by_what_is_on_file(values, route):
    assert customer_route(claim(**values)) == route


@pytest.mark.parametrize("values, language", [
    ({"language": "en"}, "en"), ({"language": "ru-RU"}, "ru"),
    ({"language": None, "description": "Чайник не включается"}, "ru"),
    ({"language": None, "description": "The kettle will not switch on"}, "en")])
def test_the_notice_is_in_the_claims_language(values, language):
    assert language_of(claim(**values)) == language


@pytest.mark.parametrize("kind, level, roles", [
    ("new_claim", None, ("department_queue", "department_lead")),
    ("sla_warning", None, ("department_queue", "department_lead")),
    ("escalation", "warning", ("department_queue", "department_lead")),
    ("escalation", 1, ("department_lead",)), ("escalation", 2, ("head_of_claims",)),
    ("escalation", "3", ("management",))])
def test_staff_are_told_as_the_ladder_of_policy_md_says(kind, level, roles):
    assert staff_roles(kind, level) == roles


def test_an_e_mail_claims_notice_keeps_its_thread_and_the_claims_facts(sessions):
    with sessions.begin() as s:
        notify_customer(s, claim(channel="email", subject="Где посылка?",
                                 details={"channel_ids": {"message_id": "m-1@mail.test"}}), "registered", T0)
    [row] = all_rows(sessions)
    assert (row.recipient, row.channel, row.address, row.language) == ("customer", "email", "ivan@customer.test", "ru")
    assert row.context["thread"] == {"in_reply_to": "m-1@mail.test", "subject": "Где посылка?"}
    assert row.context["claim"]["decision_due"] == (T0 + timedelta(days=7)).isoformat()
    assert (row.status, row.next_attempt_at) == ("pending", T0)


def test_the_same_notice_twice_is_one_row_and_another_decision_is_another(sessions):
    for discriminator in (11, 11, 12):
        with sessions.begin() as s:
            notify_customer(s, claim(), "decided", T0, {"resolution": "refund", "discriminator": discriminator})
    with sessions.begin() as s:
        first = notify_staff(s, claim(), "escalation", T0, context={"target": "decision", "level": 2})
    with sessions.begin() as s:
        again = notify_staff(s, claim(), "escalation", T0, context={"target": "decision", "level": 2})
        other = notify_staff(s, claim(), "escalation", T0, context={"target": "closure", "level": 2})
    assert first == again != other
    keys = [r.idempotency_key for r in all_rows(sessions)]
    assert keys == ["RK-2026-000007/decided/11", "RK-2026-000007/decided/12",
                    "RK-2026-000007/escalation/decision/2/head_of_claims",
                    "RK-2026-000007/escalation/closure/2/head_of_claims"]


def test_a_routing_batch_writes_each_claims_notices_once(sessions):
    claims = [claim(claim_number=f"RK-2026-00010{i}") for i in range(3)] + \
             [claim(claim_number="RK-2026-000199", customer_email=None, customer_phone=None)]
    for _ in range(2):
        with sessions.begin() as s:
            notify_routed(s, claims, T0)
    rows = all_rows(sessions)
    assert len(rows) == 3 * 3 + 2          # customer, queue and lead; no contact: staff only
    assert {r.recipient for r in rows if r.claim_number == "RK-2026-000199"} == {"department_queue",
                                                                                   "department_lead"}


def test_a_claim_row_of_the_session_is_written_first_and_linked(sessions):
    with sessions.begin() as s:
        row = Claim(claim_number="RK-2026-000300", status="routed", channel="web", description="x",
                    customer_email="a@customer.test", language="en", details={}, received_at=T0,
                    registered_at=T0, updated_at=T0)
        s.add(row)
        notice = notify_customer(s, row, "registered", T0)
    with sessions() as s:
        assert s.get(Notification, notice).claim_id == row.id


def test_unknown_kinds_roles_and_levels_are_refused(sessions):
    with sessions.begin() as s:
        with pytest.raises(ValueError, match="unknown customer notice"):
            notify_customer(s, claim(), "birthday", T0)
        with pytest.raises(ValueError, match="not on the ladder"):
            notify_staff(s, claim(), "escalation", T0, context={"level": 4})
        with pytest.raises(ValueError, match="unknown staff role"):
            notify_staff(s, claim(), "new_claim", T0, audience=["janitor"])
        with pytest.raises(ValueError, match="unknown staff notice"):
            notify_staff(s, claim(), "registered", T0, audience=["management"])
