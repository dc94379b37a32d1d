"""The marketplace normalisers (intake_worker.channels.marketplace and .marketplaces.*), bullet by
bullet for Ozon, Wildberries, Yandex Market and Amazon, then over the sample events."""
from __future__ import annotations

import copy
import json
import os
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from intake_worker.channels import NormaliseContext
from intake_worker.channels.marketplace import normalise
from intake_worker.validation import Refused, check_envelope
from shared.schema import (Attachment, Channel, Customer, Envelope, NormalisedClaim, QuarantineReason as R,
                           Rejection, Resolution)
from tests.helpers import claim_of, rejected
from tests.conftest import unavailable  # fails, not skips, when CLAIMFLOW_REQUIRE_SERVICES=1

RU = NormaliseContext("RU")
RECEIVED = datetime(2026, 10, 15, 9, 0, tzinfo=timezone.utc)

OZON = {
    "id": 984184791, "order_id": 7708764121, "order_number": "21875124-3411", "posting_number": "21875124-3411-1",
    "product": {"sku": 814196723, "offer_id": "SNK-9050", "name": "Кроссовки Nike Air Zoom Pegasus 40",
                "price": {"price": 12990.0, "currency_code": "RUB"}},
    "return_reason_name": "Повреждён при доставке", "type": "ClientReturn", "schema": "FBS",
    "visual": {"status": {"id": 1, "display_name": "Возврат создан", "sys_name": "ReturnCreated"},
               "change_moment": "2026-10-11T09:38:13.518Z"},
    "comment": "Упаковка пришла насквозь мокрая, кроссовки испорчены. Прошу вернуть деньги.",
}
WB = {
    "id": "3749902d-8d74-4733-b6c7-a92807bac73d", "claim_type": 1, "status": 0, "status_ex": 0, "nm_id": 108931263,
    "user_comment": "Обнаружился заводской дефект: не подаёт воду. Хочу обменять на исправный экземпляр.",
    "wb_comment": "", "dt": "2026-10-07T05:07:54.549436", "imt_name": "Кофемашина De'Longhi Magnifica S ECAM22.110",
    "order_dt": "2026-09-26T02:57:00Z", "dt_update": "2026-10-07T05:07:54.549436",
    "photos": ["//photos.wbstatic.net/claim/3749902d/0.webp"], "video_paths": ["//video.wbstatic.net/claim/1.mp4"],
    "actions": ["autorefund1", "approve1", "reject1"], "price": 42990, "currency_code": "643",
    "srid": "9d5122c1e56573b8.0.3",
}
YM = {
    "id": 87555348, "orderId": 174216543, "creationDate": "2026-10-13T04:44:24Z",
    "updateDate": "2026-10-13T07:44:24+03:00", "refundStatus": "STARTED_BY_USER",
    "items": [{"marketSku": 42964875650, "shopSku": "COF-6103", "count": 1, "decisions": [],
               "returnReason": {"type": "WRONG_ITEM",
                                "description": "Прислали не тот товар: заказывала кофемашину, а в коробке утюг."}}],
}
AMAZON = {
    "order-id": "205-7052607-1590470", "order-date": "2026-09-26", "return-request-date": "2026-10-14",
    "return-request-status": "Pending", "amazon-rma-id": "DKEiPjBvnARRMA", "merchant-sku": "HDR-1230",
    "asin": "B0A2BE72AF", "item-name": "Dyson Supersonic HD07 hair dryer", "return-quantity": 1,
    "return-reason": "DAMAGED_BY_CARRIER",
    "customer-comments": "Crushed box, damaged hair dryer. The driver rushed off before I could check it.",
}
SAMPLES = {"ozon": OZON, "wildberries": WB, "yandex_market": YM, "amazon": AMAZON}


def event(source: str, payload: dict, event_id: str | None = None) -> Envelope:
    return Envelope(event_id=event_id or f"{source}-return-1-v0", channel=Channel.MARKETPLACE, source=source,
                    received_at=RECEIVED, payload=payload)


