"""Yandex Market: one return of the seller API (``GET /campaigns/{id}/returns``), field names
unchanged.

The return's ``id`` is the claim id and ``orderId`` the order. Each item has a
``returnReason`` — ``type`` (and ``subreasonType``), with the buyer's own words in
``description`` — and the seller's ``decisions``, whose ``comment`` is the seller's, not the buyer's.
"""
from __future__ import annotations

from intake_worker.channels.marketplaces import (BadPayload, Return, buyer_name, claim_of, day, humanise, ident, items,
                                                 media, obj, rejected, text)
from intake_worker.contacts import canonical_order_ref
from shared.schema import Envelope, NormalisedClaim, Rejection

SOURCE = "yandex_market"
#: the reason types of the returns API, in words; UNKNOWN says nothing
REASONS = {
    "BAD_QUALITY": "Бракованный товар, есть недостатки",
    "DO_NOT_FIT": "Товар не подошёл",
    "WRONG_ITEM": "Привезли не тот товар",
    "DAMAGE_DELIVERY": "Товар повреждён при доставке",
    "LOYALTY_FAIL": "Невозможно установить виновного в браке или пересорте",
    "CONTENT_FAIL": "Товар не соответствует описанию на витрине",
    "DELIVERY_FAIL": "Товар не доставлен",
    "UNKNOWN": "",
}
SUBREASONS = {
    "USER_DID_NOT_LIKE": "Товар не понравился", "USER_CHANGED_MIND": "Покупатель передумал",
    "DELIVERED_TOO_LONG": "Товар доставлен слишком поздно", "BAD_PACKAGE": "Повреждена упаковка",
    "DAMAGED": "Товар повреждён", "NOT_WORKING": "Товар не работает", "INCOMPLETENESS": "Неполная комплектация",
    "WRONG_ITEM": "Привезли не тот товар", "WRONG_COLOR": "Привезли товар другого цвета",
    "DID_NOT_MATCH_DESCRIPTION": "Товар не соответствует описанию", "ITEMS_MIXED": "Товары перепутаны",
    "WRONG_AMOUNT_DELIVERED": "Привезли не то количество", "UNKNOWN": "", "OTHER": "",
}


def _reasons(holder: dict, where: str, kinds: tuple[str, str], r: Return) -> None:
    for key, words in zip(kinds, (REASONS, SUBREASONS)):
        if code := text(holder, key, where):
            r.reason_codes.append(code)
            r.reason_texts.append(words.get(code.upper(), humanise(code)))


def read(p: dict) -> Return:
    order = ident(p, "orderId")
    r = Return(claim_id=ident(p, "id", required=True), order_ref=canonical_order_ref(order), buyer=buyer_name(p),
               purchase_date=day(p.get("orderCreationDate")))
    shop_skus, market_skus, photos = [], [], []
    for n, item in enumerate(items(p, "items")):
        where = f"items[{n}]."
        if not isinstance(item, dict):
            raise BadPayload(f"{where[:-1]} must be an object, not {type(item).__name__}")
        shop_skus.append(ident(item, "shopSku", where))
        market_skus.append(ident(item, "marketSku", where))
        reason = obj(item, "returnReason", where)
        if said := text(reason, "description", where + "returnReason."):
            r.customer_text.append(said)
        _reasons(reason, where + "returnReason.", ("type", "subreasonType"), r)
        photos += [url for url in items(reason, "photos", where + "returnReason.") if isinstance(url, str)]
        for k, decision in enumerate(items(item, "decisions", where)):
            if not isinstance(decision, dict):
                raise BadPayload(f"{where}decisions[{k}] must be an object")
            _reasons(decision, f"{where}decisions[{k}].", ("reasonType", "subreasonType"), r)
    r.sku = next((sku for sku in shop_skus if sku), None)
    r.product_name = next((name for item in items(p, "items") if (name := text(item, "offerName"))), None)
    r.ids = {"posting_number": order, "market_sku": ",".join(dict.fromkeys(s for s in market_skus if s)),
             "shop_sku": ",".join(dict.fromkeys(s for s in shop_skus if s))}
    r.attachments = media(photos)
    return r


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    try:
        return claim_of(envelope, SOURCE, read(envelope.payload))
    except BadPayload as problem:
        return rejected(SOURCE, problem)
