"""Personal data never reaches a log line: e-mails, phones and names are masked wherever they
stand (free text, nested structures, personal keys), while the ids people search logs by —
claim numbers, event ids, order numbers, timestamps — come through unchanged."""
from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.observability.logging import configure_logging
from shared.observability.masking import mask_personal_data, mask_value, personal_kind


@pytest.fixture
def lines():
    """Log through the configured JSON logger; returns a function giving the lines written so far."""
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    configure_logging("WARNING", "console")


def masked(**event) -> dict:
    return mask_personal_data(None, "info", dict(event))


# --- e-mails ------------------------------------------------------------------------------------

def test_an_email_in_free_text_keeps_its_first_letter_and_domain(lines):
    structlog.get_logger("t").info("reply.failed", detail="SMTP refused irina.smirnova@example.ru: mailbox full")
    [line] = lines()
    assert line["detail"] == "SMTP refused i***@example.ru: mailbox full"
    assert "smirnova" not in json.dumps(line)


@pytest.mark.parametrize("text, expected", [
    ("<Irina.Smirnova+claims@Mail.Example.RU>", "<I***@Mail.Example.RU>"),
    ("two: a@b.ru, c.d@e-f.com.", "two: a***@b.ru, c***@e-f.com."),
    ("кириллица: иван@почта.рф", "кириллица: и***@почта.рф"),
])
def test_every_email_in_a_text_is_masked(text, expected):
    assert masked(detail=text)["detail"] == expected


# --- phones -------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["8 (900) 123-45-67", "+7-900-123-45-67", "89001234567", "+7 900 123 45 67",
                                   "+7 (900) 1234567", "8-900-123-45-67", "+79001234567", "7 900 123-45-67"])
def test_russian_phones_in_any_format_are_masked_to_the_country_code_and_last_digits(phone):
    text = f"Клиент просит перезвонить по номеру {phone} после 18:00"
    assert masked(note=text)["note"] == "Клиент просит перезвонить по номеру +7 *** *** ** 67 после 18:00"


@pytest.mark.parametrize("phone, country", [("+44 20 7946 0958", "+44"), ("+1 (555) 123-4567", "+1"),
                                            ("+49 30 12345678", "+49"), ("+375 29 123-45-58", "+375")])
def test_international_phones_are_masked(phone, country):
    note = masked(note=f"call {phone}.")["note"]
    assert note.startswith(f"call {country} *** ") and note.endswith(f" {phone[-2:]}.")


# --- names and personal keys -------------------------------------------------------------------

def test_personal_keys_are_masked_whole_whatever_they_hold(lines):
    log = structlog.get_logger("t")
    log.info("claim.debug", customer_name="Mary Smith", name="Ирина Смирнова", email="anna@customer.test",
             phone="+79123456789", address="Москва, ул. Тверская, д. 1", customer_phone=None)
    [line] = lines()
    assert (line["customer_name"], line["name"], line["address"]) == ("***", "***", "***")
    assert (line["email"], line["phone"], line["customer_phone"]) == ("a***@customer.test", "+7 *** *** ** 89", None)
    text = json.dumps(line, ensure_ascii=False)
    for personal in ("Mary", "Smith", "Ирина", "anna@", "9123456789", "Тверская"):
        assert personal not in text


@pytest.mark.parametrize("text, expected", [
    ("Звонила Ирина Смирнова, просит замену", "Звонила *** ***, просит замену"),
    ("Иван Петрович Сидоров недоволен", "*** *** *** недоволен"),
    ("Вера Иванова и Брак чайника", "*** *** и Брак чайника"),     # «Вера» only beside a certain name
    ("Вера в лучшее", "Вера в лучшее"),
    ("Москва, склад Заказ Поддержка", "Москва, склад Заказ Поддержка"),
])
def test_russian_names_in_free_text_are_masked_and_other_capitalised_words_are_not(text, expected):
    assert masked(reason=text)["reason"] == expected


def test_nested_structures_are_masked_at_every_depth():
    event = masked(payload={"customer": {"name": "Ольга Кузнецова", "email": "olga@example.ru",
                                         "phones": ["+79001112233", "8 912 345-67-89"]},
                            "notes": [{"text": "перезвонить 8 (900) 123-45-67"}, ("irina@example.ru", 42)],
                            "order_number": "ORD-4815162"})
    payload = event["payload"]
    assert payload["customer"] == {"name": "***", "email": "o***@example.ru",
                                   "phones": ["+7 *** *** ** 33", "+7 *** *** ** 89"]}
    assert payload["notes"] == [{"text": "перезвонить +7 *** *** ** 67"}, ("i***@example.ru", 42)]
    assert payload["order_number"] == "ORD-4815162"


