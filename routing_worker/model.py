"""The statistical category model beside the keyword rules: a TF-IDF + logistic regression
pipeline trained by ``routing_worker.training`` and shipped as package data.

An artifact is two files: ``<name>.joblib`` (the fitted scikit-learn pipeline) and
``<name>.json`` beside it (categories, trained_at, rows, scikit-learn version, the artifact's
sha256). A worker loads the sidecar first and refuses a model whose categories are not exactly the
policy's, so a retailer who renames or adds a category cannot be routed by a stale model.

joblib files are pickles: load only artifacts you built or shipped yourself."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DEFAULT_MODEL_PATH = Path(str(resources.files("routing_worker").joinpath("data/category-model.joblib")))


class ModelError(ValueError):
    """The model artifact is missing, unreadable, or does not fit the policy: says which and why."""


def normalise(text: str) -> str:
    """What the model reads: lower case, ё as е, whitespace collapsed (the same for training
    and prediction)."""
    return " ".join(str(text or "").lower().replace("ё", "е").split())


def sidecar_of(path: Path) -> Path:
    return Path(path).with_suffix(".json")


@dataclass
class Model:
    """A fitted pipeline and what it was trained on."""
    pipeline: object
    info: dict = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Every category with its probability, best first; empty for a blank text (there is
        nothing to read, and the prior alone must not route a claim)."""
        if not normalise(text):
            return []
        probabilities = self.pipeline.predict_proba([str(text).strip()])[0]
        ranked = sorted(zip(self.categories, probabilities), key=lambda cp: (-cp[1], cp[0]))
        return [(c, float(p)) for c, p in ranked]

    def predict_many(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """``predict`` of each text in one call: scikit-learn's checks cost more than a claim's
        arithmetic, so a batch is several times cheaper per claim than one call per text."""
        readable = [i for i, t in enumerate(texts) if normalise(t)]
        answers: list[list[tuple[str, float]]] = [[] for _ in texts]
        if readable:
            rows = self.pipeline.predict_proba([str(texts[i]).strip() for i in readable])
            for i, probabilities in zip(readable, rows):
                ranked = sorted(zip(self.categories, probabilities), key=lambda cp: (-cp[1], cp[0]))
                answers[i] = [(c, float(p)) for c, p in ranked]
        return answers

    def weights(self, text: str, category: str, top: int = 10) -> dict:
        """Why the model leans to ``category`` for ``text``: the terms (lemmas, negated ones as
        ``не_…``, and pairs) that weighed most for or against it, and what the character n-grams
        and the word vectors added in all. Empty for a model without named linear features."""
        features = getattr(self.pipeline, "named_steps", {}).get("features")
        classifier = getattr(self.pipeline, "named_steps", {}).get("classifier")
        if features is None or classifier is None or not normalise(text):
            return {}
        linear = (classifier.calibrated_classifiers_[0].estimator
                  if hasattr(classifier, "calibrated_classifiers_") else classifier)
        if not hasattr(linear, "coef_") or category not in list(linear.classes_):
            return {}
        row = features.transform([str(text).strip()]).tocsr()
        coef = linear.coef_[list(linear.classes_).index(category)]
        names = self._feature_names(features)
        terms, groups = [], {}
        for j, value in zip(row.indices, row.data):
            weight = float(value * coef[j])
            group, _, name = names[j].partition("__")
            if group == "terms":
                terms.append((name, weight))
            else:
                groups[group] = groups.get(group, 0.0) + weight
        terms.sort(key=lambda tw: -abs(tw[1]))
        return {"terms": [{"term": t, "weight": round(w, 3)} for t, w in terms[:top]],
                **{group: round(w, 3) for group, w in sorted(groups.items())}}

    def _feature_names(self, features):
        if getattr(self, "_names", None) is None:
            self._names = features.get_feature_names_out()
        return self._names

    def check_categories(self, expected) -> None:
        """Raises ModelError unless the model knows exactly the ``expected`` categories."""
        expected, known = set(expected), set(self.categories)
        if expected != known:
            parts = []
            if expected - known:
                parts.append("the policy has " + ", ".join(sorted(expected - known)) + " which the model never saw")
            if known - expected:
                parts.append("the model predicts " + ", ".join(sorted(known - expected)) + " which the policy lacks")
            source = self.info.get("path", "the model")
            raise ModelError(f"{source} was trained for other categories than the policy's: "
                             + "; ".join(parts) + ". Retrain it with `claimflow routing train FILE`.")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save(model: Model, path: Path | str) -> Path:
    """Writes ``path`` (joblib) and its JSON sidecar; returns the sidecar's path."""
    import joblib
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.pipeline, path, compress=3)
    info = {k: v for k, v in model.info.items() if k != "path"}
    info.update(categories=model.categories, sha256=_sha256(path))
    sidecar = sidecar_of(path)
    sidecar.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return sidecar


