#!/usr/bin/env python3
"""Replays a file of channel events through claimflow and scores the result with
../shared/tools/eval_claims.py: on the embedded default, or on PostgreSQL + Redis (or RabbitMQ)
with several intake workers as separate processes.

    python bench/sample_eval.py                                   # embedded default
    python bench/sample_eval.py --backend redis --intake-workers 2
    python bench/sample_eval.py --backend rabbitmq --intake-workers 2

Each run gets its own database and queue names, removed at the end."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BROKERS = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F"}
PG_ADMIN = os.environ.get("CLAIMFLOW_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def claimflow(*args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, cwd=ROOT, **kwargs)


def split_half(events: Path, truth: Path, held_back: bool, work: Path) -> tuple[Path, Path]:
    """The events and truth lines of one half of the true claims (the files are line-aligned); a
    quarantined event with no claim goes by a hash of its line number."""
    event_lines = events.read_text(encoding="utf-8").splitlines()
    truth_lines = truth.read_text(encoding="utf-8").splitlines()
    assert len(event_lines) == len(truth_lines), "events and truth must be line-aligned"
    kept_events, kept_truth = [], []
    for n, (event, true) in enumerate(zip(event_lines, truth_lines)):
        key = json.loads(true).get("claim_key") or f"line-{n}"
        if (hashlib.sha256(key.encode()).digest()[0] % 2 == 1) == held_back:
            kept_events.append(event)
            kept_truth.append(true)
    (work / "events.jsonl").write_text("\n".join(kept_events) + "\n", encoding="utf-8")
    (work / "truth.jsonl").write_text("\n".join(kept_truth) + "\n", encoding="utf-8")
    return work / "events.jsonl", work / "truth.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, default=SHARED / "data" / "sample-events.jsonl")
    parser.add_argument("--truth", type=Path, default=SHARED / "data" / "sample-truth.jsonl")
    parser.add_argument("--backend", choices=["embedded", *BROKERS], default="embedded")
    parser.add_argument("--intake-workers", type=int, default=2)
    parser.add_argument("--half", choices=["all", "tuning", "held-back"], default="all",
                        help="score only one half of the true claims (split by a hash of the claim key): the "
                             "rules were tuned on 'tuning'; 'held-back' is the part nobody looked at")
    args = parser.parse_args()

    tag = f"eval_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix="claimflow-eval-"))
    if args.half != "all":
        args.events, args.truth = split_half(args.events, args.truth, args.half == "held-back", work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}
    env.update(CLAIMFLOW_LOG_LEVEL="WARNING", CLAIMFLOW_BLOB_DIR=str(work / "blobs"), PYTHONPATH=str(ROOT))
    admin, procs = None, []
    if args.backend == "embedded":
        env["CLAIMFLOW_DATABASE_URL"] = f"sqlite:///{work / 'claimflow.db'}"
    else:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{tag}"'))
        env.update(CLAIMFLOW_DATABASE_URL=sa.engine.make_url(PG_ADMIN).set(database=tag)
                   .render_as_string(hide_password=False), CLAIMFLOW_BROKER_URL=BROKERS[args.backend],
                   CLAIMFLOW_QUEUE_PREFIX=f"{tag}.", CLAIMFLOW_REDIS_NAMESPACE=tag,
                   CLAIMFLOW_DEPARTMENT_EXCHANGE=f"{tag}.claims", CLAIMFLOW_DEPARTMENT_QUEUE_PREFIX=f"{tag}.claims.")
        claimflow("db", "upgrade", env=env, check=True)
        for name in ["intake"] * args.intake_workers + ["routing"]:
            procs.append(subprocess.Popen([sys.executable, "-m", "services.cli", "worker", name, "--metrics-port", "0"],
                                          env=env, cwd=ROOT, stderr=subprocess.DEVNULL))
        time.sleep(2)
    try:
        started = time.perf_counter()
        replay = claimflow("replay", str(args.events), env=env, capture_output=True, text=True, check=True)
        print(f"replay ({args.backend}, {args.intake_workers if procs else 'in-process'} intake): "
              f"{replay.stdout.strip().splitlines()[-1]} in {time.perf_counter() - started:.1f} s")
        (work / "export.jsonl").write_text(claimflow("claims", "export", env=env, capture_output=True, text=True,
                                                     check=True).stdout)
        (work / "quarantine.jsonl").write_text(claimflow("quarantine", "list", env=env, capture_output=True,
                                                         text=True, check=True).stdout)
        scored = subprocess.run([sys.executable, str(SHARED / "tools" / "eval_claims.py"), "--truth", str(args.truth),
                                 "--claims", str(work / "export.jsonl"), "--quarantine", str(work / "quarantine.jsonl")])
        return scored.returncode
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)'))
            if args.backend == "redis":
                import redis
                client = redis.Redis.from_url(BROKERS["redis"])
                for pattern in (f"{tag}*", f"_kombu.binding.{tag}*"):
                    keys = list(client.scan_iter(pattern))
                    if keys:
                        client.delete(*keys)


if __name__ == "__main__":
    sys.exit(main())
