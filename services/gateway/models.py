"""The shapes the gateway documents in its OpenAPI document. Request bodies are read as raw
bytes (their size is checked before parsing, and intake keeps them exactly as sent), so these
models describe them through ``openapi_extra`` rather than parse them."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.schema import Channel, Resolution

#: component schemas referenced from ``openapi_extra`` request bodies, merged into the document
BODY_COMPONENTS: dict[str, dict] = {}
REF = "#/components/schemas/{model}"


def json_body(schema: type[BaseModel] | dict, description: str) -> dict:
    """``openapi_extra`` describing a required JSON request body."""
    if isinstance(schema, type):
        full = schema.model_json_schema(ref_template=REF)
        BODY_COMPONENTS.update(full.pop("$defs", {}))
        BODY_COMPONENTS[schema.__name__] = full
        schema = {"$ref": REF.format(model=schema.__name__)}
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable code")
    message: str = Field(description="a sentence for a person")


class Refusal(ErrorBody):
    error: str = Field(description="the quarantine reason code of events.md (not_json, missing_field, "
                                   "unknown_channel, bad_timestamp, bad_payload, oversize, …)")
    event_id: str | None = Field(None, description="the event's id where it could be read")


class Accepted(BaseModel):
    event_id: str
    status: Literal["accepted", "duplicate"] = Field(
        description="accepted: written to the inbox; duplicate: this (source, event_id) was already there")


class ItemOutcome(BaseModel):
    event_id: str | None
    status: Literal["accepted", "duplicate", "quarantined"]
    error: str | None = Field(None, description="quarantined: the reason code")
    message: str | None = Field(None, description="quarantined: why")


class BatchAccepted(BaseModel):
    results: list[ItemOutcome] = Field(description="one per object of the array, in order")


class EnvelopeIn(BaseModel):
    """A channel event (events.md)."""
    model_config = ConfigDict(extra="allow")

    event_id: str = Field(min_length=1, max_length=200, description="unique per producer")
    channel: Channel
    source: str = Field(min_length=1, max_length=100, description="site, callcenter, mailbox, ozon, …")
    received_at: datetime = Field(description="ISO 8601 with an offset: when the producer received it")
    payload: dict[str, Any] = Field(description="the channel-native payload")


class FormAttachment(BaseModel):
    model_config = ConfigDict(extra="allow")

    filename: str | None = None
    content_type: str | None = None
    url: str | None = None


class WebForm(BaseModel):
    """The site's claim form (events.md, channel web). Only ``description`` and one contact are
    needed for a claim; intake checks that after acceptance and quarantines a form without them."""
    model_config = ConfigDict(extra="allow")

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    order_number: str | None = None
    purchase_date: date | None = None
    sku: str | None = None
    subject: str | None = None
    description: str | None = None
    desired_resolution: Resolution | None = None
    attachments: list[FormAttachment] | None = None
    locale: str | None = None


MARKETPLACE_BODY = {
    "anyOf": [
        {"type": "object", "description": "one return or claim, as the marketplace's seller API reports it"},
        {"type": "array", "items": {"type": "object"}, "description": "several of them"},
    ]
}


class Deadlines(BaseModel):
    first_response: datetime | None
    decision: datetime | None
    closure: datetime | None


class ClaimView(BaseModel):
    """A claim as its customer may see it: no personal data beyond what the caller proved."""
    claim_number: str
    status: str
    category: str | None
    department: str | None
    received_at: datetime
    deadlines: Deadlines


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


class NotReady(ErrorBody):
    checks: dict[str, str] = Field(description="each part: ok, or what failed")