def load(path: Path | str | None = None, categories=None) -> Model:
    """The model at ``path`` (default: the shipped one). With ``categories``, refuses a model
    trained for any other set — checked from the sidecar, before the pickle is opened."""
    import joblib
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    sidecar = sidecar_of(path)
    try:
        info = json.loads(sidecar.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelError(f"cannot read the model's sidecar {sidecar}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ModelError(f"{sidecar} is not JSON: {e}") from None
    info["path"] = str(path)
    if categories is not None:
        Model(_Classes(info.get("categories", [])), info).check_categories(categories)
    try:
        digest = _sha256(path)
    except OSError as e:
        raise ModelError(f"cannot read the model {path}: {e.strerror}") from None
    if info.get("sha256") and info["sha256"] != digest:
        raise ModelError(f"{path} does not match its sidecar {sidecar.name} (sha256 differs): "
                         "the two files come from different trainings")
    model = Model(joblib.load(path), info)
    if list(model.categories) != list(info.get("categories", model.categories)):
        raise ModelError(f"{path}: the sidecar's categories differ from the model's")
    return model


@dataclass
class _Classes:      # a stand-in pipeline that only knows its classes: checks a sidecar unloaded
    classes_: list


_cache: dict[tuple[str, int], Model] = {}
_cache_lock = threading.Lock()


def _cached(path: Path) -> Model:
    """One loaded model per artifact path (and modification time: a retrained file reloads)."""
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns)
    except OSError as e:
        raise ModelError(f"cannot read the model {path}: {e.strerror}") from None
    with _cache_lock:
        if key not in _cache:
            _cache[key] = load(path)
        return _cache[key]


class CategoryModel:
    """The model a worker asks: nothing is read until the first ``predict``; the loaded model is
    shared by every CategoryModel of the same path. With ``categories`` (the policy's), a model
    trained for any other set raises ModelError on first use — call ``load()`` at start-up to
    fail there instead."""

    def __init__(self, path: Path | str | None = None, categories=None):
        self.path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        self.categories = None if categories is None else tuple(categories)

    @classmethod
    def for_policy(cls, policy, path: Path | str | None = None) -> "CategoryModel":
        return cls(path, categories=policy.categories)

    def load(self) -> Model:
        model = _cached(self.path)
        if self.categories is not None:
            model.check_categories(self.categories)
        return model

    def predict(self, text: str) -> list[tuple[str, float]]:
        """[(category, probability)], best first; [] for a blank text."""
        return self.load().predict(text)

    def predict_many(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        return self.load().predict_many(texts)


class BatchPredictions:
    """A model whose answers for a batch of texts were computed in one call (``predict_many``);
    ``predict`` answers from them, and asks the model for a text outside the batch."""

    def __init__(self, model, texts: list[str]):
        self.model = model
        many = getattr(model, "predict_many", None)
        self.answers = dict(zip(texts, many(texts) if many else map(model.predict, texts)))

    def predict(self, text: str) -> list[tuple[str, float]]:
        found = self.answers.get(text)
        return found if found is not None else self.model.predict(text)

    @property
    def info(self) -> dict:
        return self.load().info
