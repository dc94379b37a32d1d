"""What a customer names in free text — an order number, an article code, the remedy they want,
a phone number — read the same way from a web form, an e-mail or a call's notes."""
from __future__ import annotations

import re

import phonenumbers

from intake_worker.contacts import canonical_order_ref, normalise_phone
from shared.schema import Resolution


ORDER_PATTERNS = (
    re.compile(r"\bORD[-\s]?(\d{4,})", re.I),
    re.compile(r"(?:заказ\w*|order)(?:\s*(?:number|num|no|nr|id|ref|is|номер|n|№|#|\?|:|-|\.))*\s*(\d{4,})\b",
               re.I),
    re.compile(r"номер\w*\s+(?:\w+\s+)?заказа(?:\s*[:\-№#])*\s*(\d{4,})\b", re.I),
    re.compile(r"(?<![\w№#])[№#]\s*(\d{4,})\b"),
    re.compile(r"(?:(?<=\s)|^)\?\s?(\d{5,9})\b", re.M),   # a № that koi8-r could not carry, read as '?'
)
_SKU = re.compile(r"\b(?!ORD-)([A-Z]{2,5}-\d{3,6})\b")
RESOLUTION_WORDS = {
    Resolution.REFUND: re.compile(
        r"\b(refund\w*|money back|reimburse\w*)\b|возврат\w*\s+(денег|денежных|средств|стоимости|оплаты)|"
        r"(верн|возвра)\w*\s+(мне\s+)?(деньги|денежные|средства|оплату|стоимость)|деньги\s+(назад|обратно)", re.I),
    Resolution.REPLACEMENT: re.compile(r"\b(replace\w*|exchange\w*|new one)\b|замен\w*|обмен\w*", re.I),
    Resolution.REPAIR: re.compile(r"\brepair\w*|ремонт\w*|отремонт\w*|почин\w*", re.I),
}


def find_order_ref(subject: str, *texts: str) -> str | None:
    """The order number the customer names ("заказ № 4815162", "order #4815162", "ORD-4815162", "номер
    заказа: 4815162"), in the subject first; a subject that is only a number is one too."""
    for text in (subject, *texts):
        for pattern in ORDER_PATTERNS:
            found = pattern.search(text)
            if found:
                return canonical_order_ref(found.group(1))
    bare = re.fullmatch(r"[№#]?\s*(\d{5,})", subject.strip())
    return canonical_order_ref(bare.group(1)) if bare else None


def find_resolution(text: str) -> Resolution | None:
    """The remedy the customer asks for, only when the words name exactly one."""
    named = [r for r, pattern in RESOLUTION_WORDS.items() if pattern.search(text)]
    return named[0] if len(named) == 1 else None


def find_phone(text: str, region: str) -> str | None:
    """The first phone number in the text (a signature's "тел. 8 912 …"), E.164."""
    text = re.sub(r"(?<![\w+.,/-])00(?=[1-9])", "+", text)     # 0044 …: the international prefix
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if sum(ch.isdigit() for ch in match.raw_string) < 10:    # order numbers, short codes
            continue
        phone = normalise_phone(match.raw_string, region)
        if phone:
            return phone
    return None


def find_sku(*texts: str) -> str | None:
    """An article code like ``KET-2201``."""
    for text in texts:
        found = _SKU.search(text)
        if found:
            return found.group(1)
    return None
