#!/usr/bin/env python3
"""Intake's cost per event as claims grow: the same batch of web events (half of them
follow-ups of stored claims, half new) registered against 10,000 and against 1,000,000 stored
claims on PostgreSQL. Look-ups go through the (kind, value) index of claim_keys, so the time
per event should not grow with the table; the ratio says whether it does.

    python bench/dedupe_lookup.py                 # 10,000 vs 1,000,000
    python bench/dedupe_lookup.py --small 10000 --large 200000 --events 2000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.replay import ReplayReport, accept  # noqa: E402
from services.stages import declare_actors, intake_step  # noqa: E402
from services.synthetic import web_events  # noqa: E402
from shared.bootstrap import bootstrap  # noqa: E402
from shared.settings import Settings  # noqa: E402

PG_ADMIN = os.environ.get("CLAIMFLOW_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
console = Console(stderr=True)

FILL = """
INSERT INTO claims (id, claim_number, status, channel, priority, customer_email, customer_phone, order_ref,
                    description, details, received_at, registered_at, updated_at, escalation_level)
SELECT CAST(:base AS bigint) + g, 'RK-2025-' || lpad(g::text, 7, '0'), 'routed', 'web', 'normal',
       'stored' || g || '@example.ru', '+7900' || lpad(g::text, 7, '0'), (5000000 + g)::text,
       'Чайник протекает', '{}'::jsonb, timestamptz '2026-11-01 09:00+00', now(), now(), 0
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g;
INSERT INTO claim_keys (claim_id, kind, value)
SELECT CAST(:base AS bigint) + g, 'customer', 'email:stored' || g || '@example.ru' FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g
UNION ALL
SELECT CAST(:base AS bigint) + g, 'customer', 'phone:+7900' || lpad(g::text, 7, '0') FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g;
"""


def fill(app, lo: int, hi: int, base: int) -> None:
    """Claims lo..hi (their customers and orders numbered alike), with ids from ``base`` + lo."""
    with app.engine.begin() as conn:
        for statement in FILL.split(";"):
            if statement.strip():
                conn.execute(sa.text(statement), {"lo": lo, "hi": hi, "base": base})
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('claims', 'id'), "
                             "(SELECT max(id) FROM claims))"))
        conn.execute(sa.text("ANALYZE claims; ANALYZE claim_keys"))


def batch(existing: int, count: int, seed: int) -> list[str]:
    """Half follow-ups of stored claims (same e-mail and order), half new customers."""
    lines = []
    for i, line in enumerate(web_events(count, seed=seed, prefix=f"bench{seed}")):
        event = json.loads(line)
        if i % 2 == 0:
            g = 1 + (i * 7919) % existing
            event["payload"].update(email=f"stored{g}@example.ru", order_number=str(5_000_000 + g))
        lines.append(json.dumps(event, ensure_ascii=False))
    return lines


def measure(app, existing: int, events: int, seed: int) -> dict:
    lines = batch(existing, events, seed)
    accept(app, lines, ReplayReport())
    started = time.perf_counter()
    taken = 0
    while (n := intake_step(app)):
        taken += n
    elapsed = time.perf_counter() - started
    with app.engine.connect() as conn:
        merged = conn.execute(sa.text("SELECT count(*) FROM inbox_events WHERE status = 'merged' "
                                      "AND event_id LIKE :p"), {"p": f"bench{seed}%"}).scalar()
    return {"stored_claims": existing, "events": taken, "merged": merged, "ms_per_event": 1000 * elapsed / taken}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    name = f"bench_dedupe_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    app = bootstrap(Settings(database_url=url, broker_url=None, log_level="WARNING",
                             blob_dir=Path("/tmp") / name), migrate=True)
    declare_actors(app)
    results = []
    try:
        with console.status(f"storing {args.small:,} claims"):
            fill(app, 1, args.small, base=0)
        measure(app, args.small, 300, seed=9)          # warm-up: connections, sequences, caches
        results.append(measure(app, args.small, args.events, seed=1))
        with console.status(f"storing {args.large - args.small:,} more claims"):
            fill(app, args.small + 1, args.large, base=100_000_000)
        results.append(measure(app, args.large, args.events, seed=2))
    finally:
        app.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    table = Table(title="intake with deduplication, PostgreSQL, one process, batches of 100")
    for col in ("stored claims", "events", "merged", "ms per event"):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(f"{r['stored_claims']:,}", str(r["events"]), str(r["merged"]), f"{r['ms_per_event']:.2f}")
    ratio = results[1]["ms_per_event"] / results[0]["ms_per_event"]
    table.caption = f"time per event, {args.large:,} vs {args.small:,} stored claims: ×{ratio:.2f}"
    Console().print(table)
    print(json.dumps({"results": results, "ratio": ratio}))


if __name__ == "__main__":
    main()
