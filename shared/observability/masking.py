"""The structlog processor that keeps personal data out of every log line, whatever a caller
passed: ``configure_logging`` puts it before the renderer for every format, and a filter does the
same for lines of libraries that log through the standard library (dramatiq, kombu).

Two rules, applied to the event's values, nested dicts, lists and tuples included:

1. a value under a personal key is masked whole, whatever it looks like: e-mail keys keep
   ``i***@example.ru``, phone keys ``+7 *** *** ** 67``, names and addresses become ``***``
   (``None`` stays ``None``: "no phone" is worth knowing). Personal keys: ``email``, ``phone``,
   ``name``, ``customer_name``, ``address``, … (:data:`PERSONAL_KEYS`), any key ending in
   ``email``/``phone``, and ``<person>_name`` (``sender_name``, ``first_name``, …);
2. every other string is scanned for e-mail addresses, phone numbers and Russian names
   (:mod:`shared.observability.personal_text`), which are masked where they stand.

Keys are masked, not dropped: that a line had a phone is kept, the number is not. Claim numbers,
event ids, order numbers and timestamps pass unchanged."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

from shared.observability.personal_text import MASK, mask_email, mask_phone, mask_text

PERSONAL_KEYS = frozenset({
    "name", "names", "full_name", "fullname", "first_name", "last_name", "middle_name", "surname", "patronymic",
    "customer", "customer_name", "address", "street", "postal_address", "home_address", "passport",
    "email", "emails", "e_mail", "mail", "phone", "phones", "telephone", "tel", "mobile", "msisdn", "caller_number",
})
_EMAIL_SUFFIXES = ("email", "e_mail", "mail_address")
_PHONE_SUFFIXES = ("phone", "phone_number", "caller_number", "msisdn", "mobile")
_PERSON_WORDS = frozenset({"customer", "client", "buyer", "sender", "caller", "contact", "recipient", "user",
                           "first", "last", "middle", "full", "person"})
_UNTOUCHED = (bool, int, float, Decimal, datetime, date, UUID, Enum, type(None))
MAX_DEPTH = 12
#: most values repeat from line to line (event names, departments, claim numbers, ids)
_mask_short = lru_cache(maxsize=8192)(mask_text)


def _key(key) -> str:
    return str(key).strip().lower().replace("-", "_")


@lru_cache(maxsize=4096)
def personal_kind(key) -> str | None:
    """``"email"``, ``"phone"`` or ``"other"`` for a personal key; None for any other key."""
    k = _key(key)
    if k.endswith(_EMAIL_SUFFIXES) or k in ("mail", "emails"):
        return "email"
    if k.endswith(_PHONE_SUFFIXES) or k in ("tel", "telephone", "phones"):
        return "phone"
    if k in PERSONAL_KEYS:
        return "other"
    if k.endswith("_name") and k[:-5] in _PERSON_WORDS:
        return "other"
    return None


def _mask_personal(value, kind: str, depth: int):
    """A value under a personal key: every leaf masked by the key's kind (or by its own key)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {k: _mask_personal(v, personal_kind(k) or kind, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)) and depth < MAX_DEPTH:
        return [_mask_personal(v, kind, depth + 1) for v in value]
    text = str(value)
    if kind == "email" and "@" in text:
        return mask_email(text.strip())
    if kind == "phone":
        return mask_phone(text)
    return MASK


def mask_value(value, key=None, depth: int = 0):
    """``value`` (found under ``key``) with its personal data masked; containers are copied."""
    if key is not None:
        kind = personal_kind(key)
        if kind is not None:
            return _mask_personal(value, kind, depth)
    if isinstance(value, str):
        return _mask_short(value) if len(value) <= 200 else mask_text(value)
    if isinstance(value, _UNTOUCHED):
        return value
    if depth >= MAX_DEPTH:
        return MASK
    if isinstance(value, Mapping):
        return {k: mask_value(v, k, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v, None, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_value(v, None, depth + 1) for v in value)
    if isinstance(value, (set, frozenset)):
        return [mask_value(v, None, depth + 1) for v in value]
    text = str(value)                 # any other object is rendered by its text: scan that
    masked = mask_text(text)
    return value if masked == text else masked


def mask_personal_data(logger, method_name: str, event_dict: dict) -> dict:
    """structlog processor: the event with personal data masked (see the module's docstring)."""
    return {key: mask_value(value, key) for key, value in event_dict.items()}


class MaskingFilter(logging.Filter):
    """The same for standard-library records: the formatted message is masked in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:   # noqa: BLE001 - a malformed record: leave it to logging's own handling
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
