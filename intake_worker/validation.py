"""The envelope check of ``events.md``, pure: raw bytes or text in, an Envelope or a
Rejection (with whatever identity could be read) out."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from shared.schema import Channel, Envelope, QuarantineReason, Rejection

REQUIRED = ("event_id", "channel", "source", "received_at", "payload")
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


def _text(raw: bytes | str) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")


def _identity(doc: dict) -> dict:
    def field(name):
        value = doc.get(name)
        return value if isinstance(value, str) and 0 < len(value) <= 200 else None
    return {"event_id": field("event_id"), "source": field("source"), "channel": field("channel")}


def check_envelope(raw: bytes | str, max_bytes: int) -> Envelope | Refused:
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    text = _text(raw)
    if size > max_bytes:
        refused = Refused(Rejection(reason=R.OVERSIZE,
                                    message=f"the event is {size} bytes; the limit is {max_bytes}"), text)
        doc = _loads(text)
        return Refused(refused.rejection, text, **_identity(doc)) if isinstance(doc, dict) else refused
    doc = _loads(text)
    if not isinstance(doc, dict):
        what = "not JSON" if doc is _NOT_JSON else f"JSON {type(doc).__name__}, not an object"
        return Refused(Rejection(reason=R.NOT_JSON, message=f"the line is {what}"), text)
    ident = _identity(doc)
    missing = [f for f in REQUIRED if doc.get(f) in (None, "")]
    if missing:
        return Refused(Rejection(reason=R.MISSING_FIELD,
                                 message=f"the envelope lacks {', '.join(missing)}"), text, **ident)
    if not isinstance(doc["event_id"], str) or len(doc["event_id"]) > 200:
        return Refused(Rejection(reason=R.MISSING_FIELD,
                                 message="event_id must be a string of 1 to 200 characters"), text, **ident)
    if not isinstance(doc["source"], str):
        return Refused(Rejection(reason=R.MISSING_FIELD, message="source must be a string"), text, **ident)
    if doc["channel"] not in {c.value for c in Channel}:
        return Refused(Rejection(reason=R.UNKNOWN_CHANNEL,
                                 message=f"channel {str(doc['channel'])[:40]!r} is not one of "
                                         f"{', '.join(c.value for c in Channel)}"), text, **ident)
    received_at = parse_timestamp(doc["received_at"])
    if received_at is None:
        return Refused(Rejection(reason=R.BAD_TIMESTAMP,
                                 message=f"received_at {str(doc['received_at'])[:60]!r} is not an ISO 8601 "
                                         "timestamp with an offset"), text, **ident)
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
