#!/usr/bin/env python3
"""What each part of the category model adds, measured on the tuning set (never on the blind set):
each source of training data, and each kind of feature, taken away or added one at a time, with
routing's department accuracy, category accuracy and triage share for each.

    python bench/routing_ablation.py
    python bench/routing_ablation.py --on tests/data/routing/tuning.jsonl --on ../shared/data/…

Training sources (routing_worker/data/training/): ``claims-*.jsonl`` (the written corpus),
``lexicon.jsonl`` (short phrases per category), ``seed.jsonl`` (the first hand-written rows).

``--by-writer`` also scores leave-one-writer-out: for each writer of the corpus, a model trained
on everything but that writer's claims routes them — a harder test than a random split, since a
writer's style never reaches training (slow: one fit per writer and variant)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT / "routing_worker" / "data" / "training"
SHIPPED = ("corpus", "seed")      # what the shipped model is trained on (see routing_worker/data/training/README.md)


def sources() -> dict[str, list[Path]]:
    return {"corpus": sorted(TRAINING.glob("claims-*.jsonl")), "lexicon": [TRAINING / "lexicon.jsonl"],
            "seed": [TRAINING / "seed.jsonl"]}


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    from routing_worker import classify as rules
    from routing_worker.evaluation import evaluate
    from routing_worker.model import Model
    from routing_worker.training import _folds, pipeline, read_rows, text_of
    from shared.policy import load_policy
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--on", type=Path, action="append", default=None,
                        help="a labelled file to score on (default tests/data/routing/tuning.jsonl)")
    parser.add_argument("--by-writer", action="store_true",
                        help="add leave-one-writer-out department accuracy over the corpus's writers")
    args = parser.parse_args()
    targets = args.on or [ROOT / "tests" / "data" / "routing" / "tuning.jsonl"]
    policy = load_policy()
    console = Console(stderr=True)
    rows_of = {name: [r for p in paths if p.exists() for r in read_rows(p)] for name, paths in sources().items()}
    scored = {t.name: read_rows(t) for t in targets}
    shipped = list(SHIPPED)
    variants = [
        ("shipped: corpus + seed, all features", shipped, {}),
        ("+ lexicon", shipped + ["lexicon"], {}),
        ("− seed rows", ["corpus"], {}),
        ("− written corpus (seed only)", ["seed"], {}),
        ("− word vectors", shipped, {"vector_weight": 0.0}),
        ("− character n-grams", shipped, {"chars": False}),
        ("− calibration", shipped, {"calibration_folds": 0}),
        ("keywords only (no model)", None, {}),
    ]
    table = Table(title="What each part adds (department / category accuracy, triage share)")
    table.add_column("variant")
    table.add_column("training rows", justify="right")
    for name in scored:
        table.add_column(name, justify="right")
    if args.by_writer:
        table.add_column("leave one writer out", justify="right")
    table.add_column("fit s", justify="right")

    def fit(rows, options):
        labels = [r["category"] for r in rows]
        options = dict(options)
        chars = options.pop("chars", True)
        fitted = pipeline(calibration_folds=options.pop("calibration_folds", _folds(labels)), chars=chars, **options)
        return Model(fitted.fit([text_of(r) for r in rows], labels))

    def by_writer(used, options) -> str:
        writers = sorted({r.get("writer", "?") for r in rows_of["corpus"]})
        right = total = 0
        for held in writers:
            rows = [r for name in used for r in rows_of[name] if not (name == "corpus" and r.get("writer") == held)]
            result = evaluate([r for r in rows_of["corpus"] if r.get("writer") == held], policy, fit(rows, options))
            right, total = right + result.department_right, total + result.rows
        return f"{right / total:.3f}"
    for label, used, options in variants:
        with console.status(f"{label}…"):
            started = time.perf_counter()
            model, rows = None, []
            if used is not None:
                rows = [r for name in used for r in rows_of[name]]
                model = fit(rows, options)
            seconds = time.perf_counter() - started
            cells = []
            for target in scored.values():
                result = evaluate(target, policy, model)
                cells.append(f"{result.department_accuracy:.3f} / {result.category_accuracy:.3f} / "
                             f"{result.triage_share:.1%}")
            if args.by_writer:
                cells.append(by_writer(used, options) if used and "corpus" in used else "—")
        table.add_row(label, str(len(rows)), *cells, f"{seconds:.0f}")
    Console().print(table)
    Console().print(f"policy: keyword weight {policy.keyword_weight or rules.KEYWORD_WEIGHT}, "
                    f"triage below {policy.triage_below or rules.TRIAGE_BELOW}")


if __name__ == "__main__":
    main()
