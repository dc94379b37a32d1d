"""Snowball stems of Russian and English words (PyStemmer), so that inflections meet:
«сломался» and «сломан» share «слома», "leaks" and "leaking" share "leak"."""
from __future__ import annotations

from functools import lru_cache

import Stemmer

_RU, _EN = Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The stem of one lower-case word (Cyrillic words by the Russian stemmer, others by the English)."""
    if not word:
        return word
    return _RU.stemWord(word) if "\u0400" <= word[0] <= "\u04ff" else _EN.stemWord(word)
