"""check_envelope: the envelope table and quarantine reason codes of events.md."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from intake_worker.validation import Refused, check_envelope
from shared.schema import Channel, Envelope, QuarantineReason as R

LIMIT = 256 * 1024


def envelope(**overrides) -> dict:
    doc = {"event_id": "web-000123", "channel": "web", "source": "site",
           "received_at": "2026-11-12T03:36:25+03:00",
           "payload": {"name": "Ирина Смирнова", "email": "irina@example.ru", "description": "Чайник протекает"}}
    for key, value in overrides.items():
        if value is _DROP:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


_DROP = object()


def line(**overrides) -> str:
    return json.dumps(envelope(**overrides), ensure_ascii=False)


def refused(result, reason: R) -> Refused:
    assert isinstance(result, Refused), f"expected a {reason.value} refusal, got {result!r}"
    assert result.rejection.reason is reason, result.rejection
    return result


# --- not_json ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "this is not json",
    '[{"event_id": "web-000123", "channel": "web"}]',           # a JSON array line
    '{"event_id": "web-000123", "channel": "web", "sour',        # truncated mid-object
    "",
    "null",
    '"just a string"',
    "42",
    b"\x00\x01\x02 binary junk",
])
def test_not_a_json_object_is_not_json_and_kept_verbatim(raw):
    result = refused(check_envelope(raw, LIMIT), R.NOT_JSON)
    assert (result.event_id, result.source, result.channel) == (None, None, None)
    expected_body = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
    assert result.body == expected_body


# --- missing_field ----------------------------------------------------------------------------

@pytest.mark.parametrize("dropped", [
    ("event_id",), ("channel",), ("source",), ("received_at",), ("payload",), ("source", "received_at"),
])
def test_missing_fields_are_named_in_the_message(dropped):
    result = refused(check_envelope(line(**{f: _DROP for f in dropped}), LIMIT), R.MISSING_FIELD)
    for name in dropped:
        assert name in result.rejection.message
    for name in {"event_id", "channel", "source", "received_at", "payload"} - set(dropped):
        assert name not in result.rejection.message


@pytest.mark.parametrize("field", ["event_id", "source", "received_at"])
def test_empty_or_null_required_field_counts_as_missing(field):
    for value in ("", None):
        result = refused(check_envelope(line(**{field: value}), LIMIT), R.MISSING_FIELD)
        assert field in result.rejection.message


@pytest.mark.parametrize("event_id", [12345, "x" * 201])
def test_event_id_must_be_a_string_of_at_most_200_chars(event_id):
    refused(check_envelope(line(event_id=event_id), LIMIT), R.MISSING_FIELD)


def test_event_id_of_exactly_200_chars_is_accepted():
    result = check_envelope(line(event_id="e" * 200), LIMIT)
    assert isinstance(result, Envelope) and result.event_id == "e" * 200


# --- unknown_channel --------------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["fax", "WEB", "telegram", 7])
def test_unknown_channel(channel):
    result = refused(check_envelope(line(channel=channel), LIMIT), R.UNKNOWN_CHANNEL)
    assert "web" in result.rejection.message and "marketplace" in result.rejection.message


@pytest.mark.parametrize("channel", [["web"], {"name": "web"}])
def test_structured_channel_is_unknown_channel_not_a_crash(channel):
    refused(check_envelope(line(channel=channel), LIMIT), R.UNKNOWN_CHANNEL)


# --- bad_timestamp ----------------------------------------------------------------------------

@pytest.mark.parametrize("received_at", [
    1731382585,                       # epoch seconds
    1731382585123,                    # epoch milliseconds
    "1731382585",                     # epoch as a string
    "0000-00-00T00:00:00Z",
    "2026-11-12T03:36:25",            # naive: no offset, a guessed zone would move the deadlines
    "2026-11-12",
    "вчера в 14:20",
    "12/11/2026 03:36",
])
def test_bad_timestamp(received_at):
    result = refused(check_envelope(line(received_at=received_at), LIMIT), R.BAD_TIMESTAMP)
    assert "received_at" in result.rejection.message


NOW = datetime(2026, 11, 12, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("received_at, says", [
    ("9999-12-31T23:59:59+14:00", "hours after now"),       # once overflowed the SLA calendar in routing
    ("0001-01-01T00:00:00+00:00", "days before now"),       # once fired every escalation at the first sweep
    ("2026-11-14T09:00:00+00:00", "hours after now"),
    ("2021-11-01T09:00:00+00:00", "days before now"),
])
def test_a_timestamp_far_from_now_is_bad_and_says_why(received_at, says):
    result = refused(check_envelope(line(received_at=received_at), LIMIT, NOW), R.BAD_TIMESTAMP)
    assert says in result.rejection.message and "CLAIMFLOW_RECEIVED_AT_MAX_" in result.rejection.message
    assert result.event_id == "web-000123"


@pytest.mark.parametrize("received_at", ["2026-11-13T08:59:00+00:00", "2022-01-01T00:00:00+03:00",
                                         "2026-11-12T11:59:00+03:00"])
def test_a_timestamp_within_the_window_is_accepted(received_at):
    assert isinstance(check_envelope(line(received_at=received_at), LIMIT, NOW), Envelope)


def test_the_window_is_the_operators_and_is_not_judged_without_a_clock():
    from intake_worker.validation import ReceivedWindow
    narrow = ReceivedWindow(back=timedelta(days=30), ahead=timedelta(0))
    refused(check_envelope(line(received_at="2026-10-01T00:00:00+00:00"), LIMIT, NOW, narrow), R.BAD_TIMESTAMP)
    assert isinstance(check_envelope(line(received_at="9999-12-31T23:59:59+14:00"), LIMIT), Envelope)


# --- bad_payload ------------------------------------------------------------------------------

@pytest.mark.parametrize("payload, kind", [("a claim as plain text", "str"), ([{"description": "x"}], "list"),
                                           (17, "int")])
def test_payload_must_be_an_object(payload, kind):
    result = refused(check_envelope(line(payload=payload), LIMIT), R.BAD_PAYLOAD)
    assert kind in result.rejection.message


# --- oversize ---------------------------------------------------------------------------------

def test_oversize_names_size_and_limit_and_keeps_identity():
    raw = line(payload={"description": "x" * 5000, "email": "a@example.ru"})
    result = refused(check_envelope(raw, 4096), R.OVERSIZE)
    assert "4096" in result.rejection.message
    assert str(len(raw.encode())) in result.rejection.message
    assert (result.event_id, result.source, result.channel) == ("web-000123", "site", "web")
    assert result.body == raw


def test_oversize_counts_utf8_bytes_not_characters():
    raw = line(payload={"description": "ж" * 1000, "email": "a@example.ru"})
    assert len(raw) < 1500 < len(raw.encode("utf-8"))
    refused(check_envelope(raw, 1500), R.OVERSIZE)
    assert isinstance(check_envelope(raw, len(raw.encode("utf-8"))), Envelope)   # exactly at the limit is fine


def test_oversize_junk_is_oversize_without_identity():
    result = refused(check_envelope("z" * 100, 50), R.OVERSIZE)
    assert result.event_id is None and result.source is None


# --- identity on refusals ---------------------------------------------------------------------

@pytest.mark.parametrize("overrides, reason", [
    ({"channel": "fax"}, R.UNKNOWN_CHANNEL),
    ({"received_at": "вчера в 14:20"}, R.BAD_TIMESTAMP),
    ({"payload": "text"}, R.BAD_PAYLOAD),
    ({"received_at": _DROP}, R.MISSING_FIELD),
])
def test_refusal_keeps_the_identity_it_could_read(overrides, reason):
    raw = line(**overrides)
    result = refused(check_envelope(raw, LIMIT), reason)
    assert (result.event_id, result.source) == ("web-000123", "site")
    assert result.body == raw


def test_refusal_with_missing_source_still_keeps_event_id():
    result = refused(check_envelope(line(source=_DROP), LIMIT), R.MISSING_FIELD)
    assert result.event_id == "web-000123" and result.source is None


# --- valid envelopes --------------------------------------------------------------------------

@pytest.mark.parametrize("stamp, expected", [
    ("2026-11-12T03:36:25+03:00", datetime(2026, 11, 12, 0, 36, 25, tzinfo=timezone.utc)),
    ("2026-11-12T03:36:25Z", datetime(2026, 11, 12, 3, 36, 25, tzinfo=timezone.utc)),
    ("2026-11-12T03:36:25.123-05:00", datetime(2026, 11, 12, 8, 36, 25, 123000, tzinfo=timezone.utc)),
])
def test_valid_envelope_is_parsed_with_an_aware_received_at(stamp, expected):
    result = check_envelope(line(received_at=stamp), LIMIT)
    assert isinstance(result, Envelope)
    assert result.received_at.tzinfo is not None and result.received_at.utcoffset() is not None
    assert result.received_at == expected
    assert (result.event_id, result.channel, result.source) == ("web-000123", Channel.WEB, "site")
    assert result.payload == envelope()["payload"]


def test_bytes_and_text_give_the_same_envelope():
    raw = line()
    assert check_envelope(raw.encode("utf-8"), LIMIT) == check_envelope(raw, LIMIT)


def test_received_at_offset_is_preserved():
    result = check_envelope(line(received_at="2026-11-12T03:36:25+03:00"), LIMIT)
    assert result.received_at.utcoffset() == timedelta(hours=3)


@pytest.mark.parametrize("channel", [c.value for c in Channel])
def test_every_contract_channel_is_accepted(channel):
    result = check_envelope(line(channel=channel), LIMIT)
    assert isinstance(result, Envelope) and result.channel is Channel(channel)


# --- encoding and hostile text ----------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    b"\xff\xfe\x00garbage",
    line().encode("utf-8").replace("Ирина".encode(), "Ирина".encode("cp1251")),
    line(payload={"description": "Чайник течёт", "email": "a@example.ru"}).encode("cp1251"),
])
def test_non_utf8_bytes_do_not_raise(raw):
    assert isinstance(check_envelope(raw, LIMIT), (Envelope, Refused))


def test_windows_1251_encoded_envelope_is_quarantined_not_mangled():
    raw = line(payload={"description": "Чайник течёт", "email": "a@example.ru"}).encode("cp1251")
    assert isinstance(check_envelope(raw, LIMIT), Refused)


@pytest.mark.parametrize("field", ["event_id", "source"])
def test_lone_surrogate_escape_in_identity_does_not_raise(field):
    raw = json.dumps(envelope(**{field: "web-\ud800-1"}))     # ASCII JSON: written as the escape \ud800
    assert "\\ud800" in raw
    assert isinstance(check_envelope(raw, LIMIT), (Envelope, Refused))


HOSTILE = [
    'O\'Brien "Bobby" `tick`',
    "Robert'); DROP TABLE claims; --",
    "1 OR 1=1; SELECT * FROM customers WHERE '' = ''",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "\u202eтекст справа налево\u202c и \u200bнулевой\u200d ширины\ufeff",
    "emoji 🧯🔥 и комбинированные й́",
    "back\\slash \\n not a newline, real\nnewline\ttab",
    "Я" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_but_valid_text_is_accepted_and_kept_exactly(text):
    payload = {"name": text, "description": text, "email": "a@example.ru"}
    for raw in (line(payload=payload, source=text[:100]), line(payload=payload, source=text[:100]).encode()):
        result = check_envelope(raw, LIMIT)
        assert isinstance(result, Envelope), result
        assert result.payload["name"] == text and result.payload["description"] == text
        assert result.source == text[:100]


def test_a_source_longer_than_a_producer_name_can_be_is_refused_clearly():
    result = refused(check_envelope(line(source="s" * 101), LIMIT), R.MISSING_FIELD)
    assert "1 to 100 characters" in result.rejection.message and result.source is None


@pytest.mark.parametrize("event_id", ["web-'; DROP TABLE inbox; --", '<b>"id"</b>', "id\u200bwith\u202ertl"])
def test_hostile_event_id_kept_exactly(event_id):
    result = check_envelope(line(event_id=event_id), LIMIT)
    assert isinstance(result, Envelope) and result.event_id == event_id
