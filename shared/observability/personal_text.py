"""Personal data in free text — e-mail addresses, phone numbers, people's names — found and
masked so that a log line keeps what helps debugging and nothing that identifies a customer:

- ``irina.smirnova@example.ru`` → ``i***@example.ru`` (the first character and the domain);
- ``8 (912) 345-67-89``, ``+7-912-345-67-89``, ``89123456789`` → ``+7 *** *** ** 89`` (the country
  code and the last two digits), found by libphonenumber's matcher: a number must be a *valid*
  number of Russia (or of the country its ``+`` names), and never overlaps a claim number
  (RK-2026-000123), an order number written ``ORD-…`` or ``№…`` (of any length), a date or a time,
  so those and ids are left alone; a ``+`` number of 10 or more digits is masked even when its
  range is unassigned (``+1 555 …``). A bare 10–11 digit number that is a valid Russian number
  (``89001234567``) is masked whatever it was meant to be;
- Russian first names, surnames and patronymics (OpenCorpora's ``Name``/``Surn``/``Patr`` tags,
  through pymorphy3) → ``***``. Names in Latin script are not recognised in free text: they are
  masked only under a personal key (``shared.observability.masking``)."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

EMAIL = re.compile(r"(?<![\w.+-])([\w+-][\w.+-]*)@([\w-]+(?:\.[\w-]+)+)")
#: seven digits or more, perhaps separated, not glued to a Latin letter or digit (libphonenumber's
#: matcher refuses those too): anything else cannot be a phone number and skips the matcher
_DIGITS = re.compile(r"(?<![A-Za-z0-9])(?:\d[\s().\-]{0,3}){6,}\d(?![A-Za-z0-9])")
#: what is known not to be a phone number: claim and order numbers, uuids, dates and times (a value
#: that is only one of these skips the matcher; a match that overlaps one is not a phone)
_NOT_PHONE = (r"RK-\d{4}-\d{6,}|(?:ORD-|№\s?)\d+|[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
              r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
              r"|\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?|\d{1,2}\.\d{1,2}\.\d{2,4}")
_SAFE = re.compile(_NOT_PHONE, re.I)
_PROTECTED = re.compile(r"(?<![\w.])(?:" + _NOT_PHONE + r")(?![\w])", re.I)
_CAPITALISED = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})
REGION = "RU"
MASK = "***"


def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def _masked_number(number: phonenumbers.PhoneNumber, raw: str) -> str:
    digits = [ch for ch in raw if ch.isdigit()]
    return f"+{number.country_code} *** *** ** {''.join(digits[-2:])}"


def mask_phone(value: str) -> str:
    """One value that should be a phone number (under a ``phone`` key): its masked form, or ``***``."""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        return MASK
    return _masked_number(number, value) if sum(ch.isdigit() for ch in value) >= 7 else MASK


def _phones(text: str) -> list[tuple[int, int, str]]:
    found = []
    taken = [m.span() for m in _PROTECTED.finditer(text)]

    def free(match) -> bool:
        return not any(s < match.end and match.start < e for s, e in taken)

    for match in phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.VALID):
        if free(match):
            found.append((match.start, match.end, _masked_number(match.number, match.raw_string)))
    taken += [(s, e) for s, e, _ in found]
    for match in phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE):
        international = match.raw_string.startswith("+") and sum(ch.isdigit() for ch in match.raw_string) >= 10
        if international and free(match):
            found.append((match.start, match.end, _masked_number(match.number, match.raw_string)))
    return sorted(found)


def mask_phones(text: str) -> str:
    if not _DIGITS.search(text) or _SAFE.fullmatch(text):
        return text
    pieces, last = [], 0
    for start, end, masked in _phones(text):
        pieces += [text[last:start], masked]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


@lru_cache(maxsize=1)
def _morphology():
    from shared.stemming import _morphology as shared_analyzer     # one dictionary per process
    return shared_analyzer()


@lru_cache(maxsize=65536)
def _name_likelihood(word: str) -> int:
    """2: a name by its most likely reading (Ирина, Смирнова, Петровна); 1: a name by a less
    likely one (Вера, Надежда, Роза); 0: not a name."""
    readings = _morphology().parse(word)
    if not readings:
        return 0
    if _NAME_TAGS & readings[0].tag.grammemes:
        return 2
    return 1 if any(_NAME_TAGS & r.tag.grammemes for r in readings[1:]) else 0


def mask_names(text: str) -> str:
    """Capitalised Cyrillic words that are names; a word that is only perhaps a name (Вера) is
    masked when it stands next to a certain one (Вера Смирнова)."""
    words = list(_CAPITALISED.finditer(text))
    if not words:
        return text
    likely = [max(_name_likelihood(part) for part in w.group().split("-")) for w in words]
    hidden = set()
    for i, (word, score) in enumerate(zip(words, likely)):
        if score == 2:
            hidden.add(i)
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and likely[j] == 1 and _adjacent(text, words[min(i, j)], words[max(i, j)]):
                    hidden.add(j)
    if not hidden:
        return text
    pieces, last = [], 0
    for i in sorted(hidden):
        pieces += [text[last:words[i].start()], MASK]
        last = words[i].end()
    return "".join(pieces) + text[last:]


def _adjacent(text: str, first, second) -> bool:
    return text[first.end():second.start()].strip(" ") == ""


_UPPER_CYRILLIC = re.compile(r"[А-ЯЁ]")
_SUSPECT = re.compile(r"@|[А-ЯЁ]|" + _DIGITS.pattern)     # one pass to let most values through


def mask_text(text: str) -> str:
    """``text`` with every e-mail address, phone number and Russian name in it masked."""
    if not _SUSPECT.search(text):
        return text
    if "@" in text:
        text = EMAIL.sub(lambda m: mask_email(m.group()), text)
    text = mask_phones(text)
    if _UPPER_CYRILLIC.search(text):
        text = mask_names(text)
    return text