@pytest.mark.parametrize("key, kind", [("email", "email"), ("sender_email", "email"), ("customer_phone", "phone"),
                                       ("Caller-Number", "phone"), ("customer_name", "other"), ("first_name", "other"),
                                       ("address", "other"), ("queue_name", None), ("event_id", None),
                                       ("claim_number", None), ("reply_to", None), ("addresses", None)])
def test_which_keys_are_personal(key, kind):
    assert personal_kind(key) == kind


# --- what must come through unchanged ----------------------------------------------------------

IDS = {"claim_number": "RK-2026-000123", "event_id": "c-2026-11-20-000123", "other_event": "web-272e1f51e38a",
       "marketplace_event": "wb-claim-df77e37d-2ccd-4574-b86e-72fc4783a641-v0", "smtp": "smtp-3a9f0b1c2d3e4f5a6b7c8d9e",
       "order_ref": "ORD-1234567", "order": "№3099525", "note": "заказ №3099525 от 2026-11-02, ORD-1234567",
       "at": "2026-11-02T10:00:00.123456+03:00", "utc": "2026-11-02 07:00:00Z", "sku": "KET-2201",
       "message_id": "3f2a9c1e-8d4b-4e2a-9b1c-7d6e5f4a3b2c", "correlation_id": "cf-0123456789abcdef01234567",
       "count": 10_000_000_000, "ratio": 0.97, "event_ids": ["ev-1", "ev-2"], "path": "/v1/claims/RK-2026-000123"}


def test_ids_orders_and_timestamps_are_not_mangled(lines):
    structlog.get_logger("t").info("claim.registered", **IDS)
    [line] = lines()
    assert {k: line[k] for k in IDS} == IDS
    assert line["event"] == "claim.registered" and line["timestamp"].endswith("Z")


@settings(max_examples=200, deadline=None)
@given(year=st.integers(2000, 2099), serial=st.integers(0, 10**9), order=st.integers(10**5, 10**8 - 1),
       at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
       offset=st.integers(-12, 14))
def test_no_claim_number_order_number_or_timestamp_is_ever_changed(year, serial, order, at, offset):
    stamp = at.replace(tzinfo=timezone(timedelta(hours=offset))).isoformat()
    text = f"RK-{year}-{serial:06d} заказ №{order} ORD-{order} at {stamp}"
    assert mask_value(text) == text
    assert mask_value(f"RK-{year}-{serial:06d}") == f"RK-{year}-{serial:06d}"


@settings(max_examples=200, deadline=None)
@given(code=st.sampled_from(["900", "912", "926", "985", "495", "812"]), rest=st.integers(0, 9_999_999),
       form=st.sampled_from(["8 ({c}) {a}-{b}-{d}", "+7-{c}-{a}-{b}-{d}", "8{c}{a}{b}{d}", "+7 {c} {a} {b} {d}"]))
def test_any_russian_number_in_any_format_is_masked(code, rest, form):
    digits = f"{rest:07d}"
    phone = form.format(c=code, a=digits[:3], b=digits[3:5], d=digits[5:])
    out = mask_value(f"тел. {phone}, спросить")
    assert out == f"тел. +7 *** *** ** {digits[-2:]}, спросить"


# --- every format, and the standard library ---------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "console"])
def test_masking_applies_to_every_format(fmt):
    stream = io.StringIO()
    configure_logging("INFO", fmt, stream=stream)
    try:
        structlog.get_logger("t").info("note", text="irina@example.ru 8 (900) 123-45-67", customer_name="Анна")
    finally:
        configure_logging("WARNING", "console")
    out = stream.getvalue()
    assert "i***@example.ru" in out and "+7 *** *** ** 67" in out
    assert "irina@" not in out and "123-45-67" not in out and "Анна" not in out


def test_an_exception_message_is_masked_too(lines):
    try:
        raise ValueError("no such recipient: irina@example.ru, +7 912 345-67-89")
    except ValueError:
        structlog.get_logger("t").exception("send.failed")
    [line] = lines()
    assert "irina@" not in line["exception"] and "345-67-89" not in line["exception"]
    assert "i***@example.ru" in line["exception"]


def test_standard_library_records_are_masked():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    configure_logging("INFO", "json", stream=stream)      # the filter goes on every handler of the root
    try:
        logging.getLogger("kombu.test").warning("connection to %s lost, retrying %s", "irina@example.ru",
                                                "8 (900) 123-45-67")
    finally:
        root.removeHandler(handler)
        configure_logging("WARNING", "console")
    out = stream.getvalue()
    assert "connection to i***@example.ru lost, retrying +7 *** *** ** 67" in out and "irina@" not in out
