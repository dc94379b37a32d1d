"""Claim numbers RK-<year>-<serial>: what the customer is told and quotes back."""
from __future__ import annotations

import pytest

from shared.claim_number import format_claim_number, parse_claim_number


@pytest.mark.parametrize("year, serial, text", [
    (2026, 1, "RK-2026-000001"),
    (2026, 42, "RK-2026-000042"),
    (2026, 999_999, "RK-2026-999999"),
    (2026, 1_000_000, "RK-2026-1000000"),          # past a million: more digits, nothing truncated
    (2027, 12_345_678, "RK-2027-12345678"),
])
def test_format_and_parse_round_trip(year, serial, text):
    assert format_claim_number(year, serial) == text
    assert parse_claim_number(text) == (year, serial)


def test_numbers_sort_within_a_year_while_six_digits():
    numbers = [format_claim_number(2026, n) for n in (9, 10, 99, 100, 123_456)]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize("text, expected", [
    ("  RK-2026-000042 ", (2026, 42)),             # as pasted from an e-mail
    ("RK-2026-000042\n", (2026, 42)),
])
def test_parse_tolerates_surrounding_whitespace(text, expected):
    assert parse_claim_number(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "RK-2026-42", "RK-2026-00042", "rk-2026-000042", "RK 2026 000042", "RK-26-000042",
    "RK-2026-000042x", "xRK-2026-000042", "RK-2026-", "RK--000042", "RK-2026-000042-1", "Заявка 42",
    "RK-2026-0000 42", "RK-ABCD-000042", "RK-2026-" + "9" * 13, "RK-2026-" + "9" * 4400,
])
def test_garbage_is_none(text):
    assert parse_claim_number(text) is None
