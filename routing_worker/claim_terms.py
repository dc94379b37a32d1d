"""The terms the category model reads in a claim: each word's dictionary form, in Russian
(pymorphy3, OpenCorpora) and English (lemminflect), with the words a negation governs marked.

«Не включается» and «перестал включаться» share the lemma «включаться», but the first is a
complaint and «исправен, не ломается, дело в другом» is not a defect: a negated word becomes its
own term (``не_ломаться``), so the model weighs «ломается» and «не ломается» apart. English
negation ("doesn't turn on", "never arrived", "no sound") is marked the same way, as ``не_turn``.

Pure and cached per word: the same text always gives the same terms."""
from __future__ import annotations

import re
from functools import lru_cache

from shared.stemming import _cyrillic
from shared.stemming import lemma as russian_lemma

#: a clause ends at punctuation or a line break: a negation never reaches past it
_CLAUSE = re.compile(r"[.!?;:,()\[\]\"«»\n\r]+|\s[-–—]\s")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_RU_NEGATIONS = frozenset({"не", "нет", "ни", "без", "нету", "нее"})
_EN_NEGATIONS = frozenset({"not", "no", "never", "nothing", "without", "cannot", "nor", "neither", "nobody"})
#: words a negation passes over to reach the word it governs («не до конца закрывается», "not even on")
_PASS_OVER = frozenset({"до", "конца", "совсем", "вообще", "даже", "ли", "уже", "еще", "разу", "так", "и",
                        "really", "even", "at", "all", "yet", "ever", "properly", "fully", "be", "been", "being",
                        "do", "does", "did", "is", "are", "was", "were", "have", "has", "had", "a", "an", "the",
                        "any", "my", "it", "get", "got"})
#: English negation scope in content words ("doesn't turn on": turn, on); Russian «не» governs one
_EN_SCOPE = 2
NEGATED = "не_"


@lru_cache(maxsize=65536)
def english_lemma(word: str) -> str:
    """A verb's, noun's or adjective's dictionary form ("broke" → break, "came" → come, "charges"
    → charge); the word itself when lemminflect does not know it."""
    from lemminflect import getAllLemmas
    lemmas = getAllLemmas(word)
    for pos in ("VERB", "NOUN", "ADJ", "ADV", "AUX"):
        if lemmas.get(pos):
            return lemmas[pos][0].lower()
    return word


@lru_cache(maxsize=131072)
def term_of(word: str) -> str:
    """One lower-case word's term: its lemma; numbers read as ``0`` (an order number says nothing
    of the problem); a Russian function word stays as it is written."""
    if word.isdigit():
        return "0"
    if any(ch.isdigit() for ch in word):
        return re.sub(r"\d+", "0", word)
    if _cyrillic(word):
        return russian_lemma(word) or word
    return english_lemma(word)


def _english_negation(word: str) -> bool:
    """"doesn't", "won't", "not", "never"…: a word that negates what follows."""
    return word.endswith("n't") or word in _EN_NEGATIONS


def words_and_clauses(text: str) -> list[list[str]]:
    """Lower-case words (ё read as е) grouped by clause."""
    clean = str(text or "").lower().replace("ё", "е").replace("’", "'")
    return [words for part in _CLAUSE.split(clean) if (words := _WORD.findall(part))]


def terms(text: str) -> list[str]:
    """The claim's terms in order, negated ones marked with ``не_``."""
    out: list[str] = []
    for clause in words_and_clauses(text):
        scope = 0
        for word in clause:
            if _cyrillic(word):
                if word in _RU_NEGATIONS:
                    scope = 1
                    continue
            elif _english_negation(word):
                scope = _EN_SCOPE
                continue
            if scope and word in _PASS_OVER:
                continue
            term = term_of(word)
            if scope:
                out.append(NEGATED + term)
                scope -= 1
            else:
                out.append(term)
    return out


def analyse(text: str) -> list[str]:
    """The TF-IDF analyser of the model's word features: terms and pairs of neighbouring terms."""
    found = terms(text)
    return found + [f"{a} {b}" for a, b in zip(found, found[1:])]
