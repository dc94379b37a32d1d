"""``claimflow mail serve``: the claims mailbox as an SMTP server (aiosmtpd). Each message is one
channel event (``events.md``, channel ``email``, source ``mailbox``) with the bytes as received in
``raw_base64``, accepted like the gateway accepts an envelope: ``accept_lines`` in one transaction,
commit, nudge intake. The sending MTA hears "250" only after the commit; "451" when the database is
unreachable, so that it keeps the message and tries again; "552" when the event would be too big.

The event id is derived from the Message-ID (else from the bytes), so a message delivered twice —
an MTA that retries after a lost "250", or the same message to two of our addresses — is one event.
Logs carry the event id and the size, never a sender, recipient or address."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import signal
import socket
import threading
import time
from email.parser import BytesParser
from email.policy import compat32

import structlog
from sqlalchemy.exc import DBAPIError

from intake_worker.inbox import accept_lines
from intake_worker.validation import ReceivedWindow
from services.stages import nudge
from shared.bootstrap import App
from shared.settings import Settings

log = structlog.get_logger("mailbox")

DEFAULT_ADDRESSES = ("claims@localhost",)
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8025
SOURCE, CHANNEL = "mailbox", "email"
EMBEDDED_STAGES = ("intake", "routing", "outbox")
DRAIN_SECONDS = 30          # at shutdown: how long messages being stored may take to finish

OK = "250 Message accepted for delivery"
TEMPORARY = "451 4.3.0 Temporary failure, try again later"
TOO_BIG = "552 5.3.4 Message too big"
NO_SUCH_USER = "550 5.1.1 Mailbox unavailable"

_MSG_ID = re.compile(rb"<([^<>\s]{1,500})>")


def event_id(raw: bytes) -> str:
    """``smtp-`` + 24 hex of the sha256 of the Message-ID (its ``<…>`` part), or of the bytes when
    there is none: the same message delivered twice gets the same id."""
    headers = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
    value = next((v for k, v in headers.raw_items() if k.lower() == "message-id"), None)
    key = raw
    if value is not None:
        text = str(value).encode("utf-8", errors="surrogateescape").strip()
        found = _MSG_ID.search(text)
        if found:
            key = found.group(1)
        elif text and b" " not in text:
            key = text.strip(b"<>")
    return "smtp-" + hashlib.sha256(key).hexdigest()[:24]


def envelope_line(raw: bytes, received_at) -> tuple[str, str]:
    """The channel event of one message, as the JSON line ``accept_lines`` takes, and its id."""
    ident = event_id(raw)
    doc = {"event_id": ident, "channel": CHANNEL, "source": SOURCE, "received_at": received_at.isoformat(),
           "payload": {"raw_base64": base64.b64encode(raw).decode("ascii")}}
    return json.dumps(doc, separators=(",", ":")), ident


def size_limit(settings: Settings) -> int:
    """The largest message whose envelope could fit ``max_event_bytes`` (base64 is 4/3 of it):
    given to the SMTP server, which advertises it (SIZE) and refuses bigger data early."""
    return max(1, settings.max_event_bytes * 3 // 4)


class MailboxHandler:
    """aiosmtpd handler: RCPT accepts only ``addresses``; DATA stores the message as an event."""

    def __init__(self, app: App, addresses=DEFAULT_ADDRESSES):
        self.app = app
        self.addresses = frozenset(a.strip().lower() for a in addresses)
        self.in_flight = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.strip().lower() not in self.addresses:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        with self._lock:
            self.in_flight += 1
        try:
            line, ident = envelope_line(raw, self.app.clock.now())
            size = len(line.encode("utf-8"))
            if size > self.app.settings.max_event_bytes:
                log.warning("mailbox.too_big", event_id=ident, size=len(raw), envelope_size=size)
                return TOO_BIG
            try:
                state = await asyncio.to_thread(self._store, line)
            except DBAPIError as exc:
                log.warning("mailbox.database_unavailable", event_id=ident, size=len(raw),
                            error=type(exc).__name__)
                return TEMPORARY
            log.info("mailbox.received", event_id=ident, size=len(raw), outcome=state)
            return OK
        except Exception:   # noqa: BLE001 - a bug: the MTA keeps the message and retries, nothing is lost
            log.exception("mailbox.failed", size=len(raw))
            return TEMPORARY
        finally:
            with self._lock:
                self.in_flight -= 1

    def _store(self, line: str) -> str:
        """One transaction; after its commit, nudge intake (a lost nudge is re-driven)."""
        app = self.app
        with app.sessions.begin() as session:
            acceptance = accept_lines(session, [line], app.clock.now(), app.settings.max_event_bytes,
                                          window=ReceivedWindow.of(app.settings))
        nudge(app, "intake", len(acceptance.accepted))
        return acceptance.results[0][0]


def make_controller(app: App, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, addresses=DEFAULT_ADDRESSES):
    """An aiosmtpd Controller (its own thread and event loop) around a :class:`MailboxHandler`."""
    from aiosmtpd.controller import Controller
    # aiosmtpd logs peers, senders and recipients at INFO: never let those lines through
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return Controller(MailboxHandler(app, addresses), hostname=host, port=port,
                      data_size_limit=size_limit(app.settings), server_hostname=socket.gethostname())


def stop_controller(controller, drain_seconds: float = DRAIN_SECONDS) -> None:
    """Stop taking connections, let messages being stored finish (their "250" follows their commit),
    then stop the server. A message cut off here was never answered: its MTA sends it again."""
    server, loop = controller.server, controller.loop
    if server is not None and loop.is_running():
        loop.call_soon_threadsafe(server.close)
    deadline = time.monotonic() + drain_seconds
    while controller.handler.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    controller.stop()


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None,
          addresses=None) -> None:
    from services.runner import StageWorker
    from services.stages import declare_actors
    from shared.bootstrap import bootstrap

    settings = settings or Settings()
    host = host or DEFAULT_HOST
    port = port if port is not None else DEFAULT_PORT
    addresses = tuple(addresses or DEFAULT_ADDRESSES)
    app = bootstrap(settings)
    declare_actors(app)
    stages = StageWorker(app, EMBEDDED_STAGES).start() if settings.embedded else None
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: stop.set())
    controller = make_controller(app, host, port, addresses)
    try:
        controller.start()
        try:
            log.info("mailbox.listening", host=host, port=port, addresses=len(addresses),
                     embedded=settings.embedded, size_limit=size_limit(settings))
            while not stop.wait(1):
                pass
            log.info("mailbox.stopping")
        finally:
            stop_controller(controller)
    finally:
        if stages:
            stages.stop()
        app.close()
        log.info("mailbox.stopped")
