"""Text helpers of the e-mail normaliser (``email.py``), all pure: charset decoding that survives
mislabelled and undeclared 8-bit text, RFC 2047 header words, HTML to text, a readability test,
the split of a reply into what the customer wrote now and what it quotes, and the order number,
article, remedy and phone the customer names."""
from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, CData, NavigableString, Tag

# --- charsets ------------------------------------------------------------------------------------

#: Declared charsets that are often wrong (a cp1251 or koi8-r body sent as utf-8 or us-ascii, or the
#: other way round): their text is checked against the other Cyrillic decodings.
OVERRIDABLE = frozenset({"ascii", "utf-8", "latin-1", "iso8859-1", "iso8859-15", "cp1252", "cp1251", "koi8-r",
                         "koi8-u", "iso8859-5", "mac-cyrillic", "cp866"})
CYRILLIC_GUESSES = ("cp1251", "koi8-r")
#: Letter frequencies of Russian text, per cent: a right decoding scores high, a wrong one low.
RU_FREQ = dict(zip("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
                   (10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98, 2.81, 2.62,
                    2.01, 1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73, 0.64, 0.48, 0.36, 0.32,
                    0.26, 0.04, 0.04)))
_LETTER_SCORE = {ch: math.log(f / 100) + 3.5 for ch, f in RU_FREQ.items()}
_WORD = re.compile(r"[^\W\d_]+")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")


def codec_name(declared) -> str | None:
    """Python's name of a declared MIME charset, or None when it is unknown or not a text codec."""
    if not isinstance(declared, str):
        return None
    name = declared.strip().strip('"\'').lower()
    for candidate in (name, name.removeprefix("x-"), name.replace("_", "-")):
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        return info.name if getattr(info, "_is_text_encoding", True) else None
    return None


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def text_score(text: str) -> float:
    """How much a decoding looks like readable text, per letter: Russian letters by their frequency
    and case pattern, mixed-script and accent-only words and control characters as penalties."""
    total, count = 0.0, 0
    for word in _WORD.findall(text):
        cyr = sum(map(_is_cyrillic, word))
        other = len(word) - cyr
        count += len(word)
        if cyr and other:
            total -= 3 * len(word)
        elif cyr:
            total += sum(_LETTER_SCORE.get(ch.lower(), -3.5) for ch in word)
            if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
                total -= 2 * len(word)
        else:
            accented = sum(not ch.isascii() for ch in word)
            if len(word) >= 2 and accented * 2 > len(word):
                total -= 2 * len(word)
    junk = len(_JUNK.findall(text))
    return (total - 5 * junk) / max(count + junk, 1)


def _decode(data: bytes, codec: str, errors: str = "strict") -> str | None:
    try:
        return data.decode(codec, errors)
    except (ValueError, LookupError):     # UnicodeError, and the odd codec that raises something else
        return None


def decode_bytes(data: bytes, declared=None) -> str:
    """Text of bytes in a declared charset that may be wrong or absent: valid non-ASCII UTF-8 is
    UTF-8; otherwise the declared charset competes with cp1251 and koi8-r on :func:`text_score`."""
    if not data:
        return ""
    codec = codec_name(declared)
    if codec and codec.startswith(("utf-16", "utf-32")):
        text = _decode(data, codec)
        if text is not None:
            return text
        codec = None
    if data.isascii():
        # utf-7, iso-2022-jp: 7-bit encodings of other text
        text = _decode(data, codec) if codec and codec not in OVERRIDABLE else None
        return text if text is not None else data.decode("ascii")
    as_utf8 = _decode(data, "utf-8")
    if as_utf8 is not None and (codec is None or codec in OVERRIDABLE):
        return as_utf8
    candidates: list[tuple[float, str]] = []
    declared_text = _decode(data, codec) if codec and codec not in ("utf-8", "ascii") else None
    if declared_text is not None:
        candidates.append((text_score(declared_text) + 0.3, declared_text))   # the declared one wins a near tie
    if as_utf8 is not None:
        candidates.append((text_score(as_utf8) + 0.2, as_utf8))
    elif codec in (None, "utf-8", "ascii"):              # UTF-8 with a stray bad byte is still UTF-8
        lenient = data.decode("utf-8", errors="replace")
        candidates.append((text_score(lenient) + (0.3 if codec == "utf-8" else 0), lenient))
    if codec is None or codec in OVERRIDABLE:
        for guess in CYRILLIC_GUESSES + (("cp1252",) if codec is None else ()):
            text = data.decode(guess, errors="replace")
            candidates.append((text_score(text), text))
    if not candidates:
        return _decode(data, codec or "utf-8", "replace") or data.decode("utf-8", errors="replace")
    return max(candidates, key=lambda c: c[0])[1]