def changed(payload: dict, **replace) -> dict:
    return {k: v for k, v in {**payload, **replace}.items() if v is not _DROP}


_DROP = object()


def ym_item(**reason) -> dict:
    """YM with its one item's returnReason replaced."""
    payload = copy.deepcopy(YM)
    payload["items"][0]["returnReason"] = {k: v for k, v in reason.items() if v is not _DROP}
    return payload


# --- dispatch -----------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["aliexpress", "site", "ozon.ru", "", "  "])
def test_unknown_marketplace_is_bad_payload(source):
    result = normalise(Envelope.model_construct(event_id="x-1", channel=Channel.MARKETPLACE, source=source,
                                                received_at=RECEIVED, payload=OZON), RU)
    assert "unknown marketplace" in rejected(result, R.BAD_PAYLOAD).message


@pytest.mark.parametrize("source", ["Yandex-Market", "YANDEX_MARKET", " yandex market "])
def test_the_source_is_read_leniently_and_the_claim_id_uses_its_canonical_name(source):
    claim = claim_of(normalise(event(source, YM), RU))
    assert claim.channel_ids["marketplace_claim_id"] == "yandex_market:87555348"
    assert claim.source == source                                          # the envelope's, unchanged


# --- each marketplace, field by field -------------------------------------------------------------

def test_ozon_return():
    claim = claim_of(normalise(event("ozon", OZON), RU))
    assert (claim.event_id, claim.source, claim.channel, claim.received_at) == \
        ("ozon-return-1-v0", "ozon", Channel.MARKETPLACE, RECEIVED)
    assert claim.description == ("Упаковка пришла насквозь мокрая, кроссовки испорчены. Прошу вернуть деньги.\n"
                                 "Товар: Кроссовки Nike Air Zoom Pegasus 40")
    assert claim.reason_codes == ("Повреждён при доставке",)
    assert claim.order_ref == "21875124-3411-1"
    assert claim.sku == "SNK-9050"
    assert claim.purchase_date is None
    assert claim.customer == Customer()
    assert claim.desired_resolution is Resolution.REFUND
    assert claim.language == "ru"
    assert claim.channel_ids == {"marketplace_claim_id": "ozon:984184791", "posting_number": "21875124-3411-1",
                                 "order_id": "7708764121", "order_number": "21875124-3411", "ozon_sku": "814196723"}


def test_wildberries_claim():
    claim = claim_of(normalise(event("wildberries", WB), RU))
    assert claim.description == ("Обнаружился заводской дефект: не подаёт воду. Хочу обменять на исправный "
                                 "экземпляр.\nТовар: Кофемашина De'Longhi Magnifica S ECAM22.110")
    assert claim.reason_codes == ()
    assert claim.order_ref == "9d5122c1e56573b8.0.3"          # opaque: kept whole, never cut to digit runs
    assert claim.sku == "108931263"
    assert claim.purchase_date == date(2026, 9, 26)
    assert claim.desired_resolution is Resolution.REPLACEMENT
    assert claim.attachments == (
        Attachment(url="https://photos.wbstatic.net/claim/3749902d/0.webp", content_type="image/webp"),
        Attachment(url="https://video.wbstatic.net/claim/1.mp4", content_type="video/mp4"))
    assert claim.channel_ids == {"marketplace_claim_id": "wildberries:3749902d-8d74-4733-b6c7-a92807bac73d",
                                 "posting_number": "9d5122c1e56573b8.0.3", "nm_id": "108931263"}


def test_wildberries_answer_is_not_the_customers_words():
    claim = claim_of(normalise(event("wildberries", changed(WB, wb_comment="Заявка одобрена продавцом")), RU))
    assert "одобрена" not in claim.description


