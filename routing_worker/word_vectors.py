"""Russian word vectors for the category model: navec (250 k words × 300 d, trained on a billion
words of news), read from the file the ``natasha`` package ships, never downloaded.

A claim becomes the mean vector of its words (each word as written, else its lemma), so words the
training claims never used still land near their synonyms: «накрылся» near «сломался».

navec's own loader unpacks a 100 MB norm table at start-up; this one keeps only the product
quantisation (25 MB of codes) and the vocabulary, and decodes vectors on demand."""
from __future__ import annotations

import gzip
import tarfile
import threading
from importlib import util
from pathlib import Path

import numpy as np

from routing_worker.claim_terms import term_of, words_and_clauses
from shared.stemming import _cyrillic

NAVEC_FILE = "data/emb/navec_news_v1_1B_250K_300d_100q.tar"


class WordVectorsMissing(RuntimeError):
    """The word vectors' package is not installed."""


def navec_path() -> Path:
    spec = util.find_spec("natasha")
    if spec is None or spec.origin is None:
        raise WordVectorsMissing("the model reads word vectors from the natasha package: pip install natasha")
    path = Path(spec.origin).parent / NAVEC_FILE
    if not path.exists():
        raise WordVectorsMissing(f"{path} is missing: reinstall natasha")
    return path


class WordVectors:
    """A quantised vector per word; ``mean(words)`` of those it knows."""

    def __init__(self, path: Path | None = None):
        with tarfile.open(path or navec_path()) as tar:
            vocab = gzip.decompress(tar.extractfile("vocab.bin").read())
            pq = tar.extractfile("pq.bin").read()
        size = int(np.frombuffer(vocab[:4], np.uint32)[0])
        words = vocab[4 + 4 * size:].decode("utf-8").split("\n")
        self.ids = {w: i for i, w in enumerate(words)}
        vectors, dim, qdim, centroids = (int(x) for x in np.frombuffer(pq[:16], np.uint32))
        self.indexes = np.frombuffer(pq[16:16 + vectors * qdim], np.uint8).reshape(vectors, qdim)
        self.codes = np.frombuffer(pq[16 + vectors * qdim:], np.float32).reshape(qdim, centroids, -1)
        self.dim, self._columns = dim, np.arange(qdim)

    def id_of(self, word: str) -> int | None:
        found = self.ids.get(word)
        if found is None:
            lemma = term_of(word)
            found = self.ids.get(lemma)
        return found

    def mean(self, words: list[str]) -> np.ndarray:
        """The mean unit vector of the known words; zeros when none is known."""
        ids = [i for w in words if (i := self.id_of(w)) is not None]
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        vectors = self.codes[self._columns, self.indexes[ids]].reshape(len(ids), self.dim)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
        return vectors.mean(axis=0)


_loaded: WordVectors | None = None
_lock = threading.Lock()


def word_vectors() -> WordVectors:
    """One WordVectors per process, loaded on first use."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = WordVectors()
        return _loaded


class MeanWordVector:
    """A scikit-learn transformer: texts → the mean vector of their Russian words (times
    ``weight``, which sets its say beside the sparse features). Pickles without the vectors."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def get_params(self, deep=True):
        return {"weight": self.weight}

    def set_params(self, **params):
        self.weight = params.get("weight", self.weight)
        return self

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts):
        vectors = word_vectors()
        rows = []
        for text in texts:
            words = [w for clause in words_and_clauses(text) for w in clause if _cyrillic(w) and len(w) > 1]
            rows.append(vectors.mean(words))
        return np.vstack(rows) * self.weight if rows else np.zeros((0, vectors.dim))

    def fit_transform(self, texts, labels=None):
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"vector:{i}" for i in range(300)], dtype=object)
