"""The correlation id: one id that follows a claim from the request that brought its first event,
through intake, routing, the outbox and the department queue, to the departments' updates, the
SLA sweep and the notices — so that ``grep correlation_id=…`` finds every line about it.

Where it comes from, per event, at acceptance:

1. the envelope's own optional top-level ``correlation_id`` (a producer that has one sends it);
2. else the HTTP request's ``X-Correlation-ID`` (or ``X-Request-ID``) header: it is written into
   the stored envelope as that field (the inbox keeps the body; a body is only changed when a
   header gave an id the envelope lacked — an envelope with any ``correlation_id`` key is kept as is);
3. else it is derived from the event's identity: ``cf-`` + 24 hex of sha256(source, event_id) — an
   event accepted twice (a redelivery, a retried quarantine) keeps one id, and nothing is stored.

Intake copies it into the claim's ``details["correlation_id"]``; an event merged into a claim
leaves the claim's first id in place and is logged with its own. A usable id is 1–128 characters
of ``A–Z a–z 0–9 . _ : ; = / + -``; anything else is ignored as if absent."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import structlog

FIELD = "correlation_id"
HEADERS = ("x-correlation-id", "x-request-id")
_USABLE = re.compile(r"[A-Za-z0-9._:;=/+\-]{1,128}")


def clean(value) -> str | None:
    """``value`` as a correlation id, or None when it is not one (absent, not text, too long, odd characters)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _USABLE.fullmatch(value) else None


def derived(source: str, event_id: str) -> str:
    """The id of an event that came without one: stable for its (source, event_id)."""
    return "cf-" + hashlib.sha256(f"{source}\x00{event_id}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


def from_headers(headers: Mapping[str, str]) -> str | None:
    """The first usable id of ``X-Correlation-ID``, ``X-Request-ID`` (header names in any case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in HEADERS:
        found = clean(lowered.get(name))
        if found:
            return found
    return None


def _document(body: str) -> dict | None:
    if f'"{FIELD}"' not in body:          # the usual case: no need to parse the envelope again
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def of_envelope(body: str) -> str | None:
    """The stored envelope's own usable ``correlation_id``."""
    doc = _document(body)
    return clean(doc.get(FIELD)) if doc is not None else None


def of_event(body: str, source: str, event_id: str) -> str:
    """An inbox event's id: the envelope's, else the derived one."""
    return of_envelope(body) or derived(source, event_id)


def stamped(body: str, correlation_id: str | None) -> str:
    """The envelope text to store: with ``"correlation_id": …`` first when a header gave one and the
    envelope has no such key; otherwise exactly as it arrived."""
    if correlation_id is None:
        return body
    doc = _document(body)
    if doc is not None and FIELD in doc:
        return body
    start = body.index("{") + 1
    return body[:start] + json.dumps({FIELD: correlation_id})[1:-1] + ", " + body[start:]


def _field(claim, name: str):
    if isinstance(claim, Mapping):
        return claim.get(name)
    return getattr(claim, name, None)


def of_claim(claim) -> str | None:
    """The id of a claim (a ``Claim``, a claims-row mapping or row), a department message or a
    notice row (its ``context``)."""
    for holder in (_field(claim, "details"), claim, _field(claim, "context")):
        if holder is not None:
            found = clean(_field(holder, FIELD))
            if found:
                return found
    return None


def claim_context(claim) -> dict:
    """What to bind for work on ``claim``: its number and correlation id (those it has)."""
    context = {"claim_number": _field(claim, "claim_number"), FIELD: of_claim(claim)}
    return {k: v for k, v in context.items() if v is not None}


def current() -> str | None:
    """The correlation id bound for the work in hand (an HTTP request's, a claim's)."""
    return structlog.contextvars.get_contextvars().get(FIELD)


@contextmanager
def bound_claim(claim) -> Iterator[dict]:
    """Bind the claim's number and correlation id to every log line written inside the block.
    An id already bound (an HTTP request's header) that differs is kept as ``request_correlation_id``."""
    context = claim_context(claim)
    outer = current()
    if outer and context.get(FIELD) and outer != context[FIELD]:
        context["request_correlation_id"] = outer
    with structlog.contextvars.bound_contextvars(**context):
        yield context


@contextmanager
def bound_event(event_id: str, correlation_id: str | None) -> Iterator[None]:
    """Bind an event's id and correlation id (intake, before the event has a claim)."""
    context = {"event_id": event_id, FIELD: correlation_id}
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in context.items() if v}):
        yield
