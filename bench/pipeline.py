#!/usr/bin/env python3
"""N web events through intake and routing on PostgreSQL + Redis (or RabbitMQ), with the workers
as separate processes. Prints claims/s and acceptance-to-department-queue latency (p50/p99), next
to the throughput of a no-op dramatiq actor on the same broker with the same worker settings,
measured in the same run, and the ratio of the two.

    python bench/pipeline.py --events 10000 --broker redis
    python bench/pipeline.py --events 10000 --broker rabbitmq

Each run gets its own PostgreSQL database and queue names, dropped at the end.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.replay import ReplayReport, accept  # noqa: E402
from services.stages import declare_actors  # noqa: E402
from services.synthetic import web_events  # noqa: E402
from shared.bootstrap import bootstrap  # noqa: E402
from shared.settings import Settings  # noqa: E402

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F"}
PG_ADMIN = os.environ.get("CLAIMFLOW_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
console = Console(stderr=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Run:
    """A database, queue names and worker processes of this run alone."""

    def __init__(self, broker: str, threads: int, prefetch: int, batch: int):
        self.tag = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.tag}"'))
        self.db_url = sa.engine.make_url(PG_ADMIN).set(database=self.tag).render_as_string(hide_password=False)
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")},
                    "CLAIMFLOW_DATABASE_URL": self.db_url, "CLAIMFLOW_BROKER_URL": BROKERS[broker],
                    "CLAIMFLOW_QUEUE_PREFIX": f"{self.tag}.", "CLAIMFLOW_REDIS_NAMESPACE": self.tag,
                    "CLAIMFLOW_DEPARTMENT_EXCHANGE": f"{self.tag}.claims",
                    "CLAIMFLOW_DEPARTMENT_QUEUE_PREFIX": f"{self.tag}.claims.",
                    "CLAIMFLOW_WORKER_THREADS": str(threads), "CLAIMFLOW_QUEUE_PREFETCH": str(prefetch),
                    "CLAIMFLOW_BATCH_SIZE": str(batch), "CLAIMFLOW_LOG_LEVEL": "WARNING",
                    "PYTHONPATH": str(ROOT)}
        self.settings = Settings(**{k[10:].lower(): v for k, v in self.env.items() if k.startswith("CLAIMFLOW_")})
        self.procs: list[subprocess.Popen] = []

    def spawn(self, *args: str, ready_line: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, *args], env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        self.procs.append(proc)
        if ready_line:
            proc.stdout.readline()
        return proc

    def stop_workers(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def cleanup(self, app) -> None:
        self.stop_workers()
        try:
            if self.settings.broker_url.startswith("redis"):
                import redis
                client = redis.Redis.from_url(self.settings.broker_url)
                for pattern in (f"{self.tag}*", f"_kombu.binding.{self.tag}*"):
                    keys = list(client.scan_iter(pattern))
                    if keys:
                        client.delete(*keys)
            else:
                with app.department_queues._connect().channel as channel:   # noqa: SLF001 - bench clean-up
                    for queue in app.department_queues.queues.values():
                        channel.queue_delete(queue.name)
                    for name in ("intake", "routing", "noop"):
                        for suffix in ("", ".DQ", ".XQ"):
                            channel.queue_delete(f"{self.tag}.{name}{suffix}")
        finally:
            app.close()
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.tag}" WITH (FORCE)'))


def noop_baseline(run: Run, app, n: int, processes: int) -> float:
    """Messages per second through a no-op actor on ``processes`` worker processes."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench.noop_worker import declare_noop
    actor = declare_noop(app.broker, run.settings)
    for _ in range(processes):
        run.spawn("-m", "bench.noop_worker", ready_line=True)
    started = time.perf_counter()
    for _ in range(n):
        actor.send()
    if run.settings.broker_url.startswith("redis"):
        app.broker.join(actor.queue_name, interval=5)
    else:
        app.broker.join(actor.queue_name, min_successes=5, idle_time=10)
    elapsed = time.perf_counter() - started
    run.stop_workers()
    return n / elapsed


def wait_published(app, expected: int, timeout: float, progress: Progress | None = None) -> None:
    deadline = time.monotonic() + timeout
    task = progress.add_task("routed", total=expected) if progress else None
    while True:
        with app.engine.connect() as conn:
            done = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")).scalar()
        if progress:
            progress.update(task, completed=done)
        if done >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{done} of {expected} published after {timeout} s")
        time.sleep(0.05)


