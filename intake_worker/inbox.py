"""Accepting channel events: each line is checked and written to the inbox (or, when its
envelope is unusable, to quarantine) before anyone is told "accepted". A redelivered
``(source, event_id)`` is recognised by the inbox's unique constraint and only counted."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from intake_worker.validation import ReceivedWindow, Refused, check_envelope
from shared.db.models import InboxEvent, QuarantinedEvent
from shared.db.statements import insert_ignoring_conflicts
from shared.observability import correlation
from shared.observability.metrics import EVENTS_ACCEPTED, EVENTS_QUARANTINED, EVENTS_REDELIVERED
from shared.schema import Envelope


@dataclass
class Acceptance:
    """What became of a batch of lines."""
    accepted: list[int] = field(default_factory=list)      # new inbox ids, pending intake
    redelivered: int = 0
    quarantined: int = 0
    results: list[tuple[str, str | None]] = field(default_factory=list)   # per line: (outcome, event id)


def fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", errors="surrogatepass")).hexdigest()


def storable(text: str) -> str:
    """Text a database column accepts: NUL and unpaired surrogates written as escapes."""
    text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


def quarantine_row(refused: Refused, now: datetime, inbox_id: int | None = None) -> dict:
    def ident(value):
        return storable(value) if value is not None else None
    return {"fingerprint": fingerprint(refused.body), "source": ident(refused.source),
            "event_id": ident(refused.event_id), "channel": ident(refused.channel), "reason": refused.rejection.reason.value,
            "message": refused.rejection.message, "body": storable(refused.body), "inbox_id": inbox_id,
            "quarantined_at": now}


def accept_lines(session: Session, lines: list[bytes | str], now: datetime, max_bytes: int,
                 correlation_id: str | None = None, window: ReceivedWindow = ReceivedWindow()) -> Acceptance:
    """Check and store ``lines`` in the caller's transaction; the caller commits, then nudges intake.
    ``correlation_id`` (an HTTP request's header) is written into each envelope that has none
    (``shared.observability.correlation``)."""
    outcome = Acceptance()
    inbox_rows, refused_rows, order = [], [], []
    for raw in lines:
        checked = check_envelope(raw, max_bytes, now, window)
        if isinstance(checked, Refused):
            refused_rows.append(quarantine_row(checked, now))
            EVENTS_QUARANTINED.labels(checked.channel if checked.channel in _CHANNELS else "unknown",
                                      checked.rejection.reason.value).inc()
            order.append(("quarantined", checked.event_id, None))
            continue
        inbox_rows.append(_inbox_row(checked, raw, now, correlation_id, max_bytes))
        order.append(("pending", checked.event_id, (checked.source, checked.event_id, checked.channel.value)))
    if refused_rows:
        session.execute(insert_ignoring_conflicts(session, QuarantinedEvent.__table__), refused_rows)
        outcome.quarantined = len(refused_rows)
    new: dict[tuple[str, str], int] = {}
    if inbox_rows:
        stmt = insert_ignoring_conflicts(session, InboxEvent.__table__).returning(
            InboxEvent.id, InboxEvent.source, InboxEvent.event_id)
        for row in session.execute(stmt, inbox_rows):
            new[(row.source, row.event_id)] = row.id
    channels = Counter()
    for state, event_id, key in order:
        if key is None:
            outcome.results.append((state, event_id))
            continue
        inbox_id = new.pop((key[0], key[1]), None)   # a second copy in the same batch is a redelivery too
        if inbox_id is None:
            outcome.redelivered += 1
            EVENTS_REDELIVERED.labels(key[2]).inc()
            outcome.results.append(("redelivered", event_id))
        else:
            outcome.accepted.append(inbox_id)
            channels[key[2]] += 1
            outcome.results.append(("accepted", event_id))
    for channel, n in channels.items():
        EVENTS_ACCEPTED.labels(channel).inc(n)
    return outcome


_CHANNELS = {"web", "phone", "email", "marketplace"}


def _inbox_row(envelope: Envelope, raw: bytes | str, now: datetime, correlation_id: str | None = None,
               max_bytes: int = 0) -> dict:
    body = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
    if correlation_id is not None:
        with_id = correlation.stamped(body, correlation.clean(correlation_id))
        if len(with_id.encode("utf-8", errors="surrogatepass")) <= max_bytes:   # never past intake's limit
            body = with_id
    return {"source": envelope.source, "event_id": envelope.event_id, "channel": envelope.channel.value,
            "received_at": envelope.received_at, "body": body, "status": "pending", "accepted_at": now,
            "attempts": 0}
