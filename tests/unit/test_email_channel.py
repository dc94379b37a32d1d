"""The claims mailbox: RFC 5322 messages built here with the standard library, then normalised."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from intake_worker.channels import NormaliseContext
from intake_worker.channels.email import normalise
from intake_worker.validation import Refused, check_envelope
from shared.schema import (Channel, Envelope, Ignored, NormalisedClaim, QuarantineReason as R, Rejection,
                           Resolution)
from tests.helpers import claim_of, rejected
from tests.conftest import unavailable  # fails, not skips, when CLAIMFLOW_REQUIRE_SERVICES=1

RU = NormaliseContext("RU")
RECEIVED = datetime(2026, 11, 12, 10, 15, tzinfo=timezone(timedelta(hours=3)))
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data"
COMPLAINT = ("Здравствуйте! Купила у вас чайник, заказ 4815162. Через неделю он начал течь снизу. "
             "Прошу заменить чайник на исправный.")


def envelope(raw: bytes | str | EmailMessage | MIMEText | MIMEMultipart, *, b64: bool = False) -> Envelope:
    if not isinstance(raw, (bytes, str)):
        raw = raw.as_bytes()
    if b64:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        payload = {"raw_base64": base64.b64encode(data).decode("ascii")}
    else:
        payload = {"raw": raw if isinstance(raw, str) else raw.decode("utf-8", errors="surrogateescape")}
    return Envelope(event_id="imap-000777", channel=Channel.EMAIL, source="mailbox", received_at=RECEIVED,
                    payload=payload)


def message(body: str = COMPLAINT, subject: str = "Чайник протекает", sender: str = "Ирина Смирнова",
            address: str = "Irina.Smirnova@Example.ru", **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((sender, address)) if sender else address
    msg["To"] = "claims@shop.example"
    msg["Subject"] = subject
    msg["Date"] = "Thu, 12 Nov 2026 10:14:00 +0300"
    msg["Message-ID"] = "<abc.123@mail.example.ru>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def raw_message(body: bytes, content_type: str = 'text/plain; charset="utf-8"', cte: str = "8bit",
                extra: str = "") -> bytes:
    """A message whose body bytes are written as given: the charset label may lie on purpose."""
    head = ("From: =?utf-8?b?" + base64.b64encode("Пётр Иванов".encode()).decode() + "?= <petr@example.ru>\r\n"
            "To: claims@shop.example\r\nSubject: =?utf-8?q?=D0=96=D0=B0=D0=BB=D0=BE=D0=B1=D0=B0?=\r\n"
            "Date: Thu, 12 Nov 2026 10:14:00 +0300\r\nMessage-ID: <raw.1@example.ru>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n{extra}\r\n")
    return head.encode("ascii") + body


# --- the basic mapping ---------------------------------------------------------------------------

def test_plain_message_is_mapped_field_by_field():
    body = COMPLAINT + " Модель KET-2201.\n\n-- \nИрина Смирнова\nтел. 8 (912) 345-67-89\n"
    claim = claim_of(normalise(envelope(message(body)), RU))
    assert (claim.event_id, claim.source, claim.channel, claim.received_at) == \
        ("imap-000777", "mailbox", Channel.EMAIL, RECEIVED)
    assert claim.customer.name == "Ирина Смирнова"
    assert claim.customer.email == "irina.smirnova@example.ru"
    assert claim.customer.phone == "+79123456789"        # from the signature
    assert claim.subject == "Чайник протекает"
    assert claim.description == COMPLAINT + " Модель KET-2201."   # the signature is left out
    assert claim.order_ref == "4815162"
    assert claim.sku == "KET-2201"
    assert claim.desired_resolution is Resolution.REPLACEMENT
    assert claim.language == "ru"
    assert claim.channel_ids == {"message_id": "abc.123@mail.example.ru"}
    assert claim.references == ()
    assert claim.attachments == ()


@pytest.mark.parametrize("text, ref", [
    ("Пишу по поводу: заказ № 4815162, чайник течёт", "4815162"),
    ("номер заказа: 4815162 — чайник течёт", "4815162"),
    ("My order #4815162 leaks", "4815162"),
    ("Order Number: 4815162, it leaks", "4815162"),
    ("Заказ ORD-4815162: течёт", "4815162"),
    ("купила чайник №4815162, течёт", "4815162"),
    ("Чайник течёт, больше ничего не скажу", None),
])
def test_order_reference_patterns(text, ref):
    claim = claim_of(normalise(envelope(message(text, subject="Жалоба")), RU))
    assert claim.order_ref == ref


def test_order_reference_in_the_subject():
    claim = claim_of(normalise(envelope(message("Течёт чайник.", subject="ORD-4815162")), RU))
    assert claim.order_ref == "4815162"


@pytest.mark.parametrize("text, wanted", [
    ("Прошу вернуть деньги за товар.", Resolution.REFUND),
    ("Хочу возврат денег.", Resolution.REFUND),
    ("I want a refund.", Resolution.REFUND),
    ("Прошу произвести замену.", Resolution.REPLACEMENT),
    ("Please replace it or exchange it.", Resolution.REPLACEMENT),
    ("Нужен ремонт по гарантии.", Resolution.REPAIR),
    ("I'd like it repaired.", Resolution.REPAIR),
    ("Замена или возврат денег — что быстрее.", None),          # two remedies: not clear
    ("Чайник течёт.", None),
])
def test_desired_resolution_only_when_clear(text, wanted):
    claim = claim_of(normalise(envelope(message(text, subject="Жалоба")), RU))
    assert claim.desired_resolution is wanted


def test_english_message_and_bare_address():
    msg = message("Hi, my kettle leaks. Order no. 4815162.\nMob: +44 7911 123456", subject="Leaking kettle",
                  sender="", address="John.Smith@Example.CO.UK")
    claim = claim_of(normalise(envelope(msg), NormaliseContext("GB")))
    assert claim.customer.name is None
    assert claim.customer.email == "john.smith@example.co.uk"
    assert claim.customer.phone == "+447911123456"
    assert claim.language == "en"
    assert claim.order_ref == "4815162"


def test_phone_is_optional_and_order_numbers_are_not_phones():
    claim = claim_of(normalise(envelope(message("Заказ 4815162 от 12.10.2026 не пришёл.")), RU))
    assert claim.customer.phone is None


# --- charsets and transfer encodings -------------------------------------------------------------

@pytest.mark.parametrize("charset, cte", [("koi8-r", "8bit"), ("koi8-r", "base64"), ("koi8-r", "quoted-printable"),
                                          ("windows-1251", "8bit"), ("windows-1251", "base64"),
                                          ("windows-1251", "quoted-printable"), ("utf-8", "quoted-printable"),
                                          ("utf-8", "base64")])
def test_cyrillic_charsets_and_transfer_encodings(charset, cte):
    msg = message(subject="Жалоба")
    msg.set_content(COMPLAINT, charset=charset, cte=cte)
    for b64 in (False, True):
        raw = msg.as_bytes()
        claim = claim_of(normalise(envelope(raw, b64=True) if b64 or cte == "8bit" else envelope(raw), RU))
        assert claim.description == COMPLAINT


def test_mimetext_windows_1251_defaults_to_base64():
    msg = MIMEText(COMPLAINT, "plain", "windows-1251")
    msg["From"] = "petr@example.ru"
    msg["Subject"] = Header("Чайник", "windows-1251")
    assert msg["Content-Transfer-Encoding"] == "base64"
    claim = claim_of(normalise(envelope(msg), RU))
    assert (claim.subject, claim.description) == ("Чайник", COMPLAINT)


@pytest.mark.parametrize("real", ["cp1251", "koi8-r"])
@pytest.mark.parametrize("declared", ['text/plain; charset="utf-8"', 'text/plain; charset="us-ascii"',
                                      "text/plain"])
def test_mislabelled_or_undeclared_8bit_body_is_read_as_russian(real, declared):
    raw = raw_message(COMPLAINT.encode(real), content_type=declared)
    claim = claim_of(normalise(envelope(raw, b64=True), RU))
    assert claim.description == COMPLAINT
    assert claim.order_ref == "4815162"


def test_utf8_body_with_a_stray_byte_stays_utf8():
    raw = raw_message(COMPLAINT.encode("utf-8").replace(b".", b".\xff", 1))
    description = claim_of(normalise(envelope(raw, b64=True), RU)).description
    assert description.replace("\ufffd", "") == COMPLAINT


def test_emoji_only_message_is_a_claim():
    assert claim_of(normalise(envelope(message("😡😡😡 !!!", subject="")), RU)).description == "😡😡😡 !!!"


def test_koi8_body_declared_as_cp1251_is_read_as_koi8():
    raw = raw_message(COMPLAINT.encode("koi8-r"), content_type='text/plain; charset="windows-1251"')
    assert claim_of(normalise(envelope(raw, b64=True), RU)).description == COMPLAINT


def test_utf8_body_declared_as_cp1251_is_read_as_utf8():
    raw = raw_message(COMPLAINT.encode("utf-8"), content_type='text/plain; charset="windows-1251"')
    assert claim_of(normalise(envelope(raw, b64=True), RU)).description == COMPLAINT


def test_body_decoded_as_latin1_before_us_is_repaired():
    """A producer that read cp1251 bytes as Latin-1 and stored the result as text."""
    raw = raw_message(COMPLAINT.encode("cp1251"), content_type='text/plain; charset="windows-1251"')
    claim = claim_of(normalise(envelope(raw.decode("latin-1")), RU))
    assert claim.description == COMPLAINT


def test_8bit_utf8_text_in_raw_string():
    msg = message()
    claim = claim_of(normalise(envelope(msg.as_string()), RU))
    assert claim.description == COMPLAINT


# --- headers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("charset", ["utf-8", "koi8-r", "windows-1251"])
@pytest.mark.parametrize("encoding", ["b", "q"])
def test_rfc2047_subject_and_display_name(charset, encoding):
    def word(text: str) -> str:
        data = text.encode(charset)
        if encoding == "b":
            return f"=?{charset}?b?{base64.b64encode(data).decode()}?="
        return f"=?{charset}?q?" + "".join(f"={b:02X}" if b > 127 or b in b"=?_ " else chr(b)
                                            for b in data).replace("=20", "_") + "?="
    subject = "Чайник протекает уже неделю, прошу помочь с заменой"
    half = len(subject) // 2
    raw = (f"From: {word('Смирнова Ирина')} <irina@example.ru>\r\n"
           f"Subject: {word(subject[:half])}\r\n {word(subject[half:])}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nТекст жалобы.\r\n")
    claim = claim_of(normalise(envelope(raw), RU))
    assert claim.subject == subject
    assert claim.customer.name == "Смирнова Ирина"


def test_encoded_word_split_inside_a_utf8_character():
    data = "Чайник".encode()
    first, second = base64.b64encode(data[:3]).decode(), base64.b64encode(data[3:]).decode()
    raw = (f"From: a@example.ru\r\nSubject: =?utf-8?b?{first}?= =?utf-8?b?{second}?=\r\n\r\nТекст.\r\n")
    assert claim_of(normalise(envelope(raw), RU)).subject == "Чайник"


def test_unencoded_8bit_header_is_decoded():
    raw = ("From: Пётр Иванов <petr@example.ru>\r\nSubject: Жалоба\r\n\r\n" + COMPLAINT).encode("cp1251")
    claim = claim_of(normalise(envelope(raw, b64=True), RU))
    assert (claim.customer.name, claim.subject, claim.description) == ("Пётр Иванов", "Жалоба", COMPLAINT)


# --- MIME structure ------------------------------------------------------------------------------

def html_body(text: str) -> str:
    return (f"<html><head><style>p {{color: red}}</style><script>alert('x')</script></head><body>"
            f"<p>Здравствуйте!<br>\n   {text}</p><div>С&nbsp;уважением, &laquo;Ирина&raquo;</div></body></html>")


def test_alternative_prefers_text_plain():
    msg = message("Простой текст жалобы.")
    msg.add_alternative(html_body("HTML-текст жалобы."), subtype="html")
    assert msg.get_content_type() == "multipart/alternative"
    assert claim_of(normalise(envelope(msg), RU)).description == "Простой текст жалобы."


def test_html_only_body_becomes_clean_text():
    msg = message()
    msg.set_content(html_body("Чайник течёт, заказ 4815162."), subtype="html", charset="koi8-r",
                    cte="quoted-printable")
    claim = claim_of(normalise(envelope(msg), RU))
    assert claim.description == "Здравствуйте!\nЧайник течёт, заказ 4815162.\n\nС уважением, «Ирина»"
    assert claim.order_ref == "4815162"


@pytest.mark.parametrize("html, text", [
    ("<div>Чайник течёт.</div><div>Заказ 4815162.</div><div><br></div><div>Ирина</div>",
     "Чайник течёт.\nЗаказ 4815162.\n\nИрина"),
    ("<p>Первый абзац,<br>вторая строка<br></p><p>Второй абзац</p>", "Первый абзац,\nвторая строка\n\nВторой абзац"),
    ("<ul><li>шнур</li><li>пульт</li></ul>Нет в коробке", "- шнур\n- пульт\n\nНет в коробке"),
    ("Текст &amp; сущности &#x27;x&#x27; &lt;b&gt;", "Текст & сущности 'x' <b>"),
])
def test_html_layout(html, text):
    msg = message()
    msg.set_content(html, subtype="html")
    assert claim_of(normalise(envelope(msg), RU)).description == text


def test_html_with_empty_plain_alternative_falls_back_to_html():
    msg = MIMEMultipart("alternative")
    msg["From"] = "a@example.ru"
    msg.attach(MIMEText("  \n", "plain", "utf-8"))
    msg.attach(MIMEText("<p>Сломался <b>пылесос</b></p>", "html", "utf-8"))
    assert claim_of(normalise(envelope(msg), RU)).description == "Сломался пылесос"


def test_html_blockquote_is_stripped_as_quote():
    msg = message()
    msg.set_content('<div>Есть новости?</div><div class="gmail_quote">вт, 10 нояб. 2026 г. в 10:00, '
                    'Shop &lt;support@shop.example&gt;:<blockquote>Мы получили ваше обращение.</blockquote></div>',
                    subtype="html")
    assert claim_of(normalise(envelope(msg), RU)).description == "Есть новости?"


def test_outlook_html_reply_header_is_stripped():
    msg = message()
    msg.set_content('<div>Any news?</div><hr><div id="divRplyFwdMsg"><b>From:</b> Shop &lt;s@shop.example&gt;<br>'
                    '<b>Sent:</b> Tuesday<br><b>To:</b> me<br><b>Subject:</b> RE</div><div>We got it.</div>',
                    subtype="html")
    assert claim_of(normalise(envelope(msg), RU)).description == "Any news?"


def test_attachments_with_rfc2231_filename():
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    msg = message()
    msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="фото чека.jpg")
    raw = msg.as_bytes()
    assert b"filename*=utf-8''" in raw
    claim = claim_of(normalise(envelope(raw), RU))
    assert claim.description == COMPLAINT
    (att,) = claim.attachments
    assert (att.filename, att.content_type, att.size) == ("фото чека.jpg", "image/jpeg", len(photo))
    assert att.sha256 == hashlib.sha256(photo).hexdigest()
    assert att.content == photo
    assert "content" not in att.model_dump() and "content" not in claim.model_dump()["attachments"][0]


def test_rfc2231_filename_in_koi8_and_rfc2047_filename():
    mixed = MIMEMultipart()
    mixed["From"] = "a@example.ru"
    mixed.attach(MIMEText("Фото прилагаю.", "plain", "utf-8"))
    first = MIMEText("лог", "plain", "utf-8")
    first.add_header("Content-Disposition", "attachment", filename=("koi8-r", "", "чек.txt"))
    second = MIMEText("x", "plain", "utf-8")
    second.add_header("Content-Disposition", "attachment", filename=Header("акт.pdf", "utf-8").encode())
    mixed.attach(first)
    mixed.attach(second)
    claim = claim_of(normalise(envelope(mixed), RU))
    assert claim.description == "Фото прилагаю."
    assert [a.filename for a in claim.attachments] == ["чек.txt", "акт.pdf"]


def test_forwarded_message_is_an_attachment():
    outer = message("Пересылаю переписку.")
    outer.add_attachment(message("старое письмо"))
    claim = claim_of(normalise(envelope(outer), RU))
    assert claim.description == "Пересылаю переписку."
    assert [a.content_type for a in claim.attachments] == ["message/rfc822"]


# --- replies -------------------------------------------------------------------------------------

def test_reply_with_quote_and_thread_headers():
    body = ("Прошло две недели, ответа нет.\n\nИрина\n\n"
            "On Tue, 10 Nov 2026 at 10:00, Shop Support <support@shop.example> wrote:\n"
            "> Здравствуйте! Ваше обращение получено.\n>\n> С уважением, служба поддержки\n")
    msg = message(body, subject="Re: Чайник протекает",
                  In_Reply_To="<reply.2@shop.example>",
                  References="<first.1@example.ru> <reply.2@shop.example>")
    claim = claim_of(normalise(envelope(msg), RU))
    assert claim.description == "Прошло две недели, ответа нет.\n\nИрина"
    assert claim.references == ("reply.2@shop.example", "first.1@example.ru")
    assert claim.subject == "Re: Чайник протекает"


@pytest.mark.parametrize("quote", [
    "-----Original Message-----\nFrom: Shop <support@shop.example>\nSent: 10 November 2026\n\nWe got it.",
    "10.11.2026 10:00, Служба поддержки пишет:\n> Мы получили обращение.",
    "вт, 10 нояб. 2026 г. в 10:00, Shop <support@shop.example>:\n> Мы получили обращение.",
    "From: Shop <support@shop.example>\nSent: Tuesday, November 10, 2026\nTo: me\nSubject: RE\n\nWe got it.",
    "________________________________\nОт: Shop <support@shop.example>\nОтправлено: 10 ноября\n\nПолучили.",
])
def test_quote_styles_are_stripped(quote):
    claim = claim_of(normalise(envelope(message(f"Есть новости по заказу?\n\n{quote}\n")), RU))
    assert claim.description == "Есть новости по заказу?"


def test_bottom_posted_reply_keeps_the_new_text():
    body = "Ирина Смирнова пишет:\n> Когда будет решение?\n\nРешения всё ещё нет, жду ответа."
    assert claim_of(normalise(envelope(message(body)), RU)).description == "Решения всё ещё нет, жду ответа."


def test_all_quoted_reply_keeps_the_quoted_text():
    body = "On Tue, 10 Nov 2026, Irina <irina@example.ru> wrote:\n> Чайник течёт, прошу замену.\n"
    claim = claim_of(normalise(envelope(message(body)), RU))
    assert claim.description == "Чайник течёт, прошу замену."


def test_mobile_footer_and_signature_are_dropped_but_never_everything():
    claim = claim_of(normalise(envelope(message("Сломался фен.\n\nОтправлено с iPhone")), RU))
    assert claim.description == "Сломался фен."
    claim = claim_of(normalise(envelope(message("--\nИрина Смирнова")), RU))
    assert claim.description == "--\nИрина Смирнова"


# --- automatic replies ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers, subject", [
    ({"Auto_Submitted": "auto-replied"}, "Re: Скидки недели"),
    ({"Auto_Submitted": "auto-generated; owner-email=x@example.ru"}, "Уведомление"),
    ({"X_Autoreply": "yes"}, "Re: Скидки недели"),
    ({"X_Autorespond": "Out of office"}, "Re: Скидки недели"),
    ({"Precedence": "auto_reply"}, "Скидки"),
    ({"Precedence": "bulk"}, "Out of Office"),
    ({"Precedence": "junk"}, "Автоответ"),
    ({}, "Автоответ: Скидки недели в ТехноДоме"),
    ({}, "Automatic reply: This week's deals"),
])
def test_automatic_replies_are_ignored(headers, subject):
    msg = message("Я в отпуске до 20.11.2026.", subject=subject, **headers)
    result = normalise(envelope(msg), RU)
    assert isinstance(result, Ignored), result
    assert result.reason == "auto_reply" and result.message


@pytest.mark.parametrize("headers, subject", [
    ({"Auto_Submitted": "no"}, "Жалоба"),
    ({"Precedence": "bulk"}, "Жалоба"),
    ({}, "Out of office hours nobody answers the phone"),
])
def test_human_messages_are_not_auto_replies(headers, subject):
    claim_of(normalise(envelope(message(subject=subject, **headers)), RU))


def test_delivery_report_is_ignored():
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example"
    report.attach(MIMEText("Delivery failed", "plain"))
    assert isinstance(normalise(envelope(report), RU), Ignored)


# --- message ids ---------------------------------------------------------------------------------

def test_missing_message_id_gets_a_stable_key():
    def without_id(body: str) -> EmailMessage:
        msg = message(body)
        del msg["Message-ID"]
        return msg
    first = claim_of(normalise(envelope(without_id(COMPLAINT)), RU)).channel_ids["message_id"]
    again = claim_of(normalise(envelope(without_id(COMPLAINT), b64=True), RU)).channel_ids["message_id"]
    other = claim_of(normalise(envelope(without_id(COMPLAINT + " Срочно.")), RU)).channel_ids["message_id"]
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64
    assert first == again != other


def test_normalise_is_pure():
    env = envelope(message())
    assert normalise(env, RU) == normalise(env, RU)


# --- quarantine ----------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [{}, {"raw": 42}, {"raw": ["From: a@b.c"]}, {"raw_base64": None},
                                     {"body": "From: a@example.ru\r\n\r\nтекст"}])
def test_payload_without_a_message_is_bad_payload(payload):
    env = Envelope(event_id="e", channel=Channel.EMAIL, source="mailbox", received_at=RECEIVED, payload=payload)
    rejected(normalise(env, RU), R.BAD_PAYLOAD)


@pytest.mark.parametrize("payload", [
    {"raw": ""},
    {"raw": "   \r\n"},
    {"raw": "^Ï¼´°¨ÇÑÊ³Ä«¿¿½·Æ&~ËÎ³±¥*Ë-$*¥¾«%®ª§Ð½=¿Æ"},
    {"raw_base64": base64.b64encode(bytes(range(256)) * 3).decode()},
    {"raw_base64": "this is *not* base64!"},
    {"raw_base64": "QUJD="},
])
def test_garbage_is_undecodable(payload):
    env = Envelope(event_id="e", channel=Channel.EMAIL, source="mailbox", received_at=RECEIVED, payload=payload)
    result = rejected(normalise(env, RU), R.UNDECODABLE_EMAIL)
    assert result.message


def test_binary_noise_in_a_text_part_is_undecodable():
    noise = hashlib.sha512(b"seed").digest() * 8
    raw = raw_message(base64.b64encode(noise), content_type='text/plain; charset="utf-8"', cte="base64")
    rejected(normalise(envelope(raw), RU), R.UNDECODABLE_EMAIL)


def test_headers_without_sender_or_text_are_undecodable():
    rejected(normalise(envelope("To: claims@shop.example\r\nDate: Thu, 12 Nov 2026 10:14:00 +0300\r\n\r\n"), RU),
             R.UNDECODABLE_EMAIL)


def test_text_without_a_usable_sender_is_no_contact():
    rejected(normalise(envelope("From: Irina <not-an-address>\r\nSubject: x\r\n\r\nЧайник течёт.\r\n"), RU),
             R.NO_CONTACT)


def test_reply_to_stands_in_for_a_broken_from():
    raw = "From: Irina <broken>\r\nReply-To: irina@example.ru\r\n\r\nЧайник течёт.\r\n"
    assert claim_of(normalise(envelope(raw), RU)).customer.email == "irina@example.ru"


def test_no_text_and_no_subject_is_empty_description():
    msg = message("  \n\n", subject="Re: ")
    rejected(normalise(envelope(msg), RU), R.EMPTY_DESCRIPTION)


def test_subject_alone_becomes_the_description():
    msg = message("\n", subject="Re: Чайник протекает")
    claim = claim_of(normalise(envelope(msg), RU))
    assert claim.description == "Чайник протекает"


@pytest.mark.parametrize("raw", [
    "From: a@example.ru\r\nContent-Type: text/plain; charset=base64_codec\r\n\r\nЧайник течёт.",
    "From: a@example.ru\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nChainik techet.",
    "From: a@example.ru\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
    "From: a@example.ru\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@",
    "From: a@example.ru\r\nSubject: =?utf-8?b?!!!?= =?x-unknown?q?=FF?=\r\n\r\ntext",
    "From: a@example.ru\r\nContent-Disposition: attachment; filename*=bogus'xx'%FF%FE\r\n\r\ntext",
    "From: a@example.ru\r\nIn-Reply-To: garbage\r\nReferences: <>\r\nMessage-ID: <>\r\n\r\ntext",
    "From: a@example.ru\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    + "".join(f"--b\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n" for i in range(60)) + "text",
    "From: a@example.ru\r\nContent-Type: text/html\r\n\r\n" + "<div>" * 20000 + "x",
    "From: a@example.ru\r\nContent-Type: text/html\r\n\r\n" + "<blockquote>" * 5000 + "x",
    "From: a@example.ru\r\nSubject: " + "=?utf-8?b?0JA=?= " * 5000 + "\r\n\r\ntext",
])
def test_hostile_messages_never_raise(raw):
    result = normalise(envelope(raw), RU)
    assert isinstance(result, (NormalisedClaim, Rejection, Ignored))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    result = normalise(envelope(data, b64=True), RU)
    assert isinstance(result, (NormalisedClaim, Rejection, Ignored))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_random_bodies_never_raise(text):
    result = normalise(envelope("From: a@example.ru\r\nSubject: x\r\n\r\n" + text), RU)
    assert isinstance(result, (NormalisedClaim, Rejection, Ignored))


# --- the sample mailbox --------------------------------------------------------------------------

def sample_lines():
    events, truth = SAMPLES / "sample-events.jsonl", SAMPLES / "sample-truth.jsonl"
    if not events.exists():
        unavailable("the sample events", f"none in {SAMPLES}")
    for line, expected in zip(events.read_text("utf-8").splitlines(), truth.read_text("utf-8").splitlines()):
        env = check_envelope(line, 262144)
        if isinstance(env, Refused) or env.channel is not Channel.EMAIL:
            continue
        yield env, json.loads(expected)


def test_sample_mailbox_outcomes():
    seen = {"claim": 0, "auto_reply": 0, "undecodable": 0}
    for env, truth in sample_lines():
        result = normalise(env, RU)
        if truth["dup_kind"] == "auto_reply":
            assert isinstance(result, Ignored) and result.reason == "auto_reply", (env.event_id, result)
            seen["auto_reply"] += 1
        elif truth["quarantine_reason"] == "undecodable_email":
            rejected(result, R.UNDECODABLE_EMAIL)
            seen["undecodable"] += 1
        elif truth["quarantine_reason"] is None:
            claim = claim_of(result)
            assert claim.description.strip() and claim.customer.email, env.event_id
            assert "\ufffd" not in claim.description and "Ð" not in claim.description, env.event_id
            seen["claim"] += 1
    assert all(seen.values()), seen
