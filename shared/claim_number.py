"""Claim numbers ``RK-<year>-<number>``: six digits, more once a year passes a million claims (up
to twelve: anything longer is not a claim number, and must answer 404 rather than overflow)."""
from __future__ import annotations

import re

PATTERN = re.compile(r"^RK-(\d{4})-(\d{6,12})$")


def format_claim_number(year: int, serial: int) -> str:
    return f"RK-{year}-{serial:06d}"


def parse_claim_number(text: str) -> tuple[int, int] | None:
    match = PATTERN.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None
