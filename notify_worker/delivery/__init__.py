"""Delivery channels: SMTP (``smtp``), HTTP webhooks (``webhook``) and an HTTP SMS gateway (``sms``).

Each takes an :class:`Outgoing` and a :class:`Confirm`, which records the notice as sent: the SMTP
channel in steps around the final "." of DATA, the HTTP channels by calling it on a 2xx answer
(``notify_worker.confirmation``). A channel raises :class:`Transient` (try again later) or
:class:`Permanent` (dead-letter it); their messages name a class or a status code, never an address."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryError(Exception):
    transient = True


class Transient(DeliveryError):
    """Connection refused or dropped, a timeout, HTTP 5xx, 408 or 429, an SMTP 4xx reply."""
    transient = True


class Permanent(DeliveryError):
    """HTTP 4xx, an SMTP 5xx reply, a channel that is not configured, a template that fails."""
    transient = False


class LeaseLost(Exception):
    """``confirm`` found the notice no longer this worker's (its lease ran out and another took it):
    the channel abandons the message before the point of no return where it can."""


@dataclass(frozen=True)
class Outgoing:
    """One rendered notice to one address."""
    key: str                       # the idempotency key: Message-ID / Idempotency-Key header
    channel: str                   # email | sms | webhook
    address: str                   # an e-mail address, an E.164 phone, or a URL
    subject: str
    text: str
    html: str | None = None
    kind: str = ""
    claim_number: str | None = None
    thread: dict = field(default_factory=dict)       # e-mail: in_reply_to (a Message-ID without <>)
    headers: dict = field(default_factory=dict)      # webhook: the role's own headers
    data: dict = field(default_factory=dict)         # webhook: the notice's facts (level, target, …)


class Confirm(Protocol):
    def __call__(self) -> None: ...          # all three steps at once

    def prepare(self) -> None: ...           # LeaseLost if this try no longer holds the notice

    def begin_commit(self) -> None: ...

    def end_commit(self) -> None: ...


class Channel(Protocol):
    def send(self, message: Outgoing, confirm: Confirm) -> None: ...

    def close(self) -> None: ...
