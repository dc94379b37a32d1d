"""OpenAPI ``responses`` entries shared by the routes."""
from __future__ import annotations

from services.gateway.errors import RETRY_AFTER_SECONDS
from services.gateway.models import Accepted, ErrorBody, Refusal

UNAVAILABLE = {503: {"model": ErrorBody, "description": "the database (or broker) cannot be reached: nothing "
                                                         "was accepted; retry after the given seconds",
                     "headers": {"Retry-After": {"description": "seconds to wait before retrying",
                                                 "schema": {"type": "integer",
                                                            "example": RETRY_AFTER_SECONDS}}}}}
OVERSIZE = {413: {"model": Refusal, "description": "the body is larger than the configured limit "
                                                    "(CLAIMFLOW_MAX_EVENT_BYTES)"}}
INVALID_REQUEST = {422: {"model": ErrorBody, "description": "a header or parameter is invalid"}}
ACCEPTED = {202: {"model": Accepted, "description": "written to the inbox (accepted), or already there "
                                                    "(duplicate: the same source and event_id); intake "
                                                    "registers the claim shortly"}}
