"""Ozon: one return of the seller API's returns list (``/v1/returns/list``), field names unchanged.

The return's ``id`` is the claim id; ``posting_number`` (``54828976-9225-1``) is the order the
customer is known by. Ozon gives a reason *name* (``return_reason_name``), already in words.
"""
from __future__ import annotations

from intake_worker.channels.marketplaces import (BadPayload, Return, buyer_name, claim_of, day, ident, obj, rejected,
                                                 text)
from intake_worker.contacts import canonical_order_ref
from shared.schema import Envelope, NormalisedClaim, Rejection

SOURCE = "ozon"
#: the buyer's own words, where the returns list carries them
COMMENT_FIELDS = ("comment", "client_comment", "customer_comment", "return_comment")
#: reason names that do not say what is wrong: kept as codes, never the description
SAYS_NOTHING = {"другое", "other", "без причины", "не указана"}


def read(p: dict) -> Return:
    claim_id = ident(p, "id", required=True)
    product = obj(p, "product")
    reason = text(p, "return_reason_name")
    order = ident(p, "posting_number") or ident(p, "order_number")
    return Return(
        claim_id=claim_id,
        customer_text=[said for key in COMMENT_FIELDS if (said := text(p, key))],
        reason_codes=[reason] if reason else [],
        reason_texts=[reason if reason.casefold() not in SAYS_NOTHING else ""] if reason else [],
        product_name=text(product, "name", "product."),
        order_ref=canonical_order_ref(order),
        sku=ident(product, "offer_id", "product."),
        purchase_date=day(p.get("order_date")),
        buyer=buyer_name(p),
        ids={"posting_number": ident(p, "posting_number"), "order_id": ident(p, "order_id"),
             "order_number": ident(p, "order_number"), "ozon_sku": ident(product, "sku", "product.")},
    )


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    try:
        return claim_of(envelope, SOURCE, read(envelope.payload))
    except BadPayload as problem:
        return rejected(SOURCE, problem)
