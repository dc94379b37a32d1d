"""Customer identity normalisation: the same person and order compare equal across channels."""
from __future__ import annotations

import pytest

from intake_worker.contacts import canonical_order_ref, guess_language, normalise_email, normalise_phone


@pytest.mark.parametrize("raw, region, expected", [
    ("8 (912) 345-67-89", "RU", "+79123456789"),      # Russian trunk prefix 8
    ("+7 959 862-35-38", "RU", "+79598623538"),
    ("89924400541", "RU", "+79924400541"),
    ("79124400541", "RU", "+79124400541"),            # country code without the plus
    ("  +7 (912) 345 67 89 ", "RU", "+79123456789"),
    ("912 345-67-89", "RU", "+79123456789"),          # national number without prefix
    ("8 800 555-35-35", "RU", "+78005553535"),
    ("+1.646.904.2799", "RU", "+16469042799"),        # a foreign number keeps its own country
    ("+1 (646) 904-2799", "US", "+16469042799"),
    ("(646) 904-2799", "US", "+16469042799"),
])
def test_normalise_phone_to_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


def test_the_same_russian_number_written_three_ways_is_one_phone():
    forms = ["8 (912) 345-67-89", "+7 912 345 67 89", "89123456789"]
    assert {normalise_phone(f, "RU") for f in forms} == {"+79123456789"}


@pytest.mark.parametrize("raw", ["not a phone", "", "   ", "12", "+7 12", "---", None, 89123456789, ["+79123456789"]])
def test_normalise_phone_garbage_is_none(raw):
    assert normalise_phone(raw, "RU") is None


@pytest.mark.parametrize("raw, expected", [
    ("Irina.Smirnova@Example.RU", "irina.smirnova@example.ru"),
    ("  irina@example.ru\t", "irina@example.ru"),
    ("IRINA@EXAMPLE.RU\n", "irina@example.ru"),
    ("john.doe+claims@Mail.Example.com", "john.doe+claims@mail.example.com"),
])
def test_normalise_email_folds_case_and_whitespace(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", [
    "not-an-email", "irina@", "@example.ru", "irina@@example.ru", "irina@example", "irina smirnova@example.ru",
    "irina@exa mple.ru", "", None, 42, "user@localhost",
])
def test_normalise_email_invalid_is_none(raw):
    assert normalise_email(raw) is None


@pytest.mark.parametrize("raw", ["№ 4815162", "ORD-4815162", "заказ 4815162", "Заказ №4815162", "#4815162",
                                 " 4815162 ", "order 4815162", 4815162])
def test_order_reference_spellings_are_one_order(raw):
    assert canonical_order_ref(raw) == "4815162"


@pytest.mark.parametrize("raw, expected", [
    ("54828976-9225-1", "54828976-9225-1"),          # an Ozon posting keeps its short tail
    ("Отправление 54828976-9225-1", "54828976-9225-1"),
    ("ab-12", "AB12"),                               # no long digit run: letters and digits, upper-case
])
def test_order_reference_shapes_kept(raw, expected):
    assert canonical_order_ref(raw) == expected


def test_different_orders_stay_different():
    assert canonical_order_ref("ORD-4815162") != canonical_order_ref("ORD-4815163")
    assert canonical_order_ref("54828976-9225-1") != canonical_order_ref("54828976-9225-2")


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", "№ #"])
def test_order_reference_blank_is_none(raw):
    assert canonical_order_ref(raw) is None


@pytest.mark.parametrize("text, hint, expected", [
    ("Чайник протекает после недели использования", None, "ru"),
    ("The kettle started leaking after a week", None, "en"),
    ("Заказ ORD-4815162: kettle KET-2201 течёт", None, "ru"),   # mostly Russian letters with a model name
    ("My order ORD-4815162 from Москва never arrived", None, "en"),
    ("kettle", "ru-RU", "ru"),                                  # a locale hint wins over the text
    ("чайник", "en_US", "en"),
    ("чайник", "EN", "en"),
    ("чайник", "de-DE", "ru"),                                  # an unsupported hint falls back to the text
    ("чайник", 7, "ru"),
    ("123-456 !!!", None, None),                                # no letters: no guess
    ("", None, None),
])
def test_guess_language(text, hint, expected):
    assert guess_language(text, hint) == expected
