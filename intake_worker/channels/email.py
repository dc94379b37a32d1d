"""The claims mailbox (``events.md``, channel ``email``): one RFC 5322 message per event, as text
(``raw``) or as base64 of its bytes (``raw_base64``). Parsed with the standard library's compat32
policy, which never raises on a broken message; charsets, header words and HTML are read by
:mod:`intake_worker.channels.email_parts`."""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from intake_worker.channels.email_parts import (decode_bytes, decode_header_value, html_to_text, readable,
                                                split_reply, tidy, unmojibake)
from intake_worker.contacts import guess_language, normalise_email
from intake_worker.mentions import find_order_ref, find_phone, find_resolution, find_sku
from shared.schema import Attachment, Customer, Envelope, Ignored, NormalisedClaim, QuarantineReason, Rejection

R = QuarantineReason
MAX_DEPTH = 20          # MIME nesting deeper than any mailer makes is left unread
SIGNATURES = frozenset({"application/pgp-signature", "application/pkcs7-signature",
                        "application/x-pkcs7-signature"})
KNOWN_HEADERS = ("from", "to", "subject", "date", "message-id", "received", "content-type", "mime-version",
                 "reply-to", "sender", "return-path", "in-reply-to", "references", "cc")

_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|tr|ответ|отв|пересл)\s*(\[\d+\])?\s*:\s*)+", re.I)
_AUTO_SUBJECT = re.compile(r"^\s*(автоответ|автоматический ответ|auto(matic)?[- ]?(reply|response)|autoreply|"
                           r"out of (the )?office( reply| autoreply)?|abwesenheitsnotiz|réponse automatique|"
                           r"undeliverable|delivery status notification|недоставленное сообщение)\b", re.I)
_BOUNCERS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_MSG_ID = re.compile(r"<([^<>\s]{1,500})>")


def _refuse(reason: QuarantineReason, message: str) -> Rejection:
    return Rejection(reason=reason, message=message)


def _raw_bytes(payload: dict) -> bytes | Rejection:
    b64, raw = payload.get("raw_base64"), payload.get("raw")
    if isinstance(b64, str):
        data = re.sub(r"\s+", "", b64)
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        except (binascii.Error, ValueError) as e:
            return _refuse(R.UNDECODABLE_EMAIL, f"raw_base64 is not valid base64 ({e})")
    if isinstance(raw, str):
        for errors in ("strict", "surrogateescape"):    # lone surrogates: bytes a producer escaped
            try:
                return raw.encode("utf-8", errors=errors)
            except UnicodeEncodeError:
                continue
        return raw.encode("utf-8", errors="replace")
    return _refuse(R.BAD_PAYLOAD, "an e-mail payload needs the message as text in \"raw\" or as base64 "
                                  "in \"raw_base64\"")


def _header(msg: Message, name: str) -> str | None:
    """A header's raw value (first occurrence), as stored: undecoded, surrogate-escaped 8-bit bytes."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _text(msg: Message, name: str) -> str:
    return decode_header_value(_header(msg, name))


def _auto_reply(msg: Message, subject: str) -> str | None:
    """Why the message is an automatic reply (RFC 3834 and the usual vendor headers), or None."""
    auto = (_header(msg, "Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        value = _header(msg, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name}: {value.strip()[:40]}"
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    if _AUTO_SUBJECT.match(subject) and (precedence in ("bulk", "junk", "list")
                                         or re.match(_AUTO_SUBJECT.pattern + r"[^:]{0,20}:", subject, re.I)):
        return f"subject {subject[:60]!r}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report (multipart/report)"
    if _BOUNCERS.match(parseaddr(_text(msg, "From"))[1] or ""):
        return "a mailer daemon's message"
    return None


def _sender(msg: Message) -> tuple[str | None, str | None]:
    """(name, normalised address) of From, else Reply-To, else Sender."""
    for header in ("From", "Reply-To", "Sender"):
        raw = _header(msg, header)
        if not raw:
            continue
        unfolded = re.sub(r"\r?\n", "", raw)
        pairs = getaddresses([unfolded]) + [parseaddr(unfolded)]
        pairs += [("", m) for m in re.findall(r"[^\s<>\"(),;:]+@[^\s<>\"(),;:]+", decode_header_value(raw))]
        for name, addr in pairs:
            email = normalise_email(decode_header_value(addr))
            if email:
                name = decode_header_value(name).strip(" \"'")
                return (name if name and "@" not in name else None), email
    return None, None


def _filename(part: Message) -> str | None:
    """An attachment's name: RFC 2231 (its declared charset checked) or RFC 2047 words; no path."""
    for header, key in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.get_param(key, None, header)
        if value is None:
            continue
        if isinstance(value, tuple):                      # RFC 2231: (charset, language, latin-1 text)
            name = decode_bytes(str(value[2]).encode("raw-unicode-escape"), value[0] or None)
        else:
            name = decode_header_value(str(value).strip('"'))
        name = re.sub(r"[\x00-\x1f\x7f]", "", name.replace("\\", "/")).rsplit("/", 1)[-1].strip()
        if name:
            return name[:255]
    return None


def _attachment(part: Message, content: bytes, filename: str | None) -> Attachment:
    return Attachment(filename=filename, content_type=part.get_content_type(), size=len(content),
                      sha256=hashlib.sha256(content).hexdigest(), content=content)


