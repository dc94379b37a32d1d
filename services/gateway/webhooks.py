"""``POST /v1/webhooks/{marketplace}``: a marketplace's own return or claim object (or an array of
them), signed with the shared secret, wrapped into marketplace envelopes here."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request

from services.gateway.accepting import accept, batch_response, single_response
from services.gateway.body import envelope_line, parse_json, read_body
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import MARKETPLACE_BODY, Accepted, BatchAccepted, ErrorBody, Refusal, json_body
from services.gateway.responses import OVERSIZE, UNAVAILABLE
from shared.bootstrap import App

router = APIRouter(tags=["intake"])

MARKETPLACES = ("ozon", "wildberries", "yandex_market", "amazon")
#: a webhook may carry an array: its body may be this many times one event's limit, and hold this many objects
BODY_FACTOR = 10
MAX_OBJECTS = 1000
SIGNATURE_PREFIX = "sha256="

DESCRIPTION = f"""Accept a marketplace's webhook. The body is the marketplace's own object (field names
unchanged) or a JSON array of them, signed: `X-Claimflow-Signature: sha256=<hex>` is HMAC-SHA256 over
the raw body with the marketplace's secret (CLAIMFLOW_WEBHOOK_SECRETS). Without a configured secret, or
with a missing or wrong signature, the answer is 401 and nothing is stored.

Each object becomes an envelope (channel `marketplace`, source the marketplace) whose `event_id` is the
`X-Claimflow-Event-Id` header (for an array: the header plus `#<position>`), or else
`<marketplace>-` and the first 24 hex digits of the SHA-256 of the object's canonical JSON, so a resent
object is answered `duplicate`. One object is answered like `/v1/events`; an array with each object's
outcome (202), an object that is refused (a payload that is not an object) being kept in quarantine.
The body may be up to {BODY_FACTOR} times the per-event limit and hold up to {MAX_OBJECTS} objects."""

MarketplaceName = Annotated[str, Path(description="the marketplace", json_schema_extra={"enum": list(MARKETPLACES)})]
Signature = Annotated[str | None, Header(alias="X-Claimflow-Signature",
                                         description="sha256=<hex HMAC-SHA256 of the raw body>")]
EventId = Annotated[str | None, Header(alias="X-Claimflow-Event-Id", min_length=1, max_length=200,
                                       description="the marketplace's delivery id, when it sends one")]


def canonical_id(marketplace: str, obj) -> str:
    try:
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (ValueError, RecursionError):
        raise ApiError(422, "bad_payload", "the object is nested too deeply", event_id=None) from None
    return f"{marketplace}-" + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:24]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message + "; nothing was stored")


def _verify(secret: str, body: bytes, signature: str) -> None:
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = signature.strip()[len(SIGNATURE_PREFIX):].lower().encode("latin-1", errors="replace")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise _unauthorized("the signature does not match the body")


@router.post("/v1/webhooks/{marketplace}", status_code=202, summary="Accept a marketplace webhook",
             description=DESCRIPTION, response_model=None,
             openapi_extra=json_body(MARKETPLACE_BODY, "the marketplace's object, or an array of them"),
             responses={202: {"model": Accepted | BatchAccepted,
                              "description": "one object: accepted or duplicate; an array: each one's outcome"},
                        400: {"model": ErrorBody, "description": "not_json: the body is not JSON (nothing stored)"},
                        401: {"model": ErrorBody, "description": "no secret for this marketplace, or a missing "
                                                                 "or wrong signature: nothing stored"},
                        404: {"model": ErrorBody, "description": "not a marketplace claimflow knows"},
                        **OVERSIZE,
                        422: {"model": Refusal, "description": "one object refused (kept in quarantine), or "
                                                               "an empty array, a bad header or an unstorable "
                                                               "field (nothing stored)"},
                        **UNAVAILABLE})
async def post_webhook(request: Request, marketplace: MarketplaceName, signature: Signature = None,
                       event_id: EventId = None, app: App = Depends(claimflow)):
    if marketplace not in MARKETPLACES:
        raise ApiError(404, "not_found", "no such marketplace")
    secret = app.settings.webhook_secrets.get(marketplace)
    if not secret:
        raise _unauthorized(f"webhooks from {marketplace} are not enabled (no secret is configured)")
    if not signature or not signature.strip().lower().startswith(SIGNATURE_PREFIX):
        raise _unauthorized("the X-Claimflow-Signature header (sha256=<hex>) is missing")
    limit = app.settings.max_event_bytes * BODY_FACTOR
    body = await read_body(request, limit)
    _verify(secret, body, signature)
    doc = parse_json(body)
    objects = doc if isinstance(doc, list) else [doc]
    if isinstance(doc, list) and not doc:
        raise ApiError(422, "bad_payload", "the array is empty; nothing was stored", event_id=event_id)
    if len(objects) > MAX_OBJECTS:
        raise ApiError(413, "oversize", f"the array has {len(objects)} objects; the limit is {MAX_OBJECTS}",
                       event_id=event_id)
    now = app.clock.now().isoformat()
    lines = []
    for position, obj in enumerate(objects, start=1):
        if event_id:
            ident = event_id if not isinstance(doc, list) else f"{event_id}#{position}"
        else:
            ident = canonical_id(marketplace, obj)
        lines.append(envelope_line(ident, "marketplace", marketplace, now, obj))
    outcomes = await accept(app, lines)
    return batch_response(outcomes) if isinstance(doc, list) else single_response(outcomes[0])
