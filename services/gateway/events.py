"""``POST /v1/events``: one channel event envelope (events.md), exactly as a producer sends it."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.gateway.accepting import accept, single_response
from services.gateway.body import read_body
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import EnvelopeIn, Refusal, json_body
from services.gateway.responses import ACCEPTED, OVERSIZE, UNAVAILABLE
from shared.bootstrap import App

router = APIRouter(tags=["intake"])

DESCRIPTION = """Accept one channel event. The raw body is checked against the envelope of events.md and
written to the inbox before the answer; a redelivery (the same `source` and `event_id`) is answered
`duplicate` with the same status code and changes nothing.

An envelope that is refused (not JSON, a missing field, an unknown channel, a bad timestamp, a
payload that is not an object) is **also kept in quarantine**, whole, with its reason code and
message — the contract is that no event is ever dropped — and the answer gives that reason code in
`error`. An empty body, or one larger than the limit (413), is refused without being stored."""


@router.post("/v1/events", status_code=202, summary="Accept one channel event", description=DESCRIPTION,
             response_model=None,
             openapi_extra=json_body(EnvelopeIn, "one envelope (events.md)"),
             responses={**ACCEPTED,
                        400: {"model": Refusal, "description": "not_json: the body is not a JSON object "
                                                               "(kept in quarantine unless empty)"},
                        **OVERSIZE,
                        422: {"model": Refusal, "description": "the envelope is refused (missing_field, "
                                                               "unknown_channel, bad_timestamp, bad_payload); "
                                                               "it is kept in quarantine with that reason. "
                                                               "unstorable: a field the database cannot hold "
                                                               "(nothing stored)"},
                        **UNAVAILABLE})
async def post_event(request: Request, app: App = Depends(claimflow)):
    body = await read_body(request, app.settings.max_event_bytes)
    if not body.strip():
        raise ApiError(400, "not_json", "the body is empty; nothing was stored", event_id=None)
    [outcome] = await accept(app, [body])
    return single_response(outcome)
