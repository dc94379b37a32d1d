"""The five rules of events.md, in order, as a pure function over candidates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from intake_worker.dedupe import Candidate, DedupeRules, absorb, keys_of, match
from shared.schema import Channel, Customer, NormalisedClaim

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
RULES = DedupeRules()


def claim(text="Чайник протекает", *, email=None, phone=None, order=None, at=T0, channel=Channel.WEB,
          message_id=None, references=(), market_id=None, event_id="e") -> NormalisedClaim:
    ids = {}
    if message_id:
        ids["message_id"] = message_id
    if market_id:
        ids["marketplace_claim_id"] = market_id
    return NormalisedClaim(event_id=event_id, source="s", channel=channel, received_at=at,
                           customer=Customer(email=email, phone=phone), order_ref=order, description=text,
                           channel_ids=ids, references=tuple(references))


def stored(c: NormalisedClaim, claim_id=1) -> Candidate:
    candidate = Candidate(claim_id=claim_id, keys=set(), seen=[], texts=[])
    absorb(candidate, c)
    return candidate


def test_same_marketplace_claim_id_is_one_claim_whatever_the_text():
    first = stored(claim("Коробка мятая", market_id="ozon:777"))
    update = claim("Продавец, ответьте", market_id="ozon:777", at=T0 + timedelta(days=40))
    assert match(update, [first], RULES).rule == 2


def test_a_reply_joins_the_thread_and_a_parent_arriving_late_finds_its_reply():
    parent = stored(claim(email="a@example.ru", message_id="m1@example.ru"))
    reply = claim("Re: ещё фото", email="other@example.ru", references=["M1@example.ru"])
    assert match(reply, [parent], RULES).rule == 3
    late_parent = claim(email="a@example.ru", message_id="m1@example.ru")
    assert match(late_parent, [stored(reply)], RULES).rule == 3


@pytest.mark.parametrize("other, expected", [
    (dict(email="a@example.ru", order="4815162"), 4),                         # same e-mail and order
    (dict(phone="+79123456789", order="4815162", channel=Channel.PHONE), 4),  # same phone, other channel
    (dict(email="a@example.ru", order="9999999"), None),                      # another order: another problem
    (dict(email="b@example.ru", order="4815162"), None),                      # another customer
    (dict(email="a@example.ru", order="4815162", at=T0 + timedelta(days=15)), None),   # outside the window
])
def test_same_customer_and_order_within_the_window(other, expected):
    first = stored(claim(email="a@example.ru", phone="+79123456789", order="4815162"))
    found = match(claim(**other), [first], RULES)
    assert (found.rule if found else None) == expected


def test_without_an_order_alike_text_of_the_same_customer_within_72_hours():
    first = stored(claim("Пылесос перестал включаться, не работает совсем", email="a@example.ru"))
    again = claim("Повторно пишу: пылесос не работает совсем, перестал включаться", email="a@example.ru",
                  at=T0 + timedelta(hours=30))
    unrelated = claim("С карты дважды списали деньги за доставку", email="a@example.ru",
                      at=T0 + timedelta(hours=30))
    too_late = claim("Пылесос перестал включаться, не работает совсем", email="a@example.ru",
                     at=T0 + timedelta(hours=80))
    assert match(again, [first], RULES).rule == 5
    assert match(unrelated, [first], RULES) is None
    assert match(too_late, [first], RULES) is None


def test_an_event_with_an_order_does_not_join_another_order_by_text():
    first = stored(claim("Чайник протекает", email="a@example.ru", order="1111111"))
    assert match(claim("Чайник протекает", email="a@example.ru", order="2222222"), [first], RULES) is None


def test_rules_apply_in_order_marketplace_id_before_customer():
    by_customer = stored(claim(email="a@example.ru", order="1"), claim_id=1)
    by_market = stored(claim(market_id="wb:1"), claim_id=2)
    found = match(claim(email="a@example.ru", order="1", market_id="wb:1"), [by_customer, by_market], RULES)
    assert (found.claim_id, found.rule) == (2, 2)


def test_keys_are_what_the_next_event_is_found_by():
    keys = keys_of(claim(email="a@example.ru", phone="+79123456789", message_id="<X@Y>", references=["p@q"],
                         market_id="ozon:1"))
    assert keys == {("customer", "email:a@example.ru"), ("customer", "phone:+79123456789"),
                    ("message", "x@y"), ("message", "p@q"), ("marketplace", "ozon:1")}
    long_id = keys_of(claim(message_id="m" * 1000))
    assert all(len(v) <= 300 for _, v in long_id)


@pytest.mark.parametrize("a, b", [
    ("Чайник сломался", "Утюг сломался"),
    ("Чайник протекает снизу после недели использования", "Утюг не греет после недели использования"),
    ("Добрый день! Чайник протекает", "Добрый день! Прислали не тот цвет"),
])
def test_two_problems_in_alike_words_stay_two_claims(a, b):
    first = stored(claim(a, email="a@example.ru"))
    assert match(claim(b, email="a@example.ru", at=T0 + timedelta(hours=2)), [first], RULES) is None


def test_the_same_complaint_in_other_words_and_english_inflections_is_one_claim():
    first = stored(claim("The kettle is leaking from the bottom", email="a@example.ru"))
    again = claim("Kettle still leaks at the bottom, please help", email="a@example.ru", at=T0 + timedelta(hours=9))
    assert match(again, [first], RULES).rule == 5


def test_a_follow_up_repeating_the_first_message_under_a_new_preamble_is_one_claim():
    original = "the charging cable is missing from the box, so the set is incomplete."
    first = stored(claim(original, email="a@example.ru"))
    again = claim("I already emailed you about this, so repeating it here.\n\n" + original + "\n\nThanks,\nCharlotte",
                  email="a@example.ru", at=T0 + timedelta(hours=36))
    assert match(again, [first], RULES).rule == 5
