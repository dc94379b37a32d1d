"""Wildberries: one buyer claim of the seller API (``/api/v1/claims``), field names unchanged.

The claim's ``id`` (a UUID) is the claim id; ``user_comment`` is the buyer's own words and
``wb_comment`` Wildberries' answer, not the customer's. Wildberries gives no reason code.
``srid`` identifies the order line and is the order reference as it is: it is an opaque id, not
an order number, and canonical_order_ref would cut ``9d5122c1e56573b8.0.3`` down to two digit runs,
making different orders equal. ``nm_id`` is Wildberries' article of the product.
"""
from __future__ import annotations

from intake_worker.channels.marketplaces import (BadPayload, Return, buyer_name, claim_of, day, ident, items, media,
                                                 rejected, text)
from shared.schema import Envelope, NormalisedClaim, Rejection

SOURCE = "wildberries"
#: the seller's own article, when the claim carries it; else Wildberries' nm_id stands for it
SELLER_ARTICLE_FIELDS = ("sa_name", "supplier_article", "supplierArticle", "vendor_code", "vendorCode")


def read(p: dict) -> Return:
    claim_id = ident(p, "id", required=True)
    nm_id = ident(p, "nm_id")
    article = next((found for key in SELLER_ARTICLE_FIELDS if (found := ident(p, key))), None)
    said = text(p, "user_comment")
    return Return(
        claim_id=claim_id,
        customer_text=[said] if said else [],
        product_name=text(p, "imt_name"),
        order_ref=ident(p, "srid"),        # opaque: canonicalising would cut it to its digit runs
        sku=article or nm_id,
        purchase_date=day(p.get("order_dt")),
        buyer=buyer_name(p),
        ids={"posting_number": ident(p, "srid"), "nm_id": nm_id},
        attachments=media(items(p, "photos") + items(p, "video_paths")),
    )


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    try:
        return claim_of(envelope, SOURCE, read(envelope.payload))
    except BadPayload as problem:
        return rejected(SOURCE, problem)