def _walk(part: Message, bodies: list[tuple[str, str]], attachments: list[Attachment], depth: int = 0) -> None:
    """Body texts (``plain``/``html``, decoded) and attachments of a MIME tree, in order; of a
    multipart/alternative the text/plain branch when it has text, else the first that has."""
    if depth > MAX_DEPTH:
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822":           # a forwarded message travels whole, as an .eml attachment
        inner = part.get_payload()
        content = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        attachments.append(_attachment(part, content, _filename(part) or "message.eml"))
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype != "multipart/alternative":
            for child in children:
                _walk(child, bodies, attachments, depth + 1)
            return
        branches = []
        for child in children:
            branch: list[tuple[str, str]] = []
            _walk(child, branch, attachments, depth + 1)
            branches.append(branch)
        with_text = [b for b in branches if any(text.strip() for _, text in b)]
        plain = [b for b in with_text if any(kind == "plain" and text.strip() for kind, text in b)]
        bodies.extend((plain or with_text or [[]])[0])
        return
    if ctype in SIGNATURES:
        return
    filename = _filename(part)
    content = part.get_payload(decode=True)
    content = content if isinstance(content, bytes) else b""
    if part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment" and not filename:
        text = unmojibake(decode_bytes(content, part.get_content_charset()))
        bodies.append(("html", html_to_text(text)) if ctype == "text/html" else ("plain", tidy(text)))
        return
    attachments.append(_attachment(part, content, filename))


def _references(msg: Message, own: str | None) -> tuple[str, ...]:
    ids: list[str] = []
    for header in ("In-Reply-To", "References"):
        value = _header(msg, header) or ""
        found = _MSG_ID.findall(value) or [t for t in value.split() if "@" in t]
        ids.extend(i for i in found if i not in ids and i != own)
    return tuple(ids)


def _message_id(msg: Message, sender: str | None, body: str) -> str:
    value = (_header(msg, "Message-ID") or "").strip()
    found = _MSG_ID.search(value)
    if found:
        return found.group(1)
    if value and " " not in value and value.isprintable() and len(value) <= 500:
        return value.strip("<>")
    key = "\n".join((sender or _text(msg, "From"), (_header(msg, "Date") or "").strip(), body))
    return "sha256:" + hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection | Ignored:
    try:
        return _normalise(envelope, context)
    except Exception as e:  # noqa: BLE001 - hostile input must quarantine, never crash the worker
        return _refuse(R.UNDECODABLE_EMAIL, f"the e-mail could not be read: {type(e).__name__}: {str(e)[:200]}")


def _normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection | Ignored:
    raw = _raw_bytes(envelope.payload)
    if isinstance(raw, Rejection):
        return raw
    if not raw.strip():
        return _refuse(R.UNDECODABLE_EMAIL, "the e-mail is empty")
    msg = BytesParser(policy=compat32).parsebytes(raw)
    if not any(key.lower() in KNOWN_HEADERS for key in msg.keys()):
        return _refuse(R.UNDECODABLE_EMAIL, "no e-mail headers could be read: the message is not RFC 5322 text")
    subject = _text(msg, "Subject")
    auto = _auto_reply(msg, subject)
    if auto:
        return Ignored(reason="auto_reply", message=f"an automatic reply ({auto}); recorded, not a claim")
    bodies: list[tuple[str, str]] = []
    attachments: list[Attachment] = []
    _walk(msg, bodies, attachments)
    body = tidy("\n\n".join(text for _, text in bodies if text.strip()))
    if body and not readable(body):
        return _refuse(R.UNDECODABLE_EMAIL, "the e-mail's text cannot be decoded into anything readable "
                                            f"(it begins {body[:40]!r})")
    name, sender = _sender(msg)
    if not sender:
        if not body and not subject:
            return _refuse(R.UNDECODABLE_EMAIL, "the e-mail has neither a sender nor any text")
        return _refuse(R.NO_CONTACT, "the e-mail has no usable sender address (From, Reply-To, Sender), "
                                     "so nobody can answer the customer")
    reply = split_reply(body)
    topic = _REPLY_PREFIX.sub("", subject).strip()
    description = reply.text or reply.new or reply.quoted or topic
    if not description:
        return _refuse(R.EMPTY_DESCRIPTION, "the e-mail has no text and no subject: nothing says what the "
                                            "problem is")
    message_id = _message_id(msg, sender, body)
    seen: set[tuple[str | None, str | None]] = set()
    unique = [a for a in attachments if (a.sha256, a.filename) not in seen and not seen.add((a.sha256, a.filename))]
    return NormalisedClaim(
        event_id=envelope.event_id,
        source=envelope.source,
        channel=envelope.channel,
        received_at=envelope.received_at,
        customer=Customer(name=name, email=sender,
                          phone=find_phone(f"{reply.new}\n{subject}", context.default_region)),
        order_ref=find_order_ref(topic, reply.new, reply.quoted),
        sku=find_sku(subject, reply.new),
        subject=subject or None,
        description=description,
        desired_resolution=find_resolution(f"{topic}\n{reply.text or description}"),
        attachments=tuple(unique),
        language=guess_language(f"{subject} {description}"),
        channel_ids={"message_id": message_id},
        references=_references(msg, message_id),
    )
