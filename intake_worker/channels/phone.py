"""A call-centre call with the agent's notes (``events.md``, channel ``phone``).

The agent's notes are preferred to the transcript: the agent wrote them for us. Without them
the customer's own turns of the transcript say what the problem is, and an order number the
customer dictated ("504 15 52") is read from the turn that answers the agent's question.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from intake_worker.contacts import canonical_order_ref, guess_language, normalise_email, normalise_phone
from shared.schema import (Attachment, Customer, Envelope, NormalisedClaim, QuarantineReason, Rejection,
                           Resolution)

R = QuarantineReason

# -- text ------------------------------------------------------------------------------------------

#: invisible characters that hide words from keyword matching and bidi controls that reorder what a
#: person sees; no customer means them
_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_JOINER = re.compile(r"(?<=[^\W\d_])[\u200c\u200d]+(?=[^\W\d_])")     # a joiner inside a word (not an emoji's)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_text(value) -> str | None:
    """Text of an optional field, tidied (no NUL, control or invisible characters, single spaces,
    no blank lines); None when absent, empty or not text-like (a list, an object, a boolean)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = unicodedata.normalize("NFC", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", _JOINER.sub("", _INVISIBLE.sub("", text)))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line) or None


def is_text_like(value) -> bool:
    """Whether a field holds text (or a number read as text): None counts as absent, not wrong."""
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


# -- desired resolution ------------------------------------------------------------------------------

_FILLER = re.compile(r"\b(?:э+|ну|короче|в общем|um+|uh+|erm|you know)\b[,.]?\s*")
_WANTS: dict[Resolution, tuple[str, ...]] = {
    Resolution.REFUND: (r"верн\w*\s+(?:мне\s+)?(?:мои\s+|все\s+)?деньг", r"возврат\w*\s+(?:денег|деньг|средств)",
                        r"вернуть\s+(?:мне\s+)?(?:полную\s+)?стоимост", r"\brefund\s+(?:me|my|the|it)\b",
                        r"\b(?:want|like|need|request|expect)\s+(?:a\s+|my\s+|full\s+)*refund\b",
                        r"\bplease\s+refund\b", r"\bmoney\s+back\b", r"\bfull\s+refund\b"),
    Resolution.REPLACEMENT: (r"\bзамен", r"\bобменя", r"\bобмен\b", r"\bexchange\b", r"\breplace"),
    Resolution.REPAIR: (r"отремонтир", r"\bпочин", r"(?:отда\w*|прин\w*|сда\w*|оформ\w*|нужен|нужно|требуется|"
                        r"прошу)\s+(?:\S+\s+){0,3}?(?:в\s+)?(?:гарантийн\w+\s+)?ремонт", r"\brepair\b",
                        r"\bfix\s+it\b"),
    Resolution.DISCOUNT: (r"(?:сдела\w*|дай\w*|предостав\w*|прошу|хочу|за|со)\s+скидк",
                          r"(?:уменьш|сниз)\w*\s+(?:\S+\s+)?цен", r"\b(?:with|for|give\s+me|offer\s+me|get)\s+a\s+"
                          r"discount\b", r"\bprice\s+reduction\b", r"\bpartial\s+refund\b"),
    Resolution.COMPENSATION: (r"компенсац", r"возмест\w*\s+(?:\S+\s+)?(?:ущерб|убытк|расход)", r"\bcompensat"),
}
_WANTS_RE = {resolution: re.compile("|".join(patterns)) for resolution, patterns in _WANTS.items()}


def resolution_of(value) -> Resolution | None:
    """A resolution named by its enum value (any case), else None."""
    text = clean_text(value)
    return Resolution(text.lower()) if text and text.lower() in {r.value for r in Resolution} else None


def guess_resolution(text: str | None) -> Resolution | None:
    """What the customer asks for, when the words name exactly one resolution ("верните деньги",
    "please replace it"); None when they name none or several."""
    if not text:
        return None
    words = _FILLER.sub("", text.lower().replace("ё", "е"))
    found = [resolution for resolution, pattern in _WANTS_RE.items() if pattern.search(words)]
    return found[0] if len(found) == 1 else None


# -- transcript --------------------------------------------------------------------------------------

AGENT, CUSTOMER = "agent", "customer"
_ROLES = {
    CUSTOMER: {"абонент", "клиент", "клиентка", "покупатель", "покупательница", "звонящий", "звонящая", "к",
               "кл", "customer", "caller", "client", "buyer", "cust", "cl", "c"},
    AGENT: {"агент", "оператор", "операторка", "специалист", "консультант", "менеджер", "сотрудник", "бот",
            "робот", "о", "оп", "оп.", "operator", "agent", "specialist", "consultant", "support", "rep",
            "representative", "ivr", "bot", "op", "a"},
}
#: "[00:12] Оператор:", "Клиент (Иван):", "CL:" — a speaker's label, at most a few words, no digits
_LABEL = re.compile(r"^\s*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s*)?([^\W\d_][^\W\d]*(?:[ .][^\W\d]+){0,2})"
                    r"\s*(?:\([^)]{0,40}\))?\s*:\s*(.*)$")
#: the agent asking for the order number ("Подскажите номер заказа", "What's the order number?"),
#: not any "order" ("in order to …")
_ORDER_WORD = re.compile(r"заказ|\border\s*(?:number|no\b|#|id\b|num)", re.IGNORECASE)
#: a number, dictated in groups ("504 15 52") or not, or with a posting's dashes; never part of an
#: amount ("27.99"). An order number has at least five digits.
_NUMBER = re.compile(r"(?<![\d.,])\d+(?:-\d+|[ \u00a0]\d{2,})*(?![\d]|[.,]\d)")
_MIN_DIGITS, _MAX_DIGITS = 5, 30
_FILLERS = r"(?:\s*(?:ну|эээ|э|это|мой|у меня|um|uh|is|it's|it is|my)\b[,]?)*"
_NAMED_ORDER = re.compile(r"(?:номер\w*\s+заказа|заказ\w*|order(?:\s+(?:number|no\.?|num|id|#))?)" + _FILLERS +
                          r"\s*(?:[:#№-]|no\.?)?\s*(?:[A-Za-zА-Яа-я]{1,4}-)?(?=\d)", re.IGNORECASE)
#: a customer's turn that only dictates the order number: not part of the description
_ONLY_NUMBER = re.compile(r"^(?:(?:ну|эээ|э|это|мой|номер|заказа?|um|uh|it's|it is|my|order|number|no\.?)\b[\s,:]*)*"
                          r"[#№]?\s*(?:[A-Za-zА-Яа-я]{1,4}-)?\d[\d \u00a0-]*[.!]?$", re.IGNORECASE)


def _role(label: str) -> str | None:
    key = label.strip().lower().rstrip(".")
    for role, names in _ROLES.items():
        if key in names or key.split()[0] in names:
            return role
    return None


def turns_of(transcript: str) -> list[tuple[str, str]]:
    """(role, text) for each speaker's turn; an unlabelled line continues the turn before it. With
    two speakers of which one is known, the other has the other role. [] when no speaker is known."""
    parsed = [(m.group(1), m.group(2)) if (m := _LABEL.match(line)) else (None, line)
              for line in transcript.split("\n")]
    roles = {label: _role(label) for label, _ in parsed if label}
    unknown = [label for label, role in roles.items() if role is None]
    known = {role for role in roles.values() if role}
    if len(unknown) == 1 and len(known) == 1:
        roles[unknown[0]] = CUSTOMER if known == {AGENT} else AGENT
    turns: list[tuple[str, str]] = []
    for label, text in parsed:
        role = roles.get(label) if label else None
        if role:
            turns.append((role, text.strip()))
        elif turns:                                   # a continuation, label-like or not
            line = f"{label}: {text}" if label else text
            turns[-1] = (turns[-1][0], f"{turns[-1][1]}\n{line.strip()}".strip())
    return [(role, text) for role, text in turns if text]


def _order_in(text: str, anchored: bool) -> str | None:
    """An order number in a turn: after an order word, or (answering the agent's question) the
    first long number of the turn. Dictation groups are joined before canonicalising."""
    def long_enough(number) -> bool:
        return number is not None and _MIN_DIGITS <= sum(ch.isdigit() for ch in number.group(0)) <= _MAX_DIGITS

    number = None
    for named in _NAMED_ORDER.finditer(text):
        if long_enough(candidate := _NUMBER.match(text, named.end())):
            number = candidate
            break
    if number is None and anchored:
        number = next((n for n in _NUMBER.finditer(text) if long_enough(n)), None)
    return canonical_order_ref(re.sub(r"[ \u00a0]", "", number.group(0))) if number else None


def order_from_transcript(turns: list[tuple[str, str]], transcript: str) -> str | None:
    asked = False
    for role, text in turns:                          # the answer to "what is the order number?"
        if role == CUSTOMER and asked and (ref := _order_in(text, anchored=True)):
            return ref
        asked = role == AGENT and bool(_ORDER_WORD.search(text))
    for role, text in turns:                          # "заказ 4815162" said by the customer
        if role == CUSTOMER and (ref := _order_in(text, anchored=False)):
            return ref
    for line in transcript.split("\n"):               # anywhere, e.g. the agent reading it back
        if ref := _order_in(line, anchored=False):
            return ref
    return None


def order_ref_of(value) -> str | None:
    """An order number typed by the agent: "911 39 31" is one number, not three."""
    text = clean_text(value)
    return canonical_order_ref(re.sub(r"(?<=\d)[ \u00a0]+(?=\d)", "", text)) if text else None


# -- the rest of the call ----------------------------------------------------------------------------

_AUDIO = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/opus",
          "m4a": "audio/mp4", "flac": "audio/flac", "webm": "audio/webm"}


