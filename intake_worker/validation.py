"""The envelope check of ``events.md``, pure: raw bytes or text in, an Envelope or a
Rejection (with whatever identity could be read) out."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.schema import Channel, Envelope, QuarantineReason, Rejection

REQUIRED = ("event_id", "channel", "source", "received_at", "payload")
MAX_EVENT_ID, MAX_SOURCE, MAX_CHANNEL = 200, 100, 32     # events.md; and the columns that keep them
R = QuarantineReason


@dataclass(frozen=True)
class Refused:
    """An event that will not reach the inbox: its reason, and its identity where known."""
    rejection: Rejection
    body: str
    event_id: str | None = None
    source: str | None = None
    channel: str | None = None


def parse_timestamp(value) -> datetime | None:
    """An ISO 8601 timestamp *with* an offset, or None. Epoch numbers and naive times are refused:
    a claim's deadlines are counted from it, so a guessed time zone would move them."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


CHANNELS = frozenset(c.value for c in Channel)


def _is_text(doc) -> bool:
    """Whether every string in the document is valid Unicode (JSON can escape a lone surrogate,
    which no database column can store)."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _oversize(size: int, max_bytes: int) -> Rejection:
    return Rejection(reason=R.OVERSIZE, message=f"the event is {size} bytes; the limit is {max_bytes}")


def _identity(doc: dict) -> dict:
    """The event's id, source and channel where they are plain text that fits the record."""
    def field(name, longest):
        value = doc.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= longest or "\x00" in value or not _is_text(value):
            return None
        return value
    return {"event_id": field("event_id", MAX_EVENT_ID), "source": field("source", MAX_SOURCE),
            "channel": field("channel", MAX_CHANNEL)}


@dataclass(frozen=True)
class ReceivedWindow:
    """How far from now an event's ``received_at`` may lie. Deadlines are counted from it, so a
    claim from year 0001 would fire every escalation at once and one from year 9999 overflows the
    calendar: such events are quarantined as ``bad_timestamp``, with a message saying so."""
    back: timedelta = timedelta(days=1826)       # five years
    ahead: timedelta = timedelta(hours=24)       # clocks drift; a day ahead is not a typo yet

    @classmethod
    def of(cls, settings) -> "ReceivedWindow":
        return cls(timedelta(days=settings.received_at_max_age_days),
                   timedelta(hours=settings.received_at_max_ahead_hours))

    def refuses(self, received_at: datetime, now: datetime) -> str | None:
        """Why ``received_at`` is outside the window around ``now``, or None."""
        if received_at < now - self.back:
            return (f"received_at {received_at.isoformat()} is more than {self.back.days} days before now "
                    f"({now.isoformat(timespec='seconds')}); CLAIMFLOW_RECEIVED_AT_MAX_AGE_DAYS sets the limit")
        if received_at > now + self.ahead:
            hours = int(self.ahead.total_seconds() // 3600)
            return (f"received_at {received_at.isoformat()} is more than {hours} hours after now "
                    f"({now.isoformat(timespec='seconds')}); CLAIMFLOW_RECEIVED_AT_MAX_AHEAD_HOURS sets the limit")
        return None


def check_envelope(raw: bytes | str, max_bytes: int, now: datetime | None = None,
                   window: ReceivedWindow = ReceivedWindow()) -> Envelope | Refused:
    """With ``now``, a ``received_at`` outside ``window`` around it is refused too (at acceptance;
    an event already in the inbox is not judged again by a later clock)."""
    size = len(raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # JSON is UTF-8 (RFC 8259); the bytes are kept recoverably, \xNN for each undecodable one
            kept = raw.decode("utf-8", errors="backslashreplace")
            if size > max_bytes:
                return Refused(_oversize(size, max_bytes), kept)
            return Refused(Rejection(reason=R.NOT_JSON,
                                     message=f"the line is not UTF-8 text (byte 0x{raw[e.start]:02x} at "
                                             f"position {e.start}); JSON must be UTF-8"), kept)
    else:
        text = raw
    if size > max_bytes:
        doc = _loads(text)
        return Refused(_oversize(size, max_bytes), text, **(_identity(doc) if isinstance(doc, dict) else {}))
    doc = _loads(text)
    if not isinstance(doc, dict):
        what = "not JSON" if doc is _NOT_JSON else f"JSON {type(doc).__name__}, not an object"
        return Refused(Rejection(reason=R.NOT_JSON, message=f"the line is {what}"), text)
    ident = _identity(doc)
    missing = [f for f in REQUIRED if doc.get(f) in (None, "")]
    if missing:
        return Refused(Rejection(reason=R.MISSING_FIELD,
                                 message=f"the envelope lacks {', '.join(missing)}"), text, **ident)
    if not isinstance(doc["event_id"], str) or len(doc["event_id"]) > MAX_EVENT_ID:
        return Refused(Rejection(reason=R.MISSING_FIELD,
                                 message="event_id must be a string of 1 to 200 characters"), text, **ident)
    if not isinstance(doc["source"], str) or len(doc["source"]) > MAX_SOURCE:
        return Refused(Rejection(reason=R.MISSING_FIELD,
                                 message=f"source must be a string of 1 to {MAX_SOURCE} characters"), text, **ident)
    if "\x00" in doc["event_id"] or "\x00" in doc["source"]:
        return Refused(Rejection(reason=R.MISSING_FIELD, message="event_id and source must not contain NUL"),
                       text)
    if not _is_text(doc):
        return Refused(Rejection(reason=R.BAD_PAYLOAD,
                                 message="the event contains invalid Unicode (an unpaired surrogate escape)"),
                       text, **_identity(doc))
    if not isinstance(doc["channel"], str) or doc["channel"] not in CHANNELS:
        return Refused(Rejection(reason=R.UNKNOWN_CHANNEL,
                                 message=f"channel {str(doc['channel'])[:40]!r} is not one of "
                                         f"{', '.join(sorted(CHANNELS))}"), text, **ident)
    received_at = parse_timestamp(doc["received_at"])
    if received_at is None:
        return Refused(Rejection(reason=R.BAD_TIMESTAMP,
                                 message=f"received_at {str(doc['received_at'])[:60]!r} is not an ISO 8601 "
                                         "timestamp with an offset"), text, **ident)
    if now is not None and (why := window.refuses(received_at, now)):
        return Refused(Rejection(reason=R.BAD_TIMESTAMP, message=why), text, **ident)
    if not isinstance(doc["payload"], dict):
        return Refused(Rejection(reason=R.BAD_PAYLOAD,
                                 message=f"payload is a {type(doc['payload']).__name__}, not an object"),
                       text, **ident)
    return Envelope(event_id=doc["event_id"], channel=doc["channel"], source=doc["source"],
                    received_at=received_at, payload=doc["payload"])


_NOT_JSON = object()


def _loads(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON
