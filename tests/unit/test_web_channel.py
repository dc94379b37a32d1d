"""The web claim form, end to end through intake_worker.channels.normalise."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from intake_worker.channels import NormaliseContext, normalise
from shared.schema import (Attachment, Channel, Envelope, NormalisedClaim, QuarantineReason as R, Rejection,
                           Resolution)
from tests.helpers import claim_of, rejected

RU = NormaliseContext("RU")
RECEIVED = datetime(2026, 11, 12, 10, 15, tzinfo=timezone(timedelta(hours=3)))

FORM = {
    "name": "  Ирина Смирнова ", "email": "Irina.Smirnova@Example.ru", "phone": "8 (912) 345-67-89",
    "order_number": "ORD-4815162", "purchase_date": "2026-10-03", "sku": "KET-2201",
    "subject": "Чайник протекает", "description": "  Через неделю после покупки чайник начал течь снизу.  ",
    "desired_resolution": "replacement",
    "attachments": [{"filename": "photo1.jpg", "content_type": "image/jpeg", "url": "https://cdn.example.ru/p1.jpg",
                     "size": 48213}],
    "locale": "ru",
}


def web(payload: dict, channel: Channel = Channel.WEB, **replace) -> Envelope:
    return Envelope(event_id="web-000777", channel=channel, source="site", received_at=RECEIVED,
                    payload={**payload, **replace})


def test_full_form_is_mapped_field_by_field():
    claim = claim_of(normalise(web(FORM), RU))
    assert (claim.event_id, claim.source, claim.channel, claim.received_at) == \
        ("web-000777", "site", Channel.WEB, RECEIVED)
    assert claim.customer.name == "Ирина Смирнова"
    assert claim.customer.email == "irina.smirnova@example.ru"
    assert claim.customer.phone == "+79123456789"
    assert claim.order_ref == "4815162"
    assert claim.sku == "KET-2201"
    assert claim.purchase_date == date(2026, 10, 3)
    assert claim.subject == "Чайник протекает"
    assert claim.description == "Через неделю после покупки чайник начал течь снизу."
    assert claim.desired_resolution is Resolution.REPLACEMENT
    assert claim.attachments == (Attachment(filename="photo1.jpg", content_type="image/jpeg",
                                            url="https://cdn.example.ru/p1.jpg", size=48213),)
    assert claim.language == "ru"
    assert claim.channel_ids == {"form_event_id": "web-000777"}
    assert claim.text == "Чайник протекает\nЧерез неделю после покупки чайник начал течь снизу."


def test_minimal_form_description_and_one_contact():
    claim = claim_of(normalise(web({"description": "The kettle leaks", "phone": "+1.646.904.2799"}), RU))
    assert claim.customer.phone == "+16469042799" and claim.customer.email is None
    assert (claim.order_ref, claim.sku, claim.purchase_date, claim.subject, claim.desired_resolution) == \
        (None, None, None, None, None)
    assert claim.attachments == ()
    assert claim.language == "en"


def test_numbers_typed_as_json_numbers_still_count():
    claim = claim_of(normalise(web(FORM, phone=89123456789, order_number=4815162), RU))
    assert claim.customer.phone == "+79123456789" and claim.order_ref == "4815162"


@pytest.mark.parametrize("replace", [
    {"email": None, "phone": None},
    {"email": "", "phone": ""},
    {"email": "irina-at-example.ru", "phone": "not a phone"},
    {"email": "   ", "phone": "12"},
])
def test_no_usable_contact(replace):
    rejected(normalise(web(FORM, **replace), RU), R.NO_CONTACT)


@pytest.mark.parametrize("replace, email, phone", [
    ({"email": "broken@", "phone": "89123456789"}, None, "+79123456789"),
    ({"email": "irina@example.ru", "phone": "garbage"}, "irina@example.ru", None),
])
def test_one_usable_contact_is_enough(replace, email, phone):
    claim = claim_of(normalise(web(FORM, **replace), RU))
    assert (claim.customer.email, claim.customer.phone) == (email, phone)


@pytest.mark.parametrize("description", [None, "", "   ", "\n\t  \n", True])
def test_empty_description(description):
    payload = {k: v for k, v in FORM.items() if k != "description"}
    if description is not None:
        payload["description"] = description
    rejected(normalise(web(payload), RU), R.EMPTY_DESCRIPTION)


def test_empty_description_even_when_the_subject_says_something():
    rejected(normalise(web(FORM, description="  "), RU), R.EMPTY_DESCRIPTION)


@pytest.mark.parametrize("field, value", [
    ("description", ["Чайник", "течёт"]),
    ("description", {"text": "Чайник течёт"}),
    ("email", ["irina@example.ru"]),
    ("phone", {"number": "+79123456789"}),
    ("description", 3.5),
])
def test_needed_field_of_the_wrong_type_is_bad_payload(field, value):
    result = rejected(normalise(web(FORM, **{field: value}), RU), R.BAD_PAYLOAD)
    assert field in result.message


@pytest.mark.parametrize("replace, check", [
    ({"name": ["Ирина"]}, lambda c: c.customer.name is None),
    ({"subject": {"x": 1}}, lambda c: c.subject is None),
    ({"sku": [1, 2]}, lambda c: c.sku is None),
    ({"attachments": "photo1.jpg"}, lambda c: c.attachments == ()),
    ({"attachments": {"filename": "photo1.jpg"}}, lambda c: c.attachments == ()),
    ({"attachments": ["photo1.jpg", {"filename": "a.png"}]}, lambda c: [a.filename for a in c.attachments] == ["a.png"]),
    ({"purchase_date": "03.10.2026"}, lambda c: c.purchase_date is None),
])
def test_optional_field_of_the_wrong_shape_is_left_out_not_fatal(replace, check):
    # web.py (current): only description/email/phone of the wrong type quarantine the event;
    # a malformed optional field (incl. attachments that are not a list) is dropped.
    claim = claim_of(normalise(web(FORM, **replace), RU))
    assert check(claim)
    assert claim.description == "Через неделю после покупки чайник начал течь снизу."


@pytest.mark.parametrize("wanted, expected", [
    ("refund", Resolution.REFUND), ("Refund", Resolution.REFUND), (" REPAIR ", Resolution.REPAIR),
    ("discount", Resolution.DISCOUNT), ("compensation", Resolution.COMPENSATION),
    ("money back", None), ("возврат", None), ("", None), (None, None),
])
def test_desired_resolution(wanted, expected):
    claim = claim_of(normalise(web(FORM, desired_resolution=wanted), RU))
    assert claim.desired_resolution == expected


def test_language_from_text_when_no_locale():
    claim = claim_of(normalise(web(FORM, locale=None, subject="Kettle leaks",
                                   description="It started leaking after one week"), RU))
    assert claim.language == "en"


@pytest.mark.parametrize("channel", list(Channel))
def test_a_channel_this_build_cannot_read_is_quarantined_as_unsupported(channel, monkeypatch):
    from intake_worker.channels import NORMALISERS
    monkeypatch.delitem(NORMALISERS, channel, raising=False)
    result = rejected(normalise(web(FORM, channel=channel), RU), R.UNSUPPORTED_CHANNEL)
    assert channel.value in result.message
