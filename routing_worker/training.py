"""Trains the category model from a labelled JSON Lines file, one claim a line:
``{"text": "...", "category": "defect"}`` (or ``"subject"`` / ``"description"`` instead of
``"text"``). ``claimflow routing train FILE [--out PATH]`` runs ``main``."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from routing_worker.model import DEFAULT_MODEL_PATH, Model, ModelError, load, normalise, save

__all__ = ["train", "save", "load", "read_rows", "cross_validated_accuracy", "main", "C"]

C = 10.0              # chosen on the tuning set (tests/data/routing/tuning.jsonl), never on the blind set
VECTOR_WEIGHT = 1.0   # the word vectors' say beside the sparse features, chosen the same way


def text_of(row: dict) -> str:
    """A labelled row's text as routing reads a claim: the subject, then the body (``text`` or
    ``description``), a line apart."""
    body = "text" if row.get("text") is not None else "description"
    return "\n".join(str(row[k]) for k in ("subject", body) if row.get(k))


def _examples(rows: Iterable[dict]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for i, row in enumerate(rows, 1):
        text, category = text_of(row).strip(), str(row.get("category") or "").strip()
        if not category:
            raise ModelError(f"row {i}: no category")
        if normalise(text):
            texts.append(text)
            labels.append(category)
    if len(set(labels)) < 2:
        raise ModelError("training needs texts of at least two categories")
    return texts, labels


def pipeline(c: float = C, vector_weight: float = VECTOR_WEIGHT, calibration_folds: int = 5, chars: bool = True):
    """What the model reads: lemmas with negation marked, and pairs of them (``claim_terms``);
    character n-grams within words, which survive typos and missing letters; and the mean navec
    vector of the Russian words (``word_vectors``), which places words no training claim used near
    their synonyms. A logistic regression weighs them; its probabilities are calibrated (Platt scaling)
    on ``calibration_folds``-fold cross-validated predictions (one model is kept, so prediction
    costs the same); fewer than two folds leave them as the regression gives them."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    from routing_worker.claim_terms import analyse
    from routing_worker.word_vectors import MeanWordVector
    parts = [("terms", TfidfVectorizer(analyzer=analyse, sublinear_tf=True, min_df=1))]
    if chars:
        parts.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                               preprocessor=normalise)))
    if vector_weight:
        parts.append(("vectors", MeanWordVector(vector_weight)))
    classifier = LogisticRegression(max_iter=3000, C=c)
    if calibration_folds >= 2:
        classifier = CalibratedClassifierCV(classifier, method="sigmoid", cv=calibration_folds, ensemble=False)
    return Pipeline([("features", FeatureUnion(parts)), ("classifier", classifier)])