def test_wildberries_seller_article_is_the_sku_when_present():
    assert claim_of(normalise(event("wildberries", changed(WB, sa_name="COF-6103")), RU)).sku == "COF-6103"


def test_yandex_market_return():
    claim = claim_of(normalise(event("yandex_market", YM), RU))
    assert claim.description == "Прислали не тот товар: заказывала кофемашину, а в коробке утюг."
    assert claim.reason_codes == ("WRONG_ITEM",)
    assert claim.order_ref == "174216543"
    assert claim.sku == "COF-6103"
    assert claim.channel_ids == {"marketplace_claim_id": "yandex_market:87555348", "posting_number": "174216543",
                                 "market_sku": "42964875650", "shop_sku": "COF-6103"}


def test_yandex_market_codes_from_reason_and_decisions_but_not_the_sellers_comment():
    payload = ym_item(type="BAD_QUALITY", subreasonType="NOT_WORKING", description="Не включается.")
    payload["items"][0]["decisions"] = [{"decisionType": "REFUND_MONEY", "reasonType": "BAD_QUALITY",
                                         "subreasonType": "DAMAGED", "comment": "Одобряем возврат"}]
    claim = claim_of(normalise(event("yandex_market", payload), RU))
    assert claim.reason_codes == ("BAD_QUALITY", "NOT_WORKING", "DAMAGED")
    assert claim.description == "Не включается."


def test_yandex_market_with_several_items():
    payload = copy.deepcopy(YM)
    payload["items"].append({"marketSku": 1, "shopSku": "KET-2201", "count": 2, "decisions": [],
                             "returnReason": {"type": "DAMAGE_DELIVERY", "description": "Чайник разбит."}})
    claim = claim_of(normalise(event("yandex_market", payload), RU))
    assert claim.description == ("Прислали не тот товар: заказывала кофемашину, а в коробке утюг.\n"
                                 "Чайник разбит.")
    assert claim.reason_codes == ("WRONG_ITEM", "DAMAGE_DELIVERY")
    assert claim.sku == "COF-6103"
    assert claim.channel_ids["shop_sku"] == "COF-6103,KET-2201"


def test_amazon_return_row():
    claim = claim_of(normalise(event("amazon", AMAZON), RU))
    assert claim.description == ("Crushed box, damaged hair dryer. The driver rushed off before I could check it.\n"
                                 "Item: Dyson Supersonic HD07 hair dryer")
    assert claim.reason_codes == ("DAMAGED_BY_CARRIER",)
    assert claim.order_ref == "205-7052607-1590470"
    assert claim.sku == "HDR-1230"
    assert claim.purchase_date == date(2026, 9, 26)
    assert claim.language == "en"
    assert claim.channel_ids == {"marketplace_claim_id": "amazon:DKEiPjBvnARRMA",
                                 "posting_number": "205-7052607-1590470", "asin": "B0A2BE72AF"}


def test_amazon_row_keyed_by_the_reports_column_titles():
    row = {"Order ID": "205-7052607-1590470", "Order date": "2026-09-26", "Amazon RMA ID": "DKEiPjBvnARRMA",
           "Merchant SKU": "HDR-1230", "ASIN": "B0A2BE72AF", "Return reason": "CR-DEFECTIVE",
           "Customer comments": ""}
    claim = claim_of(normalise(event("amazon", row), RU))
    assert claim.channel_ids["marketplace_claim_id"] == "amazon:DKEiPjBvnARRMA"
    assert claim.reason_codes == ("CR-DEFECTIVE",)
    assert claim.description == "Item is defective or does not work"


# --- description from the reason when the customer wrote nothing -----------------------------------