def recording(url) -> tuple[Attachment, ...]:
    text = clean_text(url)
    if not text or "\n" in text or " " in text or not re.match(r"(?i)(https?|s3)://\S", text):
        return ()
    extension = text.split("?")[0].split("#")[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return (Attachment(url=text, content_type=_AUDIO.get(extension)),)


def ivr(path) -> str | None:
    if isinstance(path, list):
        steps = [clean_text(step) for step in path if is_text_like(step)]
        return ">".join(step for step in steps if step) or None
    return clean_text(path)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    p = envelope.payload
    call_id = clean_text(p.get("call_id")) if is_text_like(p.get("call_id")) else None
    if not call_id:
        return Rejection(reason=R.BAD_PAYLOAD, message="the call has no call_id: it cannot be traced to the "
                                                       "telephony's records")
    notes = p.get("agent_notes")
    if notes is not None and not isinstance(notes, dict):
        return Rejection(reason=R.BAD_PAYLOAD, message=f"agent_notes must be an object, not "
                                                       f"{type(notes).__name__}")
    notes = notes or {}
    wrong = [name for name, value in (("caller_number", p.get("caller_number")),
                                      ("transcript", p.get("transcript")),
                                      ("agent_notes.description", notes.get("description")))
             if value is not None and not isinstance(value, str)]
    if wrong:
        return Rejection(reason=R.BAD_PAYLOAD, message=f"call fields {', '.join(wrong)} must be text")

    transcript = clean_text(p.get("transcript"))
    turns = turns_of(transcript) if transcript else []
    said = "\n".join(text for role, text in turns if role == CUSTOMER and not _ONLY_NUMBER.match(text))
    description = clean_text(notes.get("description")) or clean_text(said) or transcript
    if not description:
        return Rejection(reason=R.EMPTY_DESCRIPTION, message="neither the transcript nor the agent's notes say "
                                                             "what the problem is")

    region = context.default_region
    phone = normalise_phone(clean_text(p.get("caller_number")), region)
    for key in ("callback_number", "contact_phone", "phone"):
        phone = phone or normalise_phone(clean_text(notes.get(key)), region)
    email = normalise_email(clean_text(notes.get("email")))
    if not phone and not email:
        return Rejection(reason=R.NO_CONTACT, message="the caller's number is withheld or unusable and the "
                                                      "agent noted no other contact, so nobody can call back")

    wanted = notes.get("desired_resolution")
    resolution = (resolution_of(wanted) or guess_resolution(clean_text(wanted))
                  or guess_resolution(clean_text(said) or description))
    order_ref = order_ref_of(notes.get("order_number"))
    if not order_ref and transcript:
        order_ref = order_from_transcript(turns, transcript)
    ids = {"call_id": call_id, "agent_id": clean_text(p.get("agent_id")) if is_text_like(p.get("agent_id"))
           else None, "ivr_path": ivr(p.get("ivr_path"))}
    return NormalisedClaim(
        event_id=envelope.event_id,
        source=envelope.source,
        channel=envelope.channel,
        received_at=envelope.received_at,
        customer=Customer(name=clean_text(notes.get("customer_name")), email=email, phone=phone),
        order_ref=order_ref,
        sku=clean_text(notes.get("sku")),
        purchase_date=_date(notes.get("purchase_date")),
        description=description,
        desired_resolution=resolution,
        attachments=recording(p.get("recording_url")),
        language=guess_language(description),
        channel_ids={key: value for key, value in ids.items() if value},
    )
