"""Notices delivered to real servers the tests start: an SMTP server (aiosmtpd) whose mail is read
back and decoded, and a local HTTP server standing for chat webhooks and the SMS gateway. The
database is the embedded SQLite file; the clock is frozen and moved by hand between tries."""
from __future__ import annotations

import io
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from importlib import resources
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from unittest import mock
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from notify_worker.delivery.smtp import message_id
from notify_worker.enqueue import notify_customer, notify_staff
from notify_worker.sending import Retries, lease
from notify_worker.worker import NotifyWorker
from services.cli import main
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Notification
from shared.observability.logging import configure_logging

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SENDER = "claims@shop.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """A local HTTP server keeping each POST (path, headers, JSON body); answers ``statuses`` first."""

    def __init__(self):
        self.requests, self.statuses = [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status == 200:
                    outer.requests.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def http():
    server = Http()
    yield server
    server.server.shutdown()


def policy_with_recipients(tmp_path, http) -> str:
    doc = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
    doc["notifications"] = {
        "staff_language": "en", "status_url": "https://shop.test/claims/{claim_number}",
        "departments": {"quality": {"queue": {"email": ["quality@shop.test"], "webhook": [f"{http.url}/chat/quality"]},
                                    "lead": {"email": ["quality-lead@shop.test"]}}},
        "head_of_claims": {"email": ["head@shop.test"]},
        "management": {"webhook": [{"url": f"{http.url}/oncall", "headers": {"X-Api-Key": "k1"}}]}}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture
def app(embedded_settings, mailbox, http, tmp_path):
    settings = embedded_settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_from": SENDER,
        "sms_gateway_url": f"{http.url}/sms", "sms_gateway_token": "t0k3n", "notify_max_attempts": 3,
        "notify_backoff_seconds": 60, "notify_lease_seconds": 30, "policy_file": policy_with_recipients(tmp_path, http)})
    app = bootstrap(settings, clock=FrozenClock(T0), configure_logs=False)
    yield app
    app.close()


def drain(app) -> int:
    return NotifyWorker(app, threads=1, draw=lambda: 0.5).drain()


def claim(**values) -> dict:
    base = {"claim_number": "RK-2026-000042", "channel": "email", "language": "ru", "department": "quality",
            "customer_name": "Анна", "customer_email": "anna@customer.test", "customer_phone": "+79123456789",
            "subject": "Чайник течёт", "received_at": T0, "decision_due": T0 + timedelta(days=10),
            "details": {"channel_ids": {"message_id": "orig-1@customer.test"}}}
    return {**base, **values}


def write(app, make):
    with app.sessions.begin() as session:
        return make(session)


def rows(app) -> list[Notification]:
    with app.sessions() as session:
        return session.scalars(select(Notification).order_by(Notification.id)).all()


def cli(app, *args):
    """The command in this process, on the test's frozen clock (the command's own app reads it too)."""
    import shared.bootstrap
    env = {"CLAIMFLOW_DATABASE_URL": app.settings.database_url, "CLAIMFLOW_BROKER_URL": "",
           "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_DEPARTMENT_EXCHANGE": app.settings.department_exchange}
    real = shared.bootstrap.bootstrap

    def on_frozen_clock(settings, **kwargs):
        return real(settings, **{"clock": app.clock, **kwargs})
    with mock.patch.object(shared.bootstrap, "bootstrap", on_frozen_clock):
        return CliRunner().invoke(main, ["notifications", *args], env=env, catch_exceptions=False)


# --- customers ---------------------------------------------------------------------------------------

def test_an_e_mail_claim_is_answered_in_its_thread_in_its_language(app, mailbox):
    write(app, lambda s: notify_customer(s, claim(), "registered", T0))
    assert drain(app) == 1
    [(to, mail)] = mailbox.received
    key = "RK-2026-000042/registered/0"
    assert to == ["anna@customer.test"]
    assert mail["Subject"] == "Re: Чайник течёт [RK-2026-000042]"
    assert mail["In-Reply-To"] == "<orig-1@customer.test>" and mail["References"] == "<orig-1@customer.test>"
    assert mail["Message-ID"] == message_id(key, SENDER) and mail["X-Claimflow-Idempotency-Key"] == key
    body = mail.get_body(("plain",)).get_content()
    assert "Здравствуйте, Анна!" in body and "RK-2026-000042" in body and "«Quality control»" in body
    assert "https://shop.test/claims/RK-2026-000042" in body
    [row] = rows(app)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)


def test_the_same_notice_written_twice_is_sent_once(app, mailbox):
    for _ in range(2):      # a redelivered change writes the same notice again, in its own transaction
        write(app, lambda s: notify_customer(s, claim(channel="web", details={}), "decided", T0,
                                             {"resolution": "refund", "amount": "990", "currency": "RUB",
                                              "discriminator": 7}))
    drain(app)
    [(_, mail)] = mailbox.received
    assert mail["Subject"] == "Рекламация RK-2026-000042: решение" and "In-Reply-To" not in mail
    assert "возврат денег на сумму 990\u00a0₽" in mail.get_body(("plain",)).get_content()


def test_a_phone_claim_is_answered_by_sms_through_the_gateway(app, http, mailbox):
    write(app, lambda s: notify_customer(s, claim(channel="phone", language="en"), "closed", T0,
                                         {"survey_url": "https://shop.test/s/x1"}))
    drain(app)
    [(path, headers, body)] = http.requests
    assert path == "/sms" and headers["Authorization"] == "Bearer t0k3n"
    assert headers["Idempotency-Key"] == body["idempotency_key"] == "RK-2026-000042/closed/0"
    assert body["to"] == "+79123456789"
    assert body["text"] == "Claim RK-2026-000042 is closed. Rate us: https://shop.test/s/x1"
    assert mailbox.received == []


# --- staff: the ladder --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, level, mail_to, hooks", [
    ("sla_warning", None, ["quality-lead@shop.test", "quality@shop.test"], ["/chat/quality"]),
    ("escalation", 1, ["quality-lead@shop.test"], []),
    ("escalation", 2, ["head@shop.test"], []),
    ("escalation", 3, [], ["/oncall"])])
def test_warnings_and_escalations_reach_whom_the_ladder_names(app, mailbox, http, kind, level, mail_to, hooks):
    write(app, lambda s: notify_staff(s, claim(), kind, T0, context={"target": "decision", "level": level}))
    drain(app)
    assert sorted(to for (to,), _ in mailbox.received) == mail_to
    assert [path for path, _, _ in http.requests] == hooks
    for _, mail in mailbox.received:
        assert "RK-2026-000042" in mail["Subject"] and "decision" in mail["Subject"]     # staff_language: en
    for path, headers, body in http.requests:
        assert body["claim_number"] == "RK-2026-000042" and body["target"] == "decision"
        assert headers["Idempotency-Key"] == body["idempotency_key"] and "RK-2026-000042" in body["text"]
    if level == 3:
        assert http.requests[0][1]["X-Api-Key"] == "k1" and http.requests[0][2]["level"] == "3"


def test_a_new_claim_goes_to_the_departments_queue_and_lead_once(app, mailbox, http):
    for _ in range(2):
        write(app, lambda s: notify_staff(s, claim(), "new_claim", T0))
    drain(app)
    assert sorted(to for (to,), _ in mailbox.received) == ["quality-lead@shop.test", "quality@shop.test"]
    assert len(http.requests) == 1


# --- failures -------------------------------------------------------------------------------------------

def test_a_temporary_smtp_refusal_is_retried_after_a_backoff(app, mailbox):
    mailbox.replies.append("451 4.3.0 try again later")
    write(app, lambda s: notify_customer(s, claim(), "executed", T0))
    drain(app)
    [row] = rows(app)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "smtp end of data 451")
    assert row.next_attempt_at == T0 + timedelta(seconds=30)     # up to 60 s, the draw 0.5
    assert drain(app) == 0 and mailbox.received == []           # not before its time
    app.clock.advance(seconds=30)
    drain(app)
    assert len(mailbox.received) == 1 and rows(app)[0].status == "sent" and rows(app)[0].attempts == 2


def test_permanent_failures_go_to_the_dead_letter_list_at_once(app, mailbox, http):
    http.statuses.append(404)
    write(app, lambda s: notify_customer(s, claim(customer_email="bounce@customer.test"), "registered", T0))
    write(app, lambda s: notify_staff(s, claim(), "escalation", T0, context={"target": "closure", "level": 3}))
    drain(app)
    failed = {(r.channel, r.status, r.attempts, r.last_error) for r in rows(app) if r.channel}
    assert failed == {("email", "dead", 1, "smtp RCPT 550"), ("webhook", "dead", 1, "webhook HTTP 404")}


def test_an_unreachable_server_is_retried_until_the_last_try_then_listed_and_resent(app, mailbox, http):
    http.statuses.extend([503, 503, 429])
    write(app, lambda s: notify_staff(s, claim(), "escalation", T0, context={"target": "decision", "level": 3}))
    for _ in range(3):
        drain(app)
        app.clock.advance(hours=1)
    [_, row] = rows(app)
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "webhook HTTP 429")

    listed = cli(app, "failed")
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["id"] == row.id and record["kind"] == "escalation" and record["error"] == "webhook HTTP 429"
    assert "http" not in listed.stdout and "@" not in listed.stdout       # no address, no personal data

    resent = cli(app, "retry", str(row.id), "999999")
    assert resent.exit_code == 1
    assert [json.loads(line)["outcome"] for line in resent.stdout.splitlines()] == ["resent", "not_found"]
    drain(app)
    assert [p for p, _, _ in http.requests] == ["/oncall"] and rows(app)[1].status == "sent"
    assert cli(app, "failed").stdout == ""


def test_smtp_refusing_connections_is_transient_and_sms_without_a_gateway_is_not(app, mailbox):
    app.settings = app.settings.model_copy(update={"smtp_port": free_port(), "sms_gateway_url": None})
    write(app, lambda s: notify_customer(s, claim(), "registered", T0))
    write(app, lambda s: notify_customer(s, claim(claim_number="RK-2026-000043", channel="phone"), "registered", T0))
    drain(app)
    outcome = {(r.channel, r.status, r.last_error) for r in rows(app)}
    assert outcome == {("email", "pending", "smtp ConnectionRefusedError"),
                       ("sms", "dead", "sms gateway not configured (CLAIMFLOW_SMS_GATEWAY_URL)")}


# --- a worker that stops mid-send ---------------------------------------------------------------------

def test_a_killed_workers_notices_are_sent_when_their_lease_runs_out(app, mailbox):
    write(app, lambda s: [notify_customer(s, claim(claim_number=f"RK-2026-00010{i}"), "registered", T0)
                          for i in range(3)])
    with app.sessions.begin() as session:     # a worker takes them and dies before sending
        assert len(lease(session, T0, limit=10, retries=Retries(lease_seconds=30))) == 3
    assert drain(app) == 0
    app.clock.advance(seconds=31)
    assert drain(app) == 3
    assert sorted(m["X-Claimflow-Claim"] for _, m in mailbox.received) == [f"RK-2026-00010{i}" for i in range(3)]


def test_a_worker_whose_lease_ran_out_abandons_the_message_before_the_end_of_data(app, mailbox):
    write(app, lambda s: notify_customer(s, claim(), "registered", T0))
    with app.sessions.begin() as session:      # worker A takes it, then stalls past its lease
        [stalled] = lease(session, T0, limit=10, retries=Retries(lease_seconds=30))
    app.clock.advance(seconds=31)
    worker = NotifyWorker(app, threads=1, draw=lambda: 0.5)
    assert worker.drain() == 1                 # worker B sends it
    assert worker.sender().send(stalled) == "lost"      # A wakes up: its confirmation is refused
    assert len(mailbox.received) == 1


def test_no_address_or_name_reaches_the_logs(app, mailbox, http):
    mailbox.replies.append("451 4.3.0 later")
    http.statuses.append(500)
    write(app, lambda s: notify_customer(s, claim(), "registered", T0))
    write(app, lambda s: notify_customer(s, claim(claim_number="RK-2026-000043", channel="phone"), "reopened", T0))
    write(app, lambda s: notify_staff(s, claim(), "escalation", T0, context={"target": "decision", "level": 3}))
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        drain(app)
        app.clock.advance(hours=1)
        drain(app)
    finally:
        configure_logging("WARNING", "console")
    records = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    outcomes = sorted(r["event"] for r in records if r["event"] in ("notify.sent", "notify.retry"))
    assert outcomes == ["notify.retry", "notify.retry", "notify.sent", "notify.sent", "notify.sent"]
    assert {r["claim_number"] for r in records if r["event"] == "notify.sent"} == {"RK-2026-000042", "RK-2026-000043"}
    for personal in ("anna@customer.test", "+79123456789", "Анна", "\\u0410\\u043d\\u043d\\u0430", http.url):
        assert personal not in stream.getvalue()