@pytest.mark.parametrize("source, payload, description, codes", [
    ("ozon", changed(OZON, comment=_DROP), "Повреждён при доставке\nТовар: Кроссовки Nike Air Zoom Pegasus 40",
     ("Повреждён при доставке",)),
    ("ozon", changed(OZON, comment="   "), "Повреждён при доставке\nТовар: Кроссовки Nike Air Zoom Pegasus 40",
     ("Повреждён при доставке",)),
    ("yandex_market", ym_item(type="DELIVERY_FAIL"), "Товар не доставлен", ("DELIVERY_FAIL",)),
    ("yandex_market", ym_item(type="DAMAGE_DELIVERY", subreasonType="BAD_PACKAGE", description=""),
     "Товар повреждён при доставке. Повреждена упаковка", ("DAMAGE_DELIVERY", "BAD_PACKAGE")),
    ("yandex_market", ym_item(type="NEW_REASON_2027"), "New reason 2027", ("NEW_REASON_2027",)),
    ("amazon", changed(AMAZON, **{"customer-comments": ""}),
     "Item arrived damaged (damaged by the carrier)\nItem: Dyson Supersonic HD07 hair dryer", ("DAMAGED_BY_CARRIER",)),
    ("amazon", changed(AMAZON, **{"customer-comments": "", "return-reason": "MISSING_PARTS"}),
     "Missing parts or accessories, the set is incomplete\nItem: Dyson Supersonic HD07 hair dryer",
     ("MISSING_PARTS",)),
    ("amazon", changed(AMAZON, **{"customer-comments": "", "return-reason": "APPAREL_STYLE"}),
     "Apparel style\nItem: Dyson Supersonic HD07 hair dryer", ("APPAREL_STYLE",)),
])
def test_reason_text_is_the_description_when_the_customer_wrote_nothing(source, payload, description, codes):
    claim = claim_of(normalise(event(source, payload), RU))
    assert (claim.description, claim.reason_codes) == (description, codes)
    assert claim.desired_resolution is None                   # a reason code is no wish


def test_customer_words_win_over_the_reason_code():
    claim = claim_of(normalise(event("ozon", changed(OZON, return_reason_name="Не соответствует описанию",
                                                     comment="Коробка смята, внутри вмятина.")), RU))
    assert claim.description.startswith("Коробка смята, внутри вмятина.")
    assert "описанию" not in claim.description
    assert claim.reason_codes == ("Не соответствует описанию",)


def test_product_name_is_not_repeated():
    claim = claim_of(normalise(event("amazon", changed(AMAZON, **{
        "customer-comments": "My Dyson Supersonic HD07 hair dryer arrived broken"})), RU))
    assert claim.description == "My Dyson Supersonic HD07 hair dryer arrived broken"


# --- quarantine -------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, payload", [
    ("wildberries", changed(WB, user_comment="")),
    ("wildberries", changed(WB, user_comment=_DROP)),
    ("wildberries", changed(WB, user_comment="\u200b \n")),
    ("ozon", changed(OZON, comment=_DROP, return_reason_name=_DROP)),
    ("ozon", changed(OZON, comment="", return_reason_name="Другое")),          # a reason that says nothing
    ("yandex_market", ym_item(type="UNKNOWN", description="")),
    ("yandex_market", changed(YM, items=[])),
    ("amazon", changed(AMAZON, **{"customer-comments": "", "return-reason": "NO_REASON_GIVEN"})),
    ("amazon", changed(AMAZON, **{"customer-comments": _DROP, "return-reason": _DROP})),
])
def test_empty_description(source, payload):
    rejected(normalise(event(source, payload), RU), R.EMPTY_DESCRIPTION)


