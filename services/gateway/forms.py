"""``POST /v1/forms/claim``: the site's claim form, wrapped into a web envelope here."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from services.gateway.accepting import accept, single_response
from services.gateway.body import envelope_line, parse_json, read_body
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import ErrorBody, Refusal, WebForm, json_body
from services.gateway.responses import ACCEPTED, OVERSIZE, UNAVAILABLE
from shared.bootstrap import App

router = APIRouter(tags=["intake"])

DESCRIPTION = """Accept the web form. The gateway wraps the form into an envelope (channel `web`, source
`site`, `received_at` now) whose `event_id` is the `Idempotency-Key` header, or a new id when there is
none: sending the same key again is answered `duplicate` and stores nothing new. Whether the form makes
a claim (a description, a usable e-mail or phone) is checked by intake after acceptance; a form that does
not is kept in quarantine with its reason (`no_contact`, `empty_description`)."""

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                              description="the form submission's own id (1–200 characters): "
                                                          "a retry with the same key is a duplicate")]


@router.post("/v1/forms/claim", status_code=202, summary="Accept the web claim form", description=DESCRIPTION,
             response_model=None,
             openapi_extra=json_body(WebForm, "the form's fields (events.md, channel web)"),
             responses={**ACCEPTED,
                        400: {"model": ErrorBody, "description": "not_json: the body is not JSON (nothing stored)"},
                        **OVERSIZE,
                        422: {"model": Refusal, "description": "bad_payload: the body is not a JSON object "
                                                               "(nothing stored); invalid_request: a bad "
                                                               "Idempotency-Key; bad_payload (kept in "
                                                               "quarantine): invalid Unicode in the form; "
                                                               "unstorable: nothing stored"},
                        **UNAVAILABLE})
async def post_form(request: Request, idempotency_key: IdempotencyKey = None, app: App = Depends(claimflow)):
    form = parse_json(await read_body(request, app.settings.max_event_bytes))
    if not isinstance(form, dict):
        raise ApiError(422, "bad_payload", f"the form must be a JSON object, not {type(form).__name__}",
                       event_id=idempotency_key)
    event_id = idempotency_key or "form-" + uuid.uuid4().hex
    line = envelope_line(event_id, "web", "site", app.clock.now().isoformat(), form)
    [outcome] = await accept(app, [line])
    return single_response(outcome)
