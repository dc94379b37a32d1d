"""Tier 2: the SMTP mailbox (``claimflow mail serve``) on the embedded default: real messages over
smtplib to an aiosmtpd server in this process, then intake and routing, then the claims; what the
sending MTA is told (250 after commit, 550, 552, 451) and that a message delivered twice is one event."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from services.export import export_claims
from services.mailbox import DEFAULT_ADDRESSES, envelope_line, event_id, make_controller, size_limit
from services.stages import declare_actors, intake_step, routing_step
from shared.bootstrap import bootstrap
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import Claim, InboxEvent, QuarantinedEvent
from shared.observability.logging import configure_logging

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = "claims@localhost"
OTHER = "complaints@shop.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_app(settings):
    app = bootstrap(settings, configure_logs=False)
    declare_actors(app)
    return app


class Mailbox:
    """An App and a running SMTP server for it."""

    def __init__(self, settings, addresses=(CLAIMS, OTHER)):
        self.app = make_app(settings)
        self.port = free_port()
        self.controller = make_controller(self.app, "127.0.0.1", self.port, addresses)
        self.controller.start()

    def close(self):
        self.controller.stop()
        self.app.close()

    def client(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.port, timeout=10)

    def send(self, msg: EmailMessage, to=(CLAIMS,)) -> dict:
        with self.client() as smtp:
            return smtp.send_message(msg, to_addrs=list(to))

    def send_raw(self, raw: bytes, sender="someone@example.ru", to=(CLAIMS,)) -> dict:
        with self.client() as smtp:
            return smtp.sendmail(sender, list(to), raw)

    def inbox(self) -> list[InboxEvent]:
        with self.app.sessions() as s:
            return s.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()

    def quarantine(self) -> list[QuarantinedEvent]:
        with self.app.sessions() as s:
            return s.scalars(select(QuarantinedEvent)).all()

    def nudges(self) -> int:
        return self.app.broker.queues[self.app.actors["intake"].queue_name].qsize()

    def run_stages(self) -> None:
        while intake_step(self.app) + routing_step(self.app):
            pass

    def claims(self) -> list[dict]:
        return list(export_claims(self.app))


@pytest.fixture
def mailbox(embedded_settings):
    box = Mailbox(embedded_settings)
    yield box
    box.close()


@pytest.fixture
def small_mailbox(embedded_settings):
    box = Mailbox(embedded_settings.model_copy(update={"max_event_bytes": 4000}))
    yield box
    box.close()


def russian_koi8() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ирина Смирнова <Irina.Smirnova@Example.ru>"
    msg["To"] = CLAIMS
    msg["Subject"] = "Чайник протекает"
    msg["Message-ID"] = make_msgid(domain="example.ru")
    msg.set_content("Здравствуйте! Чайник KET-2201 протекает снизу после недели использования, "
                    "заказ ORD-4815162. Прошу заменить.", charset="koi8-r", cte="8bit")
    return msg


def multipart_with_photo() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Олег <oleg.petrov@example.com>"
    msg["To"] = CLAIMS
    msg["Subject"] = "Посылка пришла повреждённой"
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content("Коробка смята, пылесос внутри треснул. Фото во вложении.", charset="windows-1251")
    msg.add_attachment(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, maintype="image", subtype="jpeg",
                       filename="photo1.jpg")
    return msg


def plain_english(message_id: str | None = "<parcel-1@mail.example.org>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "John Smith <john.smith@example.org>"
    msg["To"] = CLAIMS
    msg["Subject"] = "Parcel arrived crushed"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("The parcel with my blender arrived crushed and the jug is cracked. I would like a refund.")
    return msg


def raw_message(size: int = 0, subject: str = "Broken kettle") -> bytes:
    """A message without a Message-ID, padded with lines of x to ``size`` bytes."""
    raw = (f"From: someone@example.ru\r\nTo: {CLAIMS}\r\nSubject: {subject}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nThe kettle leaks.\r\n").encode()
    while len(raw) < size:
        raw += b"x" * max(0, min(70, size - len(raw) - 2)) + b"\r\n"
    return raw


# --- messages become claims ---------------------------------------------------------------------

def test_three_kinds_of_message_become_three_claims_with_the_senders_address(mailbox):
    messages = [russian_koi8(), multipart_with_photo(), plain_english()]
    for msg in messages:
        assert mailbox.send(msg) == {}                          # 250 for every recipient
    rows = mailbox.inbox()
    assert [(r.source, r.channel, r.status) for r in rows] == [("mailbox", "email", "pending")] * 3
    assert mailbox.nudges() == 3

    mailbox.run_stages()
    claims = mailbox.claims()
    assert sorted(c["customer"]["email"] for c in claims) == [
        "irina.smirnova@example.ru", "john.smith@example.org", "oleg.petrov@example.com"]
    for claim in claims:
        assert claim["status"] == "routed" and claim["channels"] == ["email"]
        [ident] = claim["source_event_ids"]
        assert ident.startswith("smtp-") and len(ident) == 5 + 24
    by_email = {c["customer"]["email"]: c["claim_number"] for c in claims}
    with mailbox.app.sessions() as s:
        irina = s.scalars(select(Claim).where(Claim.claim_number == by_email["irina.smirnova@example.ru"])).one()
        oleg = s.scalars(select(Claim).where(Claim.claim_number == by_email["oleg.petrov@example.com"])).one()
    assert "протекает снизу" in irina.description and irina.subject == "Чайник протекает"   # koi8-r, 8bit
    assert irina.customer_name == "Ирина Смирнова"
    assert "пылесос внутри треснул" in oleg.description                                     # windows-1251
    assert "photo1.jpg" in json.dumps(oleg.details, ensure_ascii=False)


def test_the_event_keeps_the_bytes_as_received(mailbox):
    msg = russian_koi8()
    mailbox.send(msg)
    [row] = mailbox.inbox()
    doc = json.loads(row.body)
    assert set(doc) == {"event_id", "channel", "source", "received_at", "payload"}
    assert (doc["channel"], doc["source"]) == ("email", "mailbox")
    assert doc["received_at"].endswith("+00:00")                      # app.clock.now(), with an offset
    raw = base64.b64decode(doc["payload"]["raw_base64"])
    assert raw == msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))   # 8-bit koi8-r body untouched
    msgid = msg["Message-ID"].strip("<>").encode()
    assert doc["event_id"] == row.event_id == "smtp-" + hashlib.sha256(msgid).hexdigest()[:24]


# --- one message, one event ---------------------------------------------------------------------

def test_a_message_delivered_twice_is_one_event_and_one_claim(mailbox):
    msg = plain_english()
    assert mailbox.send(msg) == {}
    assert mailbox.send(msg) == {}                                   # the MTA retried: still 250
    assert mailbox.send(msg, to=[OTHER]) == {}                       # the same message to our other address
    assert len(mailbox.inbox()) == 1 and mailbox.nudges() == 1
    mailbox.run_stages()
    assert mailbox.send(msg) == {}                                   # after it became a claim, too
    [claim] = mailbox.claims()
    assert len(mailbox.inbox()) == 1 and len(claim["source_event_ids"]) == 1


def test_without_a_message_id_the_bytes_are_the_key(mailbox):
    raw = raw_message()
    mailbox.send_raw(raw)
    mailbox.send_raw(raw)
    mailbox.send_raw(raw_message(subject="Broken kettle, again"))
    rows = mailbox.inbox()
    assert len(rows) == 2
    assert rows[0].event_id == "smtp-" + hashlib.sha256(raw).hexdigest()[:24]


def test_event_ids_follow_the_message_id():
    plain = b"Message-ID: <abc@x>\r\nFrom: a@b\r\n\r\nbody\r\n"
    folded = b"From: a@b\r\nMessage-Id:\r\n <abc@x>\r\n\r\nother body\r\n"
    bare = b"Message-ID: abc@x\r\n\r\nbody\r\n"
    expected = "smtp-" + hashlib.sha256(b"abc@x").hexdigest()[:24]
    assert event_id(plain) == event_id(folded) == event_id(bare) == expected
    assert event_id(b"From: a@b\r\n\r\nbody\r\n") != event_id(b"From: a@b\r\n\r\nbody!\r\n")


# --- what the sending MTA is told ---------------------------------------------------------------

def test_an_unknown_recipient_is_550_and_only_our_addresses_get_the_message(mailbox):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mailbox.send(plain_english(), to=["nobody@localhost"])
    assert refused.value.recipients["nobody@localhost"][0] == 550
    assert mailbox.inbox() == []

    mixed = mailbox.send(plain_english(), to=["Claims@LocalHost", "nobody@localhost"])
    assert mixed == {"nobody@localhost": (550, b"5.1.1 Mailbox unavailable")}
    assert len(mailbox.inbox()) == 1


def test_an_oversize_message_is_552_and_stores_nothing(small_mailbox):
    box = small_mailbox
    limit = size_limit(box.app.settings)
    assert limit == 3000
    # 1. the client declares its SIZE: refused at MAIL FROM
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        box.send_raw(raw_message(10_000))
    assert refused.value.smtp_code == 552
    # 2. no SIZE declared: the server stops keeping the data and refuses it at the end
    with box.client() as smtp:
        smtp.ehlo()
        smtp.mail("someone@example.ru")
        smtp.rcpt(CLAIMS)
        code, _ = smtp.data(raw_message(10_000))
    assert code == 552
    # 3. under the SMTP limit, but its envelope (base64 and all) would pass max_event_bytes
    raw = raw_message(limit - 20)
    overhead = len(envelope_line(b"", box.app.clock.now())[0])
    assert len(raw) == limit - 20 and 4 * math.ceil(len(raw) / 3) + overhead > box.app.settings.max_event_bytes
    with pytest.raises(smtplib.SMTPDataError) as too_big:
        box.send_raw(raw)
    assert (too_big.value.smtp_code, too_big.value.smtp_error) == (552, b"5.3.4 Message too big")
    assert box.inbox() == [] and box.quarantine() == [] and box.nudges() == 0
    # and one that fits is taken
    assert box.send_raw(raw_message(1000)) == {}
    assert len(box.inbox()) == 1


def test_an_unreachable_database_is_451_and_the_retry_loses_nothing(mailbox, tmp_path):
    app = mailbox.app
    good = app.sessions
    app.engine.dispose()
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    app.sessions = make_sessionmaker(broken)
    msg = plain_english()
    try:
        with capture_logs() as logs:
            with pytest.raises(smtplib.SMTPDataError) as failed:
                mailbox.send(msg)
        assert (failed.value.smtp_code, failed.value.smtp_error) == (451, b"4.3.0 Temporary failure, try again later")
        assert [e["event"] for e in logs] == ["mailbox.database_unavailable"]
        assert mailbox.nudges() == 0
    finally:
        app.sessions = good
        broken.dispose()
    assert mailbox.inbox() == []                       # nothing half-stored: the sender still holds it
    assert mailbox.send(msg) == {}                     # its MTA retries once the database is back
    mailbox.run_stages()
    [claim] = mailbox.claims()
    assert claim["customer"]["email"] == "john.smith@example.org"


def test_a_bug_is_451_too_so_the_message_stays_with_the_sender(mailbox, monkeypatch):
    import services.mailbox as module

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(module, "accept_lines", bug)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        mailbox.send(plain_english())
    assert failed.value.smtp_code == 451


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream
    configure_logging("WARNING", "console")


def test_logs_say_the_event_and_size_never_an_address(mailbox, json_logs):
    msg = russian_koi8()
    mailbox.send(msg)
    mailbox.send(msg)
    text = json_logs.getvalue()
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert [(e["event"], e["outcome"]) for e in entries] == [("mailbox.received", "accepted"),
                                                             ("mailbox.received", "redelivered")]
    assert {e["event_id"] for e in entries} == {mailbox.inbox()[0].event_id}
    assert all(e["size"] > 100 for e in entries)
    assert "example.ru" not in text.lower() and "localhost" not in text and "Ирина" not in text


# --- the process --------------------------------------------------------------------------------

def test_serve_registers_and_routes_in_process_and_stops_cleanly_on_sigterm(tmp_path, names):
    port = free_port()
    url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**os.environ, "CLAIMFLOW_DATABASE_URL": url, "CLAIMFLOW_BLOB_DIR": str(tmp_path / "blobs"),
           "CLAIMFLOW_LOG_LEVEL": "INFO", "CLAIMFLOW_LOG_FORMAT": "json",
           "CLAIMFLOW_REDRIVE_INTERVAL_SECONDS": "0.5",
           **{f"CLAIMFLOW_{k.upper()}": v for k, v in names.items()}}
    env.pop("CLAIMFLOW_BROKER_URL", None)
    code = f"from services.mailbox import serve; serve(None, '127.0.0.1', {port})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"serve exited {proc.returncode}: {proc.stderr.read()}")
                assert time.monotonic() < deadline, "the SMTP server did not start listening"
                time.sleep(0.1)
        with smtp:
            assert smtp.send_message(plain_english(), to_addrs=list(DEFAULT_ADDRESSES)) == {}
        from shared.settings import Settings
        reader = bootstrap(Settings(database_url=url, **names), configure_logs=False, migrate=False)
        try:
            deadline = time.monotonic() + 10
            while not [c for c in export_claims(reader) if c["status"] == "routed"]:
                assert time.monotonic() < deadline, "the in-process stages did not route the claim"
                time.sleep(0.1)
        finally:
            reader.close()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert {"mailbox.listening", "mailbox.received", "mailbox.stopping", "mailbox.stopped"} <= set(events)
    assert "john.smith" not in err and "example.org" not in err
