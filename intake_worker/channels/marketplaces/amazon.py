"""Amazon: one row of the seller's returns report, field names unchanged (``order-id``,
``amazon-rma-id``, ``return-reason``, ``customer-comments``, …).

The RMA id is the claim id. Report rows reach us with hyphenated names; a row keyed by the
report's column titles ("Amazon RMA ID") or with underscores is read the same way.
"""
from __future__ import annotations

import re

from intake_worker.channels.marketplaces import (BadPayload, Return, buyer_name, claim_of, day, humanise, ident,
                                                 rejected, text)
from intake_worker.contacts import canonical_order_ref
from shared.schema import Envelope, NormalisedClaim, Rejection

SOURCE = "amazon"
#: the report's return reasons, in words; a code not listed is read from its own words
REASONS = {
    "DEFECTIVE": "Item is defective or does not work",
    "DAMAGED_BY_CARRIER": "Item arrived damaged (damaged by the carrier)",
    "DAMAGED_BY_FC": "Item damaged at the fulfilment centre",
    "APPARENT_DAMAGE": "Item arrived damaged",
    "QUALITY_UNACCEPTABLE": "Product performance or quality is not adequate",
    "NOT_AS_DESCRIBED": "Item not as described on the website",
    "AMZ-PG-BAD-DESC": "Item not as described on the website",
    "WRONG_ITEM": "Wrong item was sent",
    "SWITCHEROO": "Wrong item was sent",
    "MISSING_PARTS": "Missing parts or accessories, the set is incomplete",
    "MISSED_ESTIMATED_DELIVERY": "Item arrived too late",
    "EXTRA_ITEM": "Received an extra item",
    "NOT_COMPATIBLE": "Item is not compatible",
    "UNAUTHORIZED_PURCHASE": "Unauthorised purchase",
    "ORDERED_WRONG_ITEM": "Bought by mistake",
    "UNWANTED_ITEM": "No longer needed",
    "FOUND_BETTER_PRICE": "Better price available",
    # reasons that do not say what is wrong
    "NO_REASON_GIVEN": "", "OTHER": "", "UNDELIVERABLE_UNKNOWN": "",
}


def _key(name) -> str:
    return str(name).strip().lower().replace(" ", "-").replace("_", "-")


def _reason_text(code: str) -> str:
    """The words of a reason code; ``CR-DEFECTIVE`` (the report's prefix) is ``DEFECTIVE``."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", code):
        return code                                   # already words
    bare = code.upper()
    for prefix in ("CR-", "AMZ-PG-APP-", "AMZ-PG-"):
        if bare not in REASONS and bare.startswith(prefix):
            bare = bare[len(prefix):]
    return REASONS[bare] if bare in REASONS else humanise(bare)


def read(row: dict) -> Return:
    p = {_key(name): value for name, value in row.items()}
    reason = text(p, "return-reason")
    return Return(
        claim_id=ident(p, "amazon-rma-id", required=True),
        customer_text=[said] if (said := text(p, "customer-comments")) else [],
        reason_codes=[reason] if reason else [],
        reason_texts=[_reason_text(reason)] if reason else [],
        product_name=text(p, "item-name"),
        order_ref=canonical_order_ref(ident(p, "order-id")),
        sku=ident(p, "merchant-sku"),
        purchase_date=day(p.get("order-date")),
        buyer=buyer_name(row),
        ids={"posting_number": ident(p, "order-id"), "asin": ident(p, "asin")},
    )


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    try:
        return claim_of(envelope, SOURCE, read(envelope.payload))
    except BadPayload as problem:
        return rejected(SOURCE, problem)
