"""The call-centre normaliser (intake_worker.channels.phone), bullet by bullet, then over the
sample events."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from intake_worker.channels import NormaliseContext
from intake_worker.channels.phone import normalise
from intake_worker.validation import Refused, check_envelope
from shared.schema import (Attachment, Channel, Envelope, NormalisedClaim, QuarantineReason as R, Rejection,
                           Resolution)
from tests.helpers import claim_of, rejected
from tests.conftest import unavailable  # fails, not skips, when CLAIMFLOW_REQUIRE_SERVICES=1

RU = NormaliseContext("RU")
RECEIVED = datetime(2026, 11, 20, 10, 15, tzinfo=timezone(timedelta(hours=3)))

TRANSCRIPT = ("Оператор: Магазин «ТехноДом», оператор Анна, здравствуйте.\n"
              "Клиент: чайник протекает снизу, пользовались неделю\n"
              "Оператор: Назовите, пожалуйста, номер заказа.\n"
              "Клиент: 481 51 62\n"
              "Оператор: Заявку оформила, ответ придёт в течение суток.")
CALL = {
    "call_id": "c-2026-11-20-000123", "caller_number": "8 (912) 345-67-89",
    "started_at": "2026-11-20T10:02:11+03:00", "ended_at": "2026-11-20T10:09:40+03:00",
    "agent_id": "op-17", "ivr_path": ["2", "1"],
    "recording_url": "https://pbx.example.ru/rec/2026/11/20/c-2026-11-20-000123.mp3",
    "transcript": TRANSCRIPT,
    "agent_notes": {"customer_name": " Ирина Смирнова ", "order_number": "ORD-4815162",
                    "description": "Чайник протекает снизу через неделю после покупки.",
                    "desired_resolution": "replacement"},
}


def call(payload: dict | None = None, **replace) -> Envelope:
    return Envelope(event_id="c-2026-11-20-000123", channel=Channel.PHONE, source="callcenter",
                    received_at=RECEIVED, payload={**(CALL if payload is None else payload), **replace})


def notes(**replace) -> dict:
    return {k: v for k, v in {**CALL["agent_notes"], **replace}.items() if v is not _DROP}


_DROP = object()


def without(*keys) -> dict:
    return {k: v for k, v in CALL.items() if k not in keys}


# --- the whole call -----------------------------------------------------------------------------

def test_full_call_is_mapped_field_by_field():
    claim = claim_of(normalise(call(), RU))
    assert (claim.event_id, claim.source, claim.channel, claim.received_at) == \
        ("c-2026-11-20-000123", "callcenter", Channel.PHONE, RECEIVED)
    assert claim.customer.phone == "+79123456789"
    assert claim.customer.name == "Ирина Смирнова"
    assert claim.customer.email is None
    assert claim.order_ref == "4815162"
    assert claim.description == "Чайник протекает снизу через неделю после покупки."
    assert claim.desired_resolution is Resolution.REPLACEMENT
    assert claim.channel_ids == {"call_id": "c-2026-11-20-000123", "agent_id": "op-17", "ivr_path": "2>1"}
    assert claim.attachments == (Attachment(url=CALL["recording_url"], content_type="audio/mpeg"),)
    assert claim.language == "ru"
    assert claim.subject is None and claim.reason_codes == () and claim.references == ()


def test_received_at_is_the_envelopes_not_the_calls():
    claim = claim_of(normalise(call(started_at="2020-01-01T00:00:00+00:00"), RU))
    assert claim.received_at == RECEIVED


# --- customer -----------------------------------------------------------------------------------

@pytest.mark.parametrize("number, region, expected", [
    ("+79123456789", "RU", "+79123456789"),
    ("79123456789", "RU", "+79123456789"),
    ("89123456789", "RU", "+79123456789"),
    ("+44 7823 956690", "RU", "+447823956690"),
    ("(415) 824-4547", "US", "+14158244547"),
])
def test_caller_number_in_e164_with_the_default_region(number, region, expected):
    claim = claim_of(normalise(call(caller_number=number), NormaliseContext(region)))
    assert claim.customer.phone == expected


@pytest.mark.parametrize("agent_notes, name", [
    (notes(customer_name="Ms O'Connor"), "Ms O'Connor"),
    (notes(customer_name=_DROP), None),
    (notes(customer_name=["Ирина"]), None),
    (notes(customer_name="   "), None),
])
def test_name_from_the_agents_notes(agent_notes, name):
    assert claim_of(normalise(call(agent_notes=agent_notes), RU)).customer.name == name


# --- order reference ----------------------------------------------------------------------------

@pytest.mark.parametrize("order_number, expected", [
    ("5041552", "5041552"), ("504 15 52", "5041552"), ("№4463616", "4463616"), ("ORD-1735141", "1735141"),
    ("5041 552", "5041552"), (5041552, "5041552"), ("54828976-9225-1", "54828976-9225-1"),
])
def test_order_from_the_agents_notes(order_number, expected):
    claim = claim_of(normalise(call(agent_notes=notes(order_number=order_number)), RU))
    assert claim.order_ref == expected


@pytest.mark.parametrize("transcript, expected", [
    ("Агент: Подскажите номер заказа.\nАбонент: 504 15 52", "5041552"),                  # dictated in groups
    ("Оператор: Назовите, пожалуйста, номер заказа.\nКлиент: заказ 5577188", "5577188"),
    ("OP: Подскажите номер заказа.\nCL: ну эээ 660 30 24", "6603024"),
    ("Agent: What's the order number?\nCustomer: it's 7709768", "7709768"),
    ("A: Could I have your order number please?\nC: 118 62 05", "1186205"),
    ("Caller: my order number is 391 06 67, the courier never came", "3910667"),      # said unprompted
    ("Клиент: по заказу № 4815162 ничего не пришло", "4815162"),
    ("Клиент: номер заказа ORD-1281215, пылесос не заряжается", "1281215"),
    ("Agent: What's the order number?\nCustomer: i don't remember the order number, sorry", None),
    ("Оператор: Подскажите номер заказа.\nКлиент: да я без заказа, просто хочу пожаловаться", None),
    ("Customer: i paid with points but the full £27.99 was charged\nAgent: What's the order number?\n"
     "Customer: no idea", None),                                                        # an amount is no order
    ("Абонент: двойное списание 44990 рублей\nАгент: Подскажите номер заказа.\nАбонент: не помню", None),
    ("Клиент: пользовались всего 17 дней, заказ 12", None),                            # too short for an order
    ("Agent: In order to call you back, what is your number?\nCustomer: 8 912 345 67 89", None),
])
def test_order_from_the_transcript_when_the_notes_have_none(transcript, expected):
    claim = claim_of(normalise(call(transcript=transcript, agent_notes=notes(order_number=_DROP)), RU))
    assert claim.order_ref == expected


def test_the_notes_order_wins_over_the_transcript():
    claim = claim_of(normalise(call(agent_notes=notes(order_number="1111111")), RU))
    assert claim.order_ref == "1111111"


# --- description --------------------------------------------------------------------------------

@pytest.mark.parametrize("customer, agent", [
    ("Абонент", "Агент"), ("Клиент", "Оператор"), ("CL", "OP"), ("Customer", "Agent"), ("Caller", "Operator"),
    ("C", "A"), ("клиент", "ОПЕРАТОР"), ("Клиент (Иван)", "[00:01] Оператор"),
])
def test_description_is_the_customers_turns_without_the_agents(customer, agent):
    transcript = (f"{agent}: ТехноДом, слушаю вас.\n{customer}: пылесос не заряжается от базы\n"
                  f"{agent}: Подскажите номер заказа.\n{customer}: 504 15 52\n{agent}: Передаю специалистам.")
    claim = claim_of(normalise(call(transcript=transcript, agent_notes=notes(description=_DROP)), RU))
    assert claim.description == "пылесос не заряжается от базы"          # greeting and the bare number dropped
    assert claim.order_ref == "4815162"                                  # the notes still give the order


def test_unlabelled_lines_continue_the_turn_before_them():
    transcript = ("Оператор: ТехноДом, слушаю вас.\nКлиент: чайник протекает,\nвода на столе\n"
                  "Оператор: Поняла.\nКлиент: прошу заменить")
    claim = claim_of(normalise(call(transcript=transcript, agent_notes=None), RU))
    assert claim.description == "чайник протекает,\nвода на столе\nпрошу заменить"


def test_an_unknown_second_speaker_beside_a_known_agent_is_the_customer():
    transcript = "Оператор: ТехноДом, слушаю вас.\nИрина: чайник течёт\nОператор: Записала."
    assert claim_of(normalise(call(transcript=transcript, agent_notes=None), RU)).description == "чайник течёт"


@pytest.mark.parametrize("transcript", [
    "чайник протекает снизу, хочу замену",                     # no speakers at all
    "Оператор: ТехноДом, слушаю вас.\nОператор: Алло? Вас не слышно.",   # only the agent spoke
])
def test_without_customer_turns_the_whole_transcript_is_the_description(transcript):
    claim = claim_of(normalise(call(transcript=transcript, agent_notes=None), RU))
    assert claim.description == transcript


@pytest.mark.parametrize("agent_notes", [notes(description=_DROP), notes(description=""), notes(description="  "),
                                         None, {}])
def test_the_transcript_speaks_when_the_notes_do_not(agent_notes):
    claim = claim_of(normalise(call(agent_notes=agent_notes), RU))
    assert claim.description == "чайник протекает снизу, пользовались неделю"


def test_invisible_and_control_characters_are_removed():
    claim = claim_of(normalise(call(agent_notes=notes(description="ча\u200bйник про\u2060тек\u00adает\x00 "
                                                                  "\u202eсн\u202cизу")), RU))
    assert claim.description == "чайник протекает снизу"


# --- desired resolution -------------------------------------------------------------------------

@pytest.mark.parametrize("wanted, transcript_says, expected", [
    ("refund", "прошу заменить на новый", Resolution.REFUND),           # the agent's choice wins
    (" Repair ", "", Resolution.REPAIR),
    (None, "верните в общем деньги за товар", Resolution.REFUND),
    ("money back", "", Resolution.REFUND),                             # not the enum, but says it
    (None, "хочу обменять на исправный экземпляр", Resolution.REPLACEMENT),
    (None, "i'd like an exchange for a new one", Resolution.REPLACEMENT),
    (None, "прошу принять наушники в гарантийный ремонт", Resolution.REPAIR),
    (None, "готова оставить себе, если сделаете скидку", Resolution.DISCOUNT),
    (None, "i expect compensation", Resolution.COMPENSATION),
    (None, "please refund me", Resolution.REFUND),
    (None, "замените или верните деньги", None),                        # two wishes: not clear
    (None, "деньги списали дважды", None),                              # no wish
    (None, "в сервисном центре отказали в гарантийном ремонте", None),
    ("teleport", "", None),
    (["refund"], "", None),
])
def test_desired_resolution(wanted, transcript_says, expected):
    transcript = f"Оператор: Слушаю.\nКлиент: чайник сломался. {transcript_says}"
    claim = claim_of(normalise(call(transcript=transcript,
                                    agent_notes=notes(description=_DROP, desired_resolution=wanted)), RU))
    assert claim.desired_resolution == expected


def test_purchase_date_and_sku_only_from_the_agents_notes():
    claim = claim_of(normalise(call(agent_notes=notes(purchase_date="2026-10-03", sku="KET-2201")), RU))
    assert (claim.purchase_date, claim.sku) == (date(2026, 10, 3), "KET-2201")
    claim = claim_of(normalise(call(started_at="2026-10-03T10:00:00+03:00"), RU))
    assert (claim.purchase_date, claim.sku) == (None, None)


# --- ids and recording --------------------------------------------------------------------------

@pytest.mark.parametrize("replace, ids", [
    ({}, {"call_id": "c-2026-11-20-000123", "agent_id": "op-17", "ivr_path": "2>1"}),
    ({"ivr_path": ["0"]}, {"call_id": "c-2026-11-20-000123", "agent_id": "op-17", "ivr_path": "0"}),
    ({"ivr_path": [2, "1", None, {"x": 1}]}, {"call_id": "c-2026-11-20-000123", "agent_id": "op-17",
                                              "ivr_path": "2>1"}),
    ({"ivr_path": [], "agent_id": None}, {"call_id": "c-2026-11-20-000123"}),
    ({"agent_id": ["op"], "ivr_path": {"a": 1}}, {"call_id": "c-2026-11-20-000123"}),
    ({"call_id": 123456}, {"call_id": "123456", "agent_id": "op-17", "ivr_path": "2>1"}),
])
def test_channel_ids(replace, ids):
    assert claim_of(normalise(call(**replace), RU)).channel_ids == ids


@pytest.mark.parametrize("url, attachments", [
    ("https://pbx.example.ru/rec/a.mp3", (Attachment(url="https://pbx.example.ru/rec/a.mp3",
                                                     content_type="audio/mpeg"),)),
    ("https://pbx.example.ru/rec/a.MP3?sig=1", (Attachment(url="https://pbx.example.ru/rec/a.MP3?sig=1",
                                                           content_type="audio/mpeg"),)),
    ("https://pbx.example.ru/rec/a.wav", (Attachment(url="https://pbx.example.ru/rec/a.wav",
                                                     content_type="audio/wav"),)),
    ("https://pbx.example.ru/rec/123", (Attachment(url="https://pbx.example.ru/rec/123"),)),
    (None, ()), ("", ()), ("not a url", ()), ("javascript:alert(1)", ()), (["https://x/a.mp3"], ()),
])
def test_recording_is_an_attachment(url, attachments):
    assert claim_of(normalise(call(recording_url=url), RU)).attachments == attachments


# --- quarantine ---------------------------------------------------------------------------------

@pytest.mark.parametrize("payload, word", [
    (without("call_id"), "call_id"),
    ({**CALL, "call_id": ""}, "call_id"),
    ({**CALL, "call_id": ["c-1"]}, "call_id"),
    ({**CALL, "call_id": True}, "call_id"),
    ({**CALL, "caller_number": ["+79123456789"]}, "caller_number"),
    ({**CALL, "caller_number": 79123456789}, "caller_number"),
    ({**CALL, "agent_notes": ["description"]}, "agent_notes"),
    ({**CALL, "agent_notes": "клиент недоволен"}, "agent_notes"),
    ({**CALL, "transcript": {"lines": []}}, "transcript"),
    ({**CALL, "agent_notes": notes(description={"text": "течёт"})}, "agent_notes.description"),
    ({}, "call_id"),
])
def test_bad_payload(payload, word):
    assert word in rejected(normalise(call(payload), RU), R.BAD_PAYLOAD).message


@pytest.mark.parametrize("payload", [
    without("transcript", "agent_notes"),
    {**without("transcript"), "agent_notes": notes(description=_DROP)},
    {**CALL, "transcript": " ", "agent_notes": notes(description="")},
    {**CALL, "transcript": "\n\t\n", "agent_notes": None},
    {**CALL, "transcript": "\u200b\u2060", "agent_notes": {}},
])
def test_empty_description(payload):
    rejected(normalise(call(payload), RU), R.EMPTY_DESCRIPTION)


@pytest.mark.parametrize("number", [None, "", "anonymous", "Скрытый номер", "withheld", "12", "+", "0000"])
def test_no_contact_when_the_number_is_unusable(number):
    payload = without("caller_number") if number is None else {**CALL, "caller_number": number}
    rejected(normalise(call(payload), RU), R.NO_CONTACT)


@pytest.mark.parametrize("extra, phone, email", [
    ({"callback_number": "8 912 345 67 89"}, "+79123456789", None),
    ({"email": "Irina@Example.RU"}, None, "irina@example.ru"),
])
def test_a_contact_the_agent_noted_saves_a_withheld_call(extra, phone, email):
    claim = claim_of(normalise(call(caller_number="anonymous", agent_notes=notes(**extra)), RU))
    assert (claim.customer.phone, claim.customer.email) == (phone, email)


def test_empty_description_is_reported_before_no_contact():
    rejected(normalise(call(caller_number="anonymous", transcript="", agent_notes=None), RU), R.EMPTY_DESCRIPTION)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=12)
_fields = st.sampled_from(["call_id", "caller_number", "agent_id", "ivr_path", "recording_url", "transcript",
                           "agent_notes"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_fields, _json, max_size=7), st.dictionaries(
    st.sampled_from(["customer_name", "order_number", "description", "desired_resolution", "email"]), _json))
def test_hostile_payloads_never_raise(payload, agent_notes):
    for candidate in (payload, {**payload, "agent_notes": agent_notes}, {**CALL, **payload}):
        assert isinstance(normalise(call(candidate), RU), (NormalisedClaim, Rejection))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_transcript_text_never_raises(transcript):
    result = normalise(call(transcript=transcript, agent_notes=None), RU)
    assert isinstance(result, (NormalisedClaim, Rejection))
    if isinstance(result, NormalisedClaim):
        assert result.description.strip()


# --- the sample events --------------------------------------------------------------------------

DATA = Path(os.environ.get("CLAIMFLOW_SAMPLE_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def sample(channel: str) -> list[tuple[Envelope, dict]]:
    events, truth = DATA / "sample-events.jsonl", DATA / "sample-truth.jsonl"
    if not events.exists() or not truth.exists():
        unavailable("the sample events", f"none in {DATA}")
    lines = events.read_bytes().split(b"\n")
    truths = [json.loads(t) for t in truth.read_text(encoding="utf-8").splitlines() if t.strip()]
    found = []
    for raw, t in zip(lines, truths):
        envelope = check_envelope(raw, 262144)
        if not isinstance(envelope, Refused) and envelope.channel.value == channel:
            found.append((envelope, t))
    assert found, f"no valid {channel} events in the sample"
    return found


def test_sample_phone_events_match_the_truth():
    outcomes = {}
    for envelope, truth in sample("phone"):
        result = normalise(envelope, RU)
        reason = truth["quarantine_reason"]
        if reason is None:
            claim = claim_of(result)
            assert claim.description.strip(), envelope.event_id
            assert claim.customer.phone or claim.customer.name, envelope.event_id
        else:
            assert isinstance(result, Rejection) and result.reason.value == reason, (envelope.event_id, result)
        outcomes[reason] = outcomes.get(reason, 0) + 1
    assert outcomes.get(None, 0) > 0


def test_sample_phone_orders_from_the_transcript_agree_with_the_agents():
    compared = 0
    for envelope, truth in sample("phone"):
        p = envelope.payload
        agent_notes = p.get("agent_notes") or {}
        if truth["quarantine_reason"] or not p.get("transcript") or not agent_notes.get("order_number"):
            continue
        with_notes = claim_of(normalise(envelope, RU))
        alone = normalise(call({**p, "agent_notes": {**agent_notes, "order_number": None}}), RU)
        if claim_of(alone).order_ref is not None:
            assert claim_of(alone).order_ref == with_notes.order_ref, envelope.event_id
            compared += 1
    assert compared > 0
