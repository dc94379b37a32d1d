"""The web shop's claim form (``events.md``, channel ``web``)."""
from __future__ import annotations

from datetime import date

from intake_worker.contacts import canonical_order_ref, guess_language, normalise_email, normalise_phone
from intake_worker.mentions import find_order_ref, find_resolution, find_sku
from shared.schema import (Attachment, Customer, Envelope, NormalisedClaim, QuarantineReason, Rejection,
                           Resolution)

#: Without these the form is not a claim: the wrong type quarantines the event.
NEEDED_FIELDS = ("description", "email", "phone")
R = QuarantineReason


def _clean(value) -> str | None:
    """Text of an optional field; a value of the wrong type (a list, an object) is left out."""
    if value is None or not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").strip()     # no database stores NUL in text
    return text or None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def _attachments(items) -> tuple[Attachment, ...]:
    """Attachment metadata; entries that are not objects are left out (the original stays in the inbox)."""
    if not isinstance(items, list):
        return ()
    items = [a for a in items if isinstance(a, dict)]
    return tuple(Attachment(filename=_clean(a.get("filename")), content_type=_clean(a.get("content_type")),
                            url=_clean(a.get("url")), size=a.get("size") if isinstance(a.get("size"), int)
                            else None) for a in items)


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    p = envelope.payload
    wrong = [f for f in NEEDED_FIELDS if p.get(f) is not None and not isinstance(p.get(f), (str, int))]
    if wrong:
        return Rejection(reason=R.BAD_PAYLOAD, message=f"web form fields {', '.join(wrong)} must be text")
    description, subject = _clean(p.get("description")), _clean(p.get("subject"))
    if not description:
        return Rejection(reason=R.EMPTY_DESCRIPTION, message="the form's description is empty: nothing says "
                                                             "what the problem is")
    email = normalise_email(p.get("email"))
    phone = normalise_phone(_clean(p.get("phone")), context.default_region)
    if not email and not phone:
        return Rejection(reason=R.NO_CONTACT, message="the form has neither a usable e-mail nor a phone number, "
                                                      "so nobody can answer the customer")
    wanted = _clean(p.get("desired_resolution"))
    resolution = wanted.lower() if wanted and wanted.lower() in {r.value for r in Resolution} else None
    text = f"{subject or ''}\n{description}"
    order_ref = canonical_order_ref(_clean(p.get("order_number"))) or find_order_ref(subject or "", description)
    return NormalisedClaim(
        event_id=envelope.event_id,
        source=envelope.source,
        channel=envelope.channel,
        received_at=envelope.received_at,
        customer=Customer(name=_clean(p.get("name")), email=email, phone=phone),
        order_ref=order_ref,
        sku=_clean(p.get("sku")) or find_sku(text),
        purchase_date=_date(p.get("purchase_date")),
        subject=subject,
        description=description,
        desired_resolution=resolution or find_resolution(text),
        attachments=_attachments(p.get("attachments")),
        language=guess_language(f"{subject or ''} {description}", p.get("locale")),
        channel_ids={"form_event_id": envelope.event_id},
    )
