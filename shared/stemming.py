"""Two kinds of word bases, so that a keyword meets the customer's inflected words:

- Snowball stems (PyStemmer) of Russian and English words: «сломался» and «сломан» share
  «слома», "leaks" and "leaking" share "leak";
- lemmas (dictionary forms) of Russian words from the OpenCorpora dictionary (pymorphy3), for
  what suffix stripping cannot see: «пришёл», «пришла» and «придёт» are all «прийти», «течёт» and
  «тёк» are «течь», «брака» is «брак». English words' lemma is their stem."""
from __future__ import annotations

from functools import lru_cache

import pymorphy3
import Stemmer

_RU, _EN = Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


def _cyrillic(word: str) -> bool:
    return "\u0400" <= word[0] <= "\u04ff"


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The stem of one lower-case word (Cyrillic words by the Russian stemmer, others by the English)."""
    if not word:
        return word
    return _RU.stemWord(word) if _cyrillic(word) else _EN.stemWord(word)


@lru_cache(maxsize=1)
def _morphology() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


#: parts of speech whose forms must not meet: «не те размеры» is not «не тот товар»
_FUNCTION_WORDS = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "INTJ", "NUMR", "Apro"})


@lru_cache(maxsize=131072)
def lemma(word: str) -> str | None:
    """The dictionary form of one lower-case content word (its most likely reading), ё read as е;
    None for a pronoun, preposition, conjunction, particle or numeral."""
    if not word or not _cyrillic(word):
        return stem(word)
    reading = _morphology().parse(word)[0]
    if reading.tag.POS in _FUNCTION_WORDS or "Apro" in reading.tag:
        return None
    return reading.normal_form.replace("ё", "е")


@lru_cache(maxsize=16384)
def dictionary_lemma(word: str) -> str | None:
    """The lemma of a word the dictionary knows, else None: a keyword written as a stem («описани»)
    must not be given a guessed lemma that happens to be some other word's."""
    if not word or not _cyrillic(word):
        return stem(word)
    return lemma(word) if _morphology().word_is_known(word) else None
