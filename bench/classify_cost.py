#!/usr/bin/env python3
"""CPU cost of classifying one claim: the keyword rules alone, and with the bundled category model,
over the texts of a JSON Lines file of web events, next to the cost of only splitting the same
texts into words (the baseline, measured in the same run).

    python bench/classify_cost.py                       # the bundled demo events
    python bench/classify_cost.py --events ../shared/data/sample-events.jsonl --rounds 5
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing_worker.classify import classify  # noqa: E402
from routing_worker.model import CategoryModel  # noqa: E402
from shared.policy import load_policy, words_of  # noqa: E402


def texts_of(path: Path) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        payload = event.get("payload") if isinstance(event, dict) else None
        if event.get("channel") == "web" and isinstance(payload, dict) and isinstance(payload.get("description"), str):
            texts.append("\n".join(str(p) for p in (payload.get("subject"), payload["description"]) if p))
    return texts


def per_claim_us(fn, texts: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for text in texts:
            fn(text)
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, default=ROOT / "services" / "demo" / "sample-events.jsonl")
    parser.add_argument("--rounds", type=int, default=5, help="best of this many passes (CPU time)")
    args = parser.parse_args()
    policy = load_policy()
    model = CategoryModel.for_policy(policy)
    model.load()
    texts = texts_of(args.events)
    classify(texts[0], policy, model=model)                      # warm caches
    baseline = per_claim_us(words_of, texts, args.rounds)
    rules = per_claim_us(lambda t: classify(t, policy), texts, args.rounds)
    with_model = per_claim_us(lambda t: classify(t, policy, model=model), texts, args.rounds)
    figures = {"texts": len(texts), "tokenise_us": round(baseline, 1), "rules_us": round(rules, 1),
               "rules_and_model_us": round(with_model, 1), "rules_ratio": round(rules / baseline, 1),
               "rules_and_model_ratio": round(with_model / baseline, 1)}
    print(f"{len(texts)} texts, CPU per claim: tokenise {baseline:.1f} µs (baseline) · rules {rules:.1f} µs "
          f"(×{rules / baseline:.1f}) · rules + model {with_model:.1f} µs (×{with_model / baseline:.1f})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