@pytest.mark.parametrize("source, payload, word", [
    ("ozon", changed(OZON, id=_DROP), "id"),
    ("ozon", changed(OZON, id=None), "id"),
    ("ozon", changed(OZON, id=""), "id"),
    ("ozon", changed(OZON, id=True), "id"),
    ("ozon", changed(OZON, id=9.5), "id"),
    ("ozon", changed(OZON, id=[984184791]), "id"),
    ("ozon", changed(OZON, product=["SNK-9050"]), "product"),
    ("ozon", changed(OZON, comment=["мокрая"]), "comment"),
    ("ozon", changed(OZON, return_reason_name={"ru": "Брак"}), "return_reason_name"),
    ("ozon", {"returns": [OZON]}, "id"),                                       # the whole API answer
    ("wildberries", changed(WB, id=_DROP), "id"),
    ("wildberries", changed(WB, id="x" * 201), "id"),
    ("wildberries", changed(WB, user_comment={"text": "брак"}), "user_comment"),
    ("wildberries", changed(WB, photos="//photos.wbstatic.net/1.webp"), "photos"),
    ("yandex_market", changed(YM, id=_DROP), "id"),
    ("yandex_market", changed(YM, items={"shopSku": "COF-6103"}), "items"),
    ("yandex_market", changed(YM, items=["COF-6103"]), "items[0]"),
    ("yandex_market", ym_item(type=["WRONG_ITEM"]), "type"),
    ("yandex_market", changed(YM, items=[{"returnReason": "брак"}]), "returnReason"),
    ("amazon", changed(AMAZON, **{"amazon-rma-id": _DROP}), "amazon-rma-id"),
    ("amazon", changed(AMAZON, **{"amazon-rma-id": "RMA\n2"}), "amazon-rma-id"),
    ("amazon", changed(AMAZON, **{"customer-comments": ["broken"]}), "customer-comments"),
    ("amazon", {}, "amazon-rma-id"),
])
def test_bad_payload(source, payload, word):
    result = rejected(normalise(event(source, payload), RU), R.BAD_PAYLOAD)
    assert word in result.message and source in result.message


@pytest.mark.parametrize("source", list(SAMPLES))
def test_no_contact_is_never_a_reason_for_marketplaces(source):
    claim = claim_of(normalise(event(source, SAMPLES[source]), RU))
    assert claim.customer.email is None and claim.customer.phone is None


@pytest.mark.parametrize("source", list(SAMPLES))
def test_buyer_name_when_the_marketplace_shows_it(source):
    claim = claim_of(normalise(event(source, {**SAMPLES[source], "buyer_name": " Анна К. "}), RU))
    assert claim.customer == Customer(name="Анна К.")


# --- the same return across versions --------------------------------------------------------------

@pytest.mark.parametrize("source, update", [
    ("ozon", {"visual": {"status": {"id": 3, "display_name": "Ожидает решения продавца",
                                    "sys_name": "WaitingForSellerDecision"}, "change_moment": "2026-10-15T08:21:55Z"}}),
    ("wildberries", {"status": 1, "status_ex": 5, "actions": [], "dt_update": "2026-10-08T12:25:50.952140"}),
    ("yandex_market", {"refundStatus": "DECISION_MADE", "updateDate": "2026-10-17T13:29:39+03:00"}),
    ("amazon", {"return-request-status": "Approved"}),
])
def test_versions_of_one_return_share_the_claim_id(source, update):
    first = claim_of(normalise(event(source, SAMPLES[source], f"{source}-x-v0"), RU))
    later = claim_of(normalise(event(source, {**SAMPLES[source], **update}, f"{source}-x-v1"), RU))
    assert first.channel_ids["marketplace_claim_id"] == later.channel_ids["marketplace_claim_id"]
    assert first.channel_ids["marketplace_claim_id"].startswith(source + ":")


def test_ids_given_as_text_or_number_are_the_same_claim():
    as_number = claim_of(normalise(event("ozon", OZON), RU))
    as_text = claim_of(normalise(event("ozon", changed(OZON, id=" 984184791 ")), RU))
    assert as_number.channel_ids["marketplace_claim_id"] == as_text.channel_ids["marketplace_claim_id"]


# --- optional fields of the wrong shape, and hostile text --------------------------------------------