def _folds(labels: list[str], most: int = 5, rows_per_fold: int = 10) -> int:
    """Calibration folds: one per ``rows_per_fold`` rows of the rarest category, at most ``most``;
    below two (a toy training set) the probabilities stay uncalibrated."""
    return min(most, min(Counter(labels).values()) // rows_per_fold)


def train(rows: Iterable[dict], c: float = C) -> Model:
    """A model fitted on every row. Texts are lower-cased with ё read as е; blank ones are skipped."""
    import sklearn
    texts, labels = _examples(rows)
    fitted = pipeline(c, calibration_folds=_folds(labels)).fit(texts, labels)
    counts = Counter(labels)
    return Model(fitted, {
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rows": len(texts),
        "rows_per_category": dict(sorted(counts.items())),
        "sklearn_version": sklearn.__version__,
        "C": c,
    })


def cross_validated_accuracy(rows: Iterable[dict], folds: int = 5, c: float = C,
                             on_fold=None) -> tuple[float, list[float]]:
    """Mean and per-fold accuracy of stratified ``folds``-fold cross-validation (fewer folds when
    the smallest category has fewer rows). ``on_fold(i, folds)`` is called after each fold."""
    from sklearn.model_selection import StratifiedKFold
    texts, labels = _examples(rows)
    folds = min(folds, min(Counter(labels).values()))
    if folds < 2:
        raise ModelError("cross-validation needs at least two rows of every category")
    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for i, (fit_at, test_at) in enumerate(splitter.split(texts, labels), 1):
        fit_labels = [labels[j] for j in fit_at]
        fitted = pipeline(c, calibration_folds=_folds(fit_labels)).fit([texts[j] for j in fit_at], fit_labels)
        scores.append(float(fitted.score([texts[j] for j in test_at], [labels[j] for j in test_at])))
        if on_fold:
            on_fold(i, folds)
    return sum(scores) / len(scores), scores


def read_rows(path: Path | str) -> list[dict]:
    """The labelled rows of a JSON Lines file; a bad line raises ModelError with its number."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ModelError(f"{path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at {e.start}): "
                         "a labelled file is JSON Lines") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ModelError(f"{path}:{n}: not JSON ({e.msg})") from None
        if (not isinstance(row, dict) or not isinstance(row.get("category"), str) or not row["category"]
                or not text_of(row).strip()):
            raise ModelError(f"{path}:{n}: a row needs \"category\" and \"text\" (or \"subject\"/\"description\")")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """``claimflow routing train FILE [--out PATH]``: cross-validate, fit on every row, save,
    print a summary. Exit 0 on success, 2 on unusable input."""
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(prog="claimflow routing train",
                                     description="Train the category model from a labelled JSON Lines file.")
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH,
                        help=f"where to write the model (default {DEFAULT_MODEL_PATH}); a .json sidecar goes beside it")
    parser.add_argument("--policy", type=Path, default=None,
                        help="the policy whose categories the labels must be (default CLAIMFLOW_POLICY_FILE, else bundled)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: fit without cross-validating)")
    parser.add_argument("-C", dest="c", type=float, default=C, help=f"inverse regularisation strength (default {C})")
    args = parser.parse_args(argv)
    console, errors = Console(), Console(stderr=True)

    try:
        from shared.policy import PolicyError, load_policy
        policy_file = args.policy
        if policy_file is None:
            from shared.settings import Settings
            policy_file = Settings().policy_file
        policy = load_policy(policy_file)
        names = ", ".join(str(f) for f in args.files)
        with console.status(f"Reading {names}…"):
            rows = [row for f in args.files for row in read_rows(f)]
        labels = Counter(r["category"] for r in rows)
        unknown, missing = set(labels) - set(policy.categories), set(policy.categories) - set(labels)
        if unknown or missing:
            raise ModelError(f"{names}: labels must be the policy's categories"
                             + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
                             + (f"; without any row: {', '.join(sorted(missing))}" if missing else ""))
        mean, scores = None, []
        if args.folds:
            with console.status(f"Cross-validating ({args.folds} folds) on {len(rows)} rows…") as status:
                mean, scores = cross_validated_accuracy(
                    rows, args.folds, args.c,
                    on_fold=lambda i, n: status.update(f"Cross-validating: fold {i}/{n} done…"))
        with console.status(f"Fitting on all {len(rows)} rows…"):
            model = train(rows, args.c)
            model.info.update(trained_from=", ".join(f.name for f in args.files))
            if scores:
                model.info.update(cv_accuracy=round(mean, 4), cv_folds=len(scores))
        with console.status(f"Saving {args.out}…"):
            sidecar = save(model, args.out)
    except (ModelError, PolicyError) as e:
        errors.print(f"[red]error:[/red] {e}")
        return 2

    table = Table(title=f"{len(rows)} rows from {names}")
    table.add_column("category")
    table.add_column("department")
    table.add_column("rows", justify="right")
    for name in policy.categories:
        table.add_row(name, policy.department_of(name), str(labels.get(name, 0)))
    console.print(table)
    if scores:
        console.print(f"{len(scores)}-fold cross-validated accuracy: [bold]{mean:.1%}[/bold] "
                      f"(folds: {', '.join(f'{s:.0%}' for s in scores)})")
    size = args.out.stat().st_size
    console.print(f"saved {args.out} ({size / 1024:.0f} KiB) and {sidecar.name}; "
                  f"scikit-learn {model.info['sklearn_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
