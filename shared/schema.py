"""The claim schema: the envelope every channel event arrives in, the normalised claim,
and the closed vocabularies of the contracts.

Categories and departments are *not* enums here: they belong to the retailer's policy file
(``policy.md``: "the code holds no department name"), so they are plain strings checked
against the loaded :class:`shared.policy.Policy`.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Channel(str, enum.Enum):
    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    MARKETPLACE = "marketplace"


class Status(str, enum.Enum):
    REGISTERED = "registered"
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    DECIDED = "decided"
    REJECTED = "rejected"
    EXECUTED = "executed"
    CLOSED = "closed"
    ARCHIVED = "archived"
    REOPENED = "reopened"


class Resolution(str, enum.Enum):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    DISCOUNT = "discount"
    COMPENSATION = "compensation"


class Priority(str, enum.Enum):
    NORMAL = "normal"
    HIGH = "high"


class QuarantineReason(str, enum.Enum):
    """Reason codes of ``events.md``; their meaning never changes. The last two are ours."""
    NOT_JSON = "not_json"
    MISSING_FIELD = "missing_field"
    UNKNOWN_CHANNEL = "unknown_channel"
    BAD_PAYLOAD = "bad_payload"
    BAD_TIMESTAMP = "bad_timestamp"
    NO_CONTACT = "no_contact"
    EMPTY_DESCRIPTION = "empty_description"
    UNDECODABLE_EMAIL = "undecodable_email"
    OVERSIZE = "oversize"
    UNSUPPORTED_CHANNEL = "unsupported_channel"   # a known channel this build cannot normalise yet
    PROCESSING_ERROR = "processing_error"         # a normaliser failed on it: kept for a retry after a fix


class Envelope(BaseModel):
    """A channel event as ``events.md`` defines it, after validation."""
    model_config = ConfigDict(frozen=True)

    event_id: str = Field(min_length=1, max_length=200)
    channel: Channel
    source: str = Field(min_length=1)
    received_at: datetime
    payload: dict


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None = None
    email: str | None = None      # normalised: lower-case domain, validated syntax
    phone: str | None = None      # E.164


class Attachment(BaseModel):
    """Attachment metadata. ``content`` carries the bytes from normaliser to blob store and is
    never serialised with the claim."""
    model_config = ConfigDict(frozen=True)

    filename: str | None = None
    content_type: str | None = None
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    content: bytes | None = Field(default=None, exclude=True, repr=False)


class NormalisedClaim(BaseModel):
    """What every channel's normaliser produces: one customer's complaint, channel-neutral."""
    model_config = ConfigDict(frozen=True)

    event_id: str
    source: str
    channel: Channel
    received_at: datetime
    customer: Customer
    order_ref: str | None = None
    sku: str | None = None
    purchase_date: date | None = None
    subject: str | None = None
    description: str
    desired_resolution: Resolution | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None
    #: the channel's own ids, for tracing and deduplication: ``message_id`` (e-mail), ``call_id``
    #: (phone), ``marketplace_claim_id`` and ``posting_number`` (marketplaces), …
    channel_ids: dict[str, str] = Field(default_factory=dict)
    #: e-mail: the Message-IDs this message answers (In-Reply-To, then References), without <>
    references: tuple[str, ...] = ()
    #: marketplaces: the marketplace's own reason codes or names, kept beside the customer's words
    reason_codes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """What the customer wrote, subject first: the input of classification."""
        return "\n".join(part for part in (self.subject, self.description) if part)


class Rejection(BaseModel):
    """Why an event cannot become a claim: a contract reason code and a sentence for a person."""
    model_config = ConfigDict(frozen=True)

    reason: QuarantineReason
    message: str


class Ignored(BaseModel):
    """An event that is recorded but is neither a claim nor bad input (an automatic e-mail reply)."""
    model_config = ConfigDict(frozen=True)

    reason: str
    message: str


class Deadlines(BaseModel):
    model_config = ConfigDict(frozen=True)

    first_response: datetime
    decision: datetime
    closure: datetime


class Classification(BaseModel):
    """The routing decision for one claim, with the evidence that made it."""
    model_config = ConfigDict(frozen=True)

    category: str | None           # None while the claim waits in triage for a person to read it
    department: str
    priority: Priority
    confidence: float
    evidence: tuple[str, ...] = ()