def unmojibake(text: str) -> str:
    """Undo one wrong decoding made before us (8-bit Cyrillic read as Latin-1, UTF-8 read as cp1251):
    re-encode, decode again, and keep the result only when it reads clearly better."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or all(ch.isascii() for ch in letters):
        return text
    best, best_score = text, text_score(text)
    for wrong in ("latin-1", "cp1252", "cp1251", "koi8-r"):
        try:
            data = text.encode(wrong)
        except UnicodeEncodeError:
            continue
        again = decode_bytes(data, None)
        score = text_score(again)
        if score > best_score + 1.0:
            best, best_score = again, score
    return best


# --- headers -------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n")


def _word_bytes(kind: str, text: str) -> bytes | None:
    if kind in "bB":
        data = re.sub(r"[^A-Za-z0-9+/]", "", text)
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return None
    text = text.replace("_", " ")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  text.encode("latin-1", errors="replace"))


def decode_header_value(value) -> str:
    """A header's text: unfolded, raw 8-bit bytes decoded, RFC 2047 words decoded (adjacent words of
    one charset joined before decoding, the blanks between them dropped), control characters removed."""
    if value is None:
        return ""
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_bytes(value.encode("utf-8", errors="surrogateescape"), None)
    value = _FOLD.sub("", value)
    out: list[str] = []
    pending: tuple[str, bytearray] | None = None
    last_end, last_was_word = 0, False

    def flush():
        nonlocal pending
        if pending:
            out.append(decode_bytes(bytes(pending[1]), pending[0].split("*")[0]))
            pending = None

    for m in _ENCODED_WORD.finditer(value):
        between = value[last_end:m.start()]
        data = _word_bytes(m.group(2), m.group(3))
        if data is None:
            continue
        if not (last_was_word and not between.strip()):
            flush()
            out.append(between)
        charset = m.group(1).lower()
        if pending and pending[0] == charset:
            pending[1].extend(data)
        else:
            flush()
            pending = (charset, bytearray(data))
        last_end, last_was_word = m.end(), True
    flush()
    out.append(value[last_end:])
    text = _JUNK.sub("", "".join(out))
    return re.sub(r"\s+", " ", text).strip()


# --- HTML ----------------------------------------------------------------------------------------

#: Block elements: a paragraph (blank line after it) or a line of its own.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr", "dl"})
_LINES = frozenset({"div", "tr", "li", "section", "article", "header", "footer", "address", "dt", "dd", "center",
                    "form", "body"})
_SKIPPED = frozenset({"script", "style", "head", "title", "meta", "noscript", "template", "object", "svg"})
#: Mailers' quoted threads that are not in a <blockquote>
_QUOTE_CLASSES = frozenset({"gmail_quote", "yahoo_quoted", "moz-cite-prefix"})
MAX_QUOTE_DEPTH = 30
_LINE, _PARA = "\x01", "\x02"
_BREAKS = re.compile(r"\s*[\x01\x02][\x01\x02\s]*")


def _breaks(match: re.Match) -> str:
    """A run of block boundaries and <br>s: one line break, a blank line after a paragraph or an
    empty ``<div><br></div>``; a <br> just before a block ends adds nothing."""
    run = match.group(0)
    first = min(i for i in (run.find(_LINE), run.find(_PARA)) if i >= 0)
    lines = 1 + run.count("\n") - min(run[:first].count("\n"), 1)
    return "\n" * min(max(lines, 2 if _PARA in run else 1), 3)


def _render(text: str) -> str:
    return tidy(_BREAKS.sub(_breaks, text))


def _is_quote(tag: Tag) -> bool:
    return tag.name == "blockquote" or bool(_QUOTE_CLASSES.intersection(tag.get("class") or ()))


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: paragraphs and line breaks as a browser shows them, scripts and
    styles dropped, quoted blocks turned into ``> `` lines so that the plain-text quote rules apply.
    Walks the tree with its own stack: linear in the document, whatever its nesting."""
    soup = BeautifulSoup(html, "html.parser")
    buffers: list[list[str]] = [[]]
    stack: list[tuple[Tag, Iterator, bool]] = [(soup, iter(list(soup.contents)), False)]
    pre = 0
    while stack:
        tag, children, quote = stack[-1]
        child = next(children, None)
        if child is None:                                   # the end of ``tag``
            stack.pop()
            pre -= tag.name == "pre"
            if quote:
                lines = _render("".join(buffers.pop())).split("\n")
                buffers[-1].append(_PARA + "\n".join("> " + line for line in lines) + _PARA)
            elif tag.name in _PARAGRAPHS or tag.name in _LINES:
                buffers[-1].append(_PARA if tag.name in _PARAGRAPHS else _LINE)
            continue
        if isinstance(child, NavigableString):
            if type(child) in (NavigableString, CData):
                buffers[-1].append(str(child) if pre else re.sub(r"\s+", " ", str(child)))
            continue
        if not isinstance(child, Tag) or child.name in _SKIPPED:
            continue
        if child.name == "br":
            buffers[-1].append("\n")
            continue
        quote = _is_quote(child) and len(buffers) <= MAX_QUOTE_DEPTH
        if quote:
            buffers.append([])
        elif child.name in _PARAGRAPHS or child.name in _LINES:
            buffers[-1].append(_PARA if child.name in _PARAGRAPHS else _LINE)
        if child.name == "li":
            buffers[-1].append("- ")
        pre += child.name == "pre"
        stack.append((child, iter(list(child.contents)), quote))
    return _render("".join(buffers[0]))


