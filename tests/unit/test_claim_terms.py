"""What the category model reads: lemmas in both languages, negation kept apart from the word it
negates, numbers as one term, and Russian word vectors that put synonyms near each other."""
from __future__ import annotations

import numpy as np
import pytest

from routing_worker.claim_terms import analyse, english_lemma, terms


@pytest.mark.parametrize("text, expected", [
    ("сломался", ["сломаться"]),
    ("Пришла посылка", ["прийти", "посылка"]),
    ("it broke and they came late", ["it", "break", "and", "they", "come", "late"]),
    ("charges, refunds", ["charge", "refund"]),
])
def test_words_become_their_dictionary_forms(text, expected):
    assert terms(text) == expected


def test_a_negated_word_is_its_own_term_in_russian():
    found = terms("Чайник исправен, не ломается, дело в другом")
    assert "не_ломаться" in found and "ломаться" not in found
    assert "сломаться" in terms("чайник сломался")


def test_a_negation_passes_over_intensifiers_to_the_word_it_governs():
    assert terms("дверца не до конца закрывается") == ["дверца", "не_закрываться"]


def test_english_negation_reaches_two_content_words_and_stops_at_punctuation():
    assert terms("It doesn't turn on. The screen is fine") == [
        "it", "не_turn", "не_on", "the", "screen", "be", "fine"]
    assert terms("the parcel never arrived")[-1] == "не_arrive"
    assert terms("no sound from the left earbud")[0] == "не_sound"


def test_negation_does_not_cross_a_clause():
    assert terms("не знаю, работает ли") == ["не_знать", "работать", "ли"]


def test_numbers_say_nothing_of_the_problem():
    assert terms("заказ 4815162 от 12.09") == ["заказ", "0", "от", "0", "0"]
    assert terms("ORD-4815162") == ["ord", "0"]


def test_the_analyser_adds_pairs_of_neighbouring_terms():
    assert analyse("не включается чайник") == ["не_включаться", "чайник", "не_включаться чайник"]


def test_unknown_english_words_stay_as_written():
    assert english_lemma("xyzzyq") == "xyzzyq"


@pytest.fixture(scope="module")
def vectors():
    from routing_worker.word_vectors import WordVectors
    return WordVectors()


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_word_vectors_put_synonyms_nearer_than_unrelated_words(vectors):
    broke = vectors.mean(["сломался"])
    assert _cosine(broke, vectors.mean(["поломка"])) > _cosine(broke, vectors.mean(["доставка"]))
    assert _cosine(vectors.mean(["курьер"]), vectors.mean(["доставка"])) > _cosine(
        vectors.mean(["курьер"]), vectors.mean(["чайник"]))


def test_a_word_the_vectors_lack_is_looked_up_by_its_lemma_and_else_ignored(vectors):
    assert vectors.id_of("сломавшегося") is not None
    assert not vectors.mean(["qwertyzzz"]).any()


def test_the_transformer_pickles_without_the_vectors():
    import pickle

    from routing_worker.word_vectors import MeanWordVector
    transformer = MeanWordVector(0.5)
    assert len(pickle.dumps(transformer)) < 1000
    rows = transformer.transform(["чайник сломался", "", "hello"])
    assert rows.shape == (3, 300) and rows[0].any() and not rows[1].any() and not rows[2].any()
