#!/usr/bin/env python3
"""What routing's classifier costs a worker, each figure beside a baseline measured in the same run:

- CPU per claim, warm (best of --rounds passes): the keyword rules alone, and rules + the shipped
  model as the routing stage runs it (one model call per batch of CLAIMFLOW_BATCH_SIZE claims), against
  only splitting the same texts into words; and one model call per claim, for comparison;
- memory: resident set of a fresh process that loaded the policy and classified one claim, with
  and without the model (the difference is the model's cost per worker);
- start-up: wall time of a fresh process from launch to its first classified claim, with and
  without the model.

    python bench/classify_cost.py                                    # the tuning set's texts
    python bench/classify_cost.py --rows tests/data/routing/blind.jsonl --rounds 3

Targets (issue 11): ≤ 2 ms CPU per claim warm, ≤ 300 MB model memory, ≤ 5 s start-up."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBE = """
import json, sys, time
started = float(sys.argv[1])
from routing_worker.classify import classify
from routing_worker.model import CategoryModel
from shared.policy import load_policy
policy = load_policy()
model = CategoryModel.for_policy(policy) if sys.argv[2] == "model" else None
if model is not None:
    model.load()
classify("Чайник перестал включаться через неделю, прошу заменить", policy, model=model)
ready = time.time() - started
rss = peak = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) / 1024
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
print(json.dumps({"ready_s": ready, "rss_mb": rss, "peak_mb": peak}))
"""


def probe(kind: str) -> dict:
    """A fresh interpreter: launch → policy (and model) loaded → one claim classified."""
    started = time.time()
    out = subprocess.run([sys.executable, "-c", PROBE, repr(started), kind], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def texts_of(path: Path) -> list[str]:
    from routing_worker.training import read_rows, text_of
    return [text_of(r) for r in read_rows(path)]


def per_claim_us(fn, texts: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for text in texts:
            fn(text)
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(texts)


def per_claim_batched_us(fn, texts: list[str], batch: int, rounds: int) -> float:
    """As the routing stage classifies: ``fn`` gets the texts ``batch`` at a time."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for at in range(0, len(texts), batch):
            fn(texts[at:at + batch])
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(texts)


def main() -> None:
    from rich.console import Console

    from routing_worker.classify import classify
    from routing_worker.model import BatchPredictions, CategoryModel
    from shared.policy import load_policy, words_of
    from shared.settings import Settings
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=Path, default=ROOT / "tests" / "data" / "routing" / "tuning.jsonl")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many passes (CPU time)")
    parser.add_argument("--starts", type=int, default=3, help="fresh processes per kind (best start-up kept)")
    args = parser.parse_args()
    console = Console(stderr=True)
    policy = load_policy()
    model = CategoryModel.for_policy(policy)
    texts = texts_of(args.rows)
    with console.status("warming the caches…"):
        for text in texts:                              # warm: every word's lemma is cached
            classify(text, policy, model=model)
    batch = Settings().batch_size

    def classify_batch(chunk, predictions):
        return [classify(t, policy, model=predictions) for t in chunk]
    with console.status(f"CPU per claim over {len(texts)} texts…"):
        baseline = per_claim_us(words_of, texts, args.rounds)
        rules = per_claim_us(lambda t: classify(t, policy), texts, args.rounds)
        one_by_one = per_claim_us(lambda t: classify(t, policy, model=model), texts, args.rounds)
        with_model = per_claim_batched_us(lambda chunk: classify_batch(chunk, BatchPredictions(model, chunk)),
                                          texts, batch, args.rounds)
    starts = {}
    for kind in ("rules", "model"):
        with console.status(f"start-up and memory of fresh processes ({kind})…"):
            runs = [probe(kind) for _ in range(args.starts)]
        starts[kind] = {"ready_s": min(r["ready_s"] for r in runs), "rss_mb": min(r["rss_mb"] for r in runs),
                        "peak_mb": min(r["peak_mb"] for r in runs)}
    model_mb = starts["model"]["rss_mb"] - starts["rules"]["rss_mb"]
    model_peak_mb = starts["model"]["peak_mb"] - starts["rules"]["peak_mb"]
    figures = {"texts": len(texts), "batch": batch, "tokenise_us": round(baseline, 1), "rules_us": round(rules, 1),
               "rules_and_model_us": round(with_model, 1), "rules_and_model_ratio": round(with_model / baseline, 1),
               "one_call_per_claim_us": round(one_by_one, 1),
               "start_rules_s": round(starts["rules"]["ready_s"], 2), "start_model_s": round(starts["model"]["ready_s"], 2),
               "rss_rules_mb": round(starts["rules"]["rss_mb"]), "rss_model_mb": round(starts["model"]["rss_mb"]),
               "model_mb": round(model_mb), "model_peak_mb": round(model_peak_mb)}
    print(f"{len(texts)} texts, CPU per claim (warm): tokenise {baseline:.1f} µs (baseline) · rules {rules:.1f} µs "
          f"(×{rules / baseline:.1f}) · rules + model {with_model:.1f} µs (×{with_model / baseline:.1f}) in the routing "
          f"stage's batches of {batch}; target ≤ 2000 µs")
    print(f"one model call per claim (routing explain, a single claim): {one_by_one:.1f} µs")
    print(f"memory of a fresh process: {starts['rules']['rss_mb']:.0f} MB rules only, {starts['model']['rss_mb']:.0f} MB "
          f"with the model: the model costs {model_mb:.0f} MB (peak {model_peak_mb:.0f} MB); target ≤ 300 MB")
    print(f"start-up to the first classified claim: {starts['rules']['ready_s']:.2f} s rules only, "
          f"{starts['model']['ready_s']:.2f} s with the model; target ≤ 5 s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
