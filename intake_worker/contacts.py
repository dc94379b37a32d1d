"""Customer identity, normalised so that the same person and order compare equal across
channels: e-mail (email-validator, no DNS), phone in E.164 (phonenumbers), order references."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_DIGIT_RUN = re.compile(r"\d{4,}")
MAX_ORDER_REF = 64   # no retailer's order number is longer; a longer text is not one
_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def normalise_email(raw) -> str | None:
    """Lower-cased, syntax-checked address, or None when it is not an address."""
    if not isinstance(raw, str) or "@" not in raw:
        return None
    return _normalise_email(raw.strip())


@lru_cache(maxsize=65536)       # repeat customers write again and again; the check costs ~0.2 ms
def _normalise_email(raw: str) -> str | None:
    try:
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def normalise_phone(raw, default_region: str) -> str | None:
    """E.164 (``+79123456789``), or None when it is not a possible number. A Russian trunk
    prefix (``8 912 …``) is read in the default region."""
    if not isinstance(raw, str) or not any(ch.isdigit() for ch in raw):
        return None
    return _normalise_phone(raw.strip(), default_region)


@lru_cache(maxsize=65536)
def _normalise_phone(text: str, default_region: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) == 11 and digits[0] in "78" and default_region == "RU":
        text = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def canonical_order_ref(raw) -> str | None:
    """One value for ``№ 4815162``, ``ORD-4815162``, ``заказ 4815162``, ``#4815162``: the digit
    runs of four or more, joined by '-' (so marketplace postings ``54828976-9225-1`` keep their
    shape); an order number without such digits is kept as upper-case letters and digits."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    return _canonical(text)[:MAX_ORDER_REF] or None


def _canonical(text: str) -> str:
    runs = _DIGIT_RUN.findall(text)
    if runs:
        # a posting like 54828976-9225-1 keeps its short tail
        if re.fullmatch(r"\D*\d+(-\d+)+\D*", text):
            return re.search(r"\d+(-\d+)+", text).group(0)
        return "-".join(runs)
    return _ALNUM.sub("", text).upper()


def guess_language(text: str, hint=None) -> str | None:
    """``ru`` or ``en`` from a locale hint, else from the share of Cyrillic letters."""
    if isinstance(hint, str) and hint[:2].lower() in ("ru", "en"):
        return hint[:2].lower()
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    return "ru" if cyrillic / len(letters) >= 0.3 else "en"
