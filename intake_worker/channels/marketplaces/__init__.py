"""What the four marketplace normalisers share: reading the seller API's fields defensively, and
turning the customer's words, the marketplace's reason codes and the product into one claim.

Each marketplace module reads its own object into a :class:`Return`; :func:`claim_of` makes the
claim. A field of the wrong type raises :class:`BadPayload`, which the module turns into a
``bad_payload`` rejection: the event is kept whole for a person, never half-read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from intake_worker.channels.phone import clean_text, guess_resolution, is_text_like
from intake_worker.contacts import guess_language
from shared.schema import Attachment, Customer, Envelope, NormalisedClaim, QuarantineReason, Rejection

R = QuarantineReason
MAX_ID = 200          # an id longer than this is not one a marketplace issued
#: where a marketplace may put the buyer's name, when it shows it at all
BUYER_NAME_FIELDS = ("buyer_name", "buyerName", "buyer-name", "customer_name", "customerName", "customer-name",
                     "client_name", "clientName")


class BadPayload(Exception):
    """The payload is not the marketplace's object: the message says which field is wrong."""


def text(obj: dict, key: str, where: str = "") -> str | None:
    """An optional text field; a list or an object where text belongs is a wrong shape."""
    value = obj.get(key)
    if not is_text_like(value):
        raise BadPayload(f"{where}{key} must be text, not {type(value).__name__}")
    return clean_text(value)


def ident(obj: dict, key: str, where: str = "", required: bool = False) -> str | None:
    """An id: an integer or a short single-line text. Required ids make a missing one a bad payload."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and (found := clean_text(value)) and "\n" not in found and len(found) <= MAX_ID:
        return found
    if value is None and not required:
        return None
    shown = "missing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
    raise BadPayload(f"{where}{key} must be an id (a number or a short text); it is {shown}")


def obj(parent: dict, key: str, where: str = "") -> dict:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"{where}{key} must be an object, not {type(value).__name__}")
    return value


def items(parent: dict, key: str, where: str = "") -> list:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"{where}{key} must be a list, not {type(value).__name__}")
    return value


def day(value) -> date | None:
    """The date of an ISO date or timestamp ("2026-09-17", "2026-09-17T14:20:00Z") as written, or
    of a Russian-style "17.09.2026"; None when it is neither (an optional date is never required)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T].*)?", value):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if len(value) >= 10 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10]):
            return date.fromisoformat(value[:10]) if len(value) == 10 else datetime.fromisoformat(value).date()
    except ValueError:
        return None
    return None


def buyer_name(payload: dict) -> str | None:
    for key in BUYER_NAME_FIELDS:
        if isinstance(payload.get(key), str) and (name := clean_text(payload[key])):
            return name
    return None


_MEDIA = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
          "heic": "image/heic", "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}


def media(urls: list) -> tuple[Attachment, ...]:
    """Photos and videos by URL; a protocol-relative ``//host/…`` is read as https. Anything that is
    not a URL is left out (the original stays in the inbox)."""
    found = []
    for url in urls:
        url = clean_text(url) if isinstance(url, str) else None
        if not url or any(ch.isspace() for ch in url):
            continue
        url = "https:" + url if url.startswith("//") else url
        if not re.match(r"(?i)https?://\S", url):
            continue
        extension = url.split("?")[0].split("#")[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()
        found.append(Attachment(url=url, content_type=_MEDIA.get(extension)))
    return tuple(found)


def humanise(code: str) -> str:
    """``DAMAGED_BY_CARRIER`` → ``Damaged by carrier``; a code already in words is left as it is."""
    if re.fullmatch(r"[A-Z0-9_\-]+", code):
        words = code.replace("_", " ").replace("-", " ").strip().lower()
        return words[:1].upper() + words[1:]
    return code


@dataclass
class Return:
    """One marketplace return, read: what :func:`claim_of` needs, in the marketplace's terms."""
    claim_id: str
    customer_text: list[str] = field(default_factory=list)   # the buyer's own words, each field once
    reason_codes: list[str] = field(default_factory=list)    # the marketplace's codes or reason names
    reason_texts: list[str] = field(default_factory=list)    # the same, in words; "" for a code that says nothing
    product_name: str | None = None
    order_ref: str | None = None      # the order or posting number, canonical (canonical_order_ref)
    sku: str | None = None            # the seller's own article
    purchase_date: date | None = None
    buyer: str | None = None
    ids: dict[str, str | None] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


def _unique(values) -> list[str]:
    seen, kept = set(), []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return kept


def claim_of(envelope: Envelope, source: str, r: Return) -> NormalisedClaim | Rejection:
    """The claim: the customer's words (or, without any, the reason codes' words), the product named
    after them, and ids that are the same for every version of the return."""
    said = _unique(r.customer_text)
    description = "\n".join(said) or ". ".join(_unique(r.reason_texts))
    if not description:
        codes = f" (reason {', '.join(r.reason_codes)} says nothing)" if r.reason_codes else ""
        return Rejection(reason=R.EMPTY_DESCRIPTION, message=f"the {source} return {r.claim_id} has neither the "
                                                             f"customer's words nor a reason{codes}")
    language = guess_language(description)
    if r.product_name and r.product_name.casefold() not in description.casefold():
        description += f"\n{'Товар' if language == 'ru' else 'Item'}: {r.product_name}"
    ids = {"marketplace_claim_id": f"{source}:{r.claim_id}", **r.ids}
    return NormalisedClaim(
        event_id=envelope.event_id,
        source=envelope.source,
        channel=envelope.channel,
        received_at=envelope.received_at,
        customer=Customer(name=r.buyer),
        order_ref=r.order_ref,
        sku=r.sku,
        purchase_date=r.purchase_date,
        description=description,
        desired_resolution=guess_resolution("\n".join(said)),
        attachments=r.attachments,
        language=language,
        channel_ids={key: value for key, value in ids.items() if value},
        reason_codes=tuple(_unique(r.reason_codes)),
    )


def rejected(source: str, problem: BadPayload) -> Rejection:
    return Rejection(reason=R.BAD_PAYLOAD, message=f"not a {source} return as its seller API reports it: {problem}")