@pytest.mark.parametrize("source, payload, check", [
    ("wildberries", changed(WB, order_dt="вчера"), lambda c: c.purchase_date is None),
    ("wildberries", changed(WB, order_dt="26.09.2026"), lambda c: c.purchase_date == date(2026, 9, 26)),
    ("wildberries", changed(WB, video_paths=[], photos=[None, 5, "not a url", "javascript:x",
                                                   "https://a.example/p.JPG"]),
     lambda c: c.attachments == (Attachment(url="https://a.example/p.JPG", content_type="image/jpeg"),)),
    ("amazon", changed(AMAZON, **{"order-date": 20260926}), lambda c: c.purchase_date is None),
    ("ozon", changed(OZON, posting_number=_DROP), lambda c: c.order_ref == "21875124-3411"),
    ("ozon", changed(OZON, product=_DROP), lambda c: c.sku is None and "Товар:" not in c.description),
])
def test_optional_fields(source, payload, check):
    assert check(claim_of(normalise(event(source, payload), RU)))


def test_bidi_and_invisible_characters_are_removed():
    claim = claim_of(normalise(event("yandex_market", ym_item(
        type="WRONG_ITEM", description="прислали не т\u200bот товар \u202eилалсирп\u202c \u200f(!)")), RU))
    assert claim.description == "прислали не тот товар илалсирп (!)"


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=3), max_leaves=10)
_keys = st.sampled_from(sorted({key for payload in SAMPLES.values() for key in payload} |
                               {"returnReason", "decisions", "description", "type"}))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(SAMPLES)), st.dictionaries(_keys, _json, max_size=6))
def test_hostile_payloads_never_raise(source, replace):
    for payload in (replace, {**SAMPLES[source], **replace}):
        assert isinstance(normalise(event(source, payload), RU), (NormalisedClaim, Rejection))


@settings(max_examples=100, deadline=None)
@given(st.lists(_json, max_size=3))
def test_hostile_yandex_items_never_raise(items):
    assert isinstance(normalise(event("yandex_market", changed(YM, items=items)), RU), (NormalisedClaim, Rejection))


# --- the sample events -----------------------------------------------------------------------------

DATA = Path(os.environ.get("CLAIMFLOW_SAMPLE_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def sample() -> list[tuple[Envelope, dict]]:
    events, truth = DATA / "sample-events.jsonl", DATA / "sample-truth.jsonl"
    if not events.exists() or not truth.exists():
        unavailable("the sample events", f"none in {DATA}")
    truths = [json.loads(t) for t in truth.read_text(encoding="utf-8").splitlines() if t.strip()]
    found = []
    for raw, t in zip(events.read_bytes().split(b"\n"), truths):
        envelope = check_envelope(raw, 262144)
        if not isinstance(envelope, Refused) and envelope.channel is Channel.MARKETPLACE:
            found.append((envelope, t))
    assert found, "no valid marketplace events in the sample"
    return found


def test_sample_marketplace_events_match_the_truth():
    for envelope, truth in sample():
        result = normalise(envelope, RU)
        if truth["quarantine_reason"] is None:
            claim = claim_of(result)
            assert claim.description.strip(), envelope.event_id
            assert claim.channel_ids.get("marketplace_claim_id"), envelope.event_id
        else:
            assert isinstance(result, Rejection) and result.reason.value == truth["quarantine_reason"], \
                (envelope.event_id, result)


def test_sample_lines_of_one_claim_share_the_marketplace_claim_id():
    ids = defaultdict(set)
    for envelope, truth in sample():
        result = normalise(envelope, RU)
        if truth["claim_key"] and isinstance(result, NormalisedClaim):
            ids[(envelope.source, truth["claim_key"])].add(result.channel_ids["marketplace_claim_id"])
    assert ids
    assert {key: found for key, found in ids.items() if len(found) > 1} == {}
    versions = [found for (source, _), found in ids.items()]
    assert len({i for found in versions for i in found}) == len(versions)     # and different claims differ