def latencies(app, since_id: int = 0) -> tuple[list[float], float, float]:
    """Per claim: seconds from acceptance into the inbox to publication on the department queue;
    and the first acceptance and last publication (epoch seconds)."""
    with app.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT extract(epoch FROM i.accepted_at), extract(epoch FROM o.published_at) "
            "FROM outbox o JOIN claim_events e ON e.claim_id = o.claim_id JOIN inbox_events i ON i.id = e.inbox_id "
            "WHERE i.id > :since"), {"since": since_id}).all()
    acc = [float(a) for a, _ in rows]
    pub = [float(p) for _, p in rows]
    return [p - a for a, p in zip(acc, pub)], min(acc), max(pub)


def claims_run(run: Run, app, lines: list[str], paced_rate: float | None, progress: Progress) -> dict:
    """Feed ``lines`` (as fast as possible, or at ``paced_rate`` events/s) to running workers."""
    with app.engine.connect() as conn:
        since = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM inbox_events")).scalar()
    report = ReplayReport()
    feeding = progress.add_task("accepted" if not paced_rate else f"paced {paced_rate:.0f}/s", total=len(lines))
    if paced_rate:
        chunk = max(1, int(paced_rate / 20))            # twenty small commits a second
        started = time.perf_counter()
        for i in range(0, len(lines), chunk):
            due = started + i / paced_rate
            time.sleep(max(0.0, due - time.perf_counter()))
            accept(app, lines[i:i + chunk], report, chunk=chunk, on_chunk=lambda n: progress.advance(feeding, n))
    else:
        accept(app, lines, report, chunk=500, on_chunk=lambda n: progress.advance(feeding, n))
    wait_published(app, expected=len(report.inbox_ids) + _published_before(app, since), timeout=900,
                   progress=progress)
    lat, first, last = latencies(app, since)
    return {"claims": len(lat), "claims_per_s": len(lat) / (last - first), "p50_ms": 1000 * percentile(lat, .5),
            "p99_ms": 1000 * percentile(lat, .99), "mean_ms": 1000 * statistics.fmean(lat)}


def _published_before(app, since: int) -> int:
    with app.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM outbox o JOIN claim_events e ON e.claim_id = o.claim_id "
                                    "WHERE e.inbox_id <= :s"), {"s": since}).scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--broker", choices=sorted(BROKERS), default="redis")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--prefetch", type=int, default=64)
    parser.add_argument("--batch", type=int, default=100, help="events per intake/routing transaction")
    parser.add_argument("--paced-share", type=float, default=0.5,
                        help="the latency run offers this share of the measured throughput (0: skip it)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    run = Run(args.broker, args.threads, args.prefetch, args.batch)
    app = bootstrap(run.settings, configure_logs=False, migrate=True)
    declare_actors(app)
    figures = {"events": args.events, "broker": args.broker, "threads": args.threads,
               "prefetch": args.prefetch, "batch": args.batch, "cpus": os.cpu_count()}
    try:
        with Progress(console=console, transient=True) as progress:
            baseline_task = progress.add_task("no-op baseline", total=None)
            figures["noop_msgs_per_s"] = noop_baseline(run, app, args.events, processes=2)
            progress.remove_task(baseline_task)
            run.spawn("-m", "services.cli", "worker", "intake", "--metrics-port", "0")
            run.spawn("-m", "services.cli", "worker", "routing", "--metrics-port", "0")
            time.sleep(2)                               # both workers connected and consuming
            figures["saturated"] = claims_run(run, app, web_events(args.events, seed=1, prefix="sat"), None, progress)
            if args.paced_share > 0:
                rate = figures["saturated"]["claims_per_s"] * args.paced_share
                paced = web_events(max(500, args.events // 4), seed=2, prefix="paced")
                figures["paced"] = claims_run(run, app, paced, rate, progress)
    finally:
        run.cleanup(app)
    figures["ratio_to_noop"] = figures["saturated"]["claims_per_s"] / figures["noop_msgs_per_s"]
    show(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))


def show(f: dict) -> None:
    table = Table(title=f"claimflow pipeline: {f['events']} web events, PostgreSQL + {f['broker']}, "
                        f"2 worker processes × {f['threads']} threads, prefetch {f['prefetch']}, batch {f['batch']}")
    for col in ("run", "claims/s", "p50 ms", "p99 ms", "mean ms"):
        table.add_column(col, justify="right")
    for name in ("saturated", "paced"):
        if name in f:
            r = f[name]
            table.add_row(name, f"{r['claims_per_s']:.0f}", f"{r['p50_ms']:.0f}", f"{r['p99_ms']:.0f}", f"{r['mean_ms']:.0f}")
    table.add_row("no-op dramatiq actor", f"{f['noop_msgs_per_s']:.0f} msg/s", "", "", "")
    table.caption = (f"claims/s ÷ no-op msg/s = {f['ratio_to_noop']:.2f} "
                     f"(a claim is one of a batch of {f['batch']}: two stages, about ten rows written, one publish)")
    Console().print(table)


if __name__ == "__main__":
    main()