def tidy(text: str) -> str:
    """Lines stripped of trailing blanks and NUL, no runs of more than one empty line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- readability ---------------------------------------------------------------------------------

_ASCII_TOKEN = re.compile(r"[A-Za-z0-9@._:/?=&%+#~'’$€₽*\-]+")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_INNER = frozenset("-'’.,/:;№%&@+()!?")


def _good_token(token: str) -> bool:
    """A word of one script (with digits and the punctuation words carry), a number, or a run of
    punctuation and emoji; noise mixes letters with stray symbols or control characters."""
    if _JUNK.search(token):
        return False
    core = _EDGES.sub("", token)
    if not core or _ASCII_TOKEN.fullmatch(core):
        return True
    if any(not ch.isalnum() and ch not in _INNER for ch in core):
        return False
    letters = [ch for ch in core if ch.isalpha()]
    cyr = sum(map(_is_cyrillic, letters))
    return cyr == 0 or cyr == len(letters)


def readable(text: str) -> bool:
    """Whether decoded text is language rather than noise: most of it forms plausible words."""
    tokens = text.split()
    if not tokens:
        return False
    total = sum(map(len, tokens))
    good = sum(len(t) for t in tokens if _good_token(t))
    return good >= 0.6 * total


# --- replies -------------------------------------------------------------------------------------

_SEPARATOR = re.compile(
    r"^[-_=*\s]*(original message|исходное сообщение|forwarded message|пересылаемое сообщение|"
    r"пересланное сообщение|переадресованное сообщение|начало переадресованного сообщения|"
    r"begin forwarded message)[-_=*:\s]*$", re.I)
_HEADER_FROM = re.compile(r"^\*?(from|от|von|de)\s*:\*?\s*\S", re.I)
_HEADER_NEXT = re.compile(r"^\*?(sent|date|to|subject|cc|отправлено|дата|кому|тема|копия)\s*:", re.I)
_ATTRIBUTION = re.compile(r"^.{0,240}\b(wrote|пишет|написал[аи]?|a écrit|schrieb|escribió)\s*:$", re.I)
_ATTRIBUTION_WEAK = re.compile(r"^(?=.*\d).{0,200}<[^<>\s@]+@[^<>\s]+>\s*:$")
_SIGNATURE = re.compile(r"^--\s*$")
_MOBILE_FOOTER = re.compile(r"^(sent from (my )?\S+|sent with \S+|get outlook for \S+|"
                            r"отправлено (с|из|через) .{1,40}|с уважением,? отправлено с .{1,40})$", re.I)


@dataclass(frozen=True)
class Reply:
    new: str          # what the customer wrote now, signature included
    text: str         # the same without signature and mobile footers
    quoted: str       # the earlier messages it quotes, unquoted


def _next_nonblank(lines: list[str], i: int) -> str:
    for line in lines[i:]:
        if line.strip():
            return line.strip()
    return ""


def _attribution(lines: list[str], i: int) -> int:
    """How many lines (1 or 2) an attribution ("On … wrote:", "… пишет:") at ``i`` spans, or 0."""
    one = lines[i].strip()
    two = f"{one} {lines[i + 1].strip()}" if i + 1 < len(lines) and not lines[i + 1].lstrip().startswith(">") \
        else None
    for span, text in ((1, one), (2, two)):
        if text and (_ATTRIBUTION.match(text) or _ATTRIBUTION_WEAK.match(text)):
            return span
    return 0


def split_reply(body: str) -> Reply:
    lines = body.split("\n")
    keep: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            quoted.append(re.sub(r"^(\s*>)+ ?", "", lines[i]))
            i += 1
            continue
        span = _attribution(lines, i)
        following = _next_nonblank(lines, i + span) if span else ""
        outlook = _HEADER_FROM.match(stripped) and any(_HEADER_NEXT.match(line.strip())
                                                       for line in lines[i + 1:i + 5])
        underscores = re.fullmatch(r"_{8,}", stripped) and _HEADER_FROM.match(_next_nonblank(lines, i + 1))
        if _SEPARATOR.match(stripped) or outlook or underscores or \
                (span and not following.startswith(">") and _ATTRIBUTION.match(" ".join(
                    line.strip() for line in lines[i:i + span]))):
            quoted.extend(re.sub(r"^(\s*>)+ ?", "", line) for line in lines[i:])   # the rest is the old message
            break
        if span and following.startswith(">"):
            i += span
            continue
        keep.append(lines[i])
        i += 1
    new = tidy("\n".join(keep))
    text_lines = new.split("\n")
    for j, line in enumerate(text_lines):
        if _SIGNATURE.match(line):
            text_lines = text_lines[:j]
            break
    while text_lines and (not text_lines[-1].strip() or _MOBILE_FOOTER.match(text_lines[-1].strip())):
        text_lines.pop()
    return Reply(new=new, text=tidy("\n".join(text_lines)), quoted=tidy("\n".join(quoted)))
