#!/usr/bin/env python3
"""The SLA sweep's cost as open claims grow: a sweep that finds and escalates the same 1,000 due
claims among 10,000 and among 1,000,000 open claims on PostgreSQL. Due claims are found through
the partial index on ``claims.next_sla_at``, so the time should not depend on the open total
beyond a small factor; the ratio says whether it does. Timed: the sweep's transactions (find,
lock, compute, insert escalations, history, staff notices and department messages, commit) —
publishing to the broker afterwards is not, as it does not depend on the open total either.

    python bench/sla_sweep.py                                   # 10,000 vs 1,000,000
    python bench/sla_sweep.py --small 10000 --large 200000 --due 500
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.db.engine import make_engine, make_sessionmaker  # noqa: E402
from shared.db.migrate import upgrade  # noqa: E402
from shared.observability.logging import configure_logging  # noqa: E402
from shared.policy import load_policy  # noqa: E402
from sla_worker.sweep import sweep  # noqa: E402

PG_ADMIN = os.environ.get("CLAIMFLOW_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
console = Console(stderr=True)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# open claims; ``due`` of them (the first) received 20 days ago and due now, the rest received
# today with their next moment days ahead
FILL = """
INSERT INTO claims (id, claim_number, status, channel, category, department, priority, description,
                    desired_resolution, details, received_at, registered_at, updated_at, routed_at,
                    escalation_level, sla_pauses, next_sla_at)
SELECT g, 'RK-2026-' || lpad(g::text, 7, '0'), 'routed', 'web', 'billing', 'finance', 'normal',
       'Списали деньги дважды', 'refund', '{}'::jsonb,
       CASE WHEN g <= :due THEN CAST(:now AS timestamptz) - interval '20 days'
            ELSE CAST(:now AS timestamptz) - (g % 3600) * interval '1 second' END,
       CAST(:now AS timestamptz) - interval '20 days', CAST(:now AS timestamptz), CAST(:now AS timestamptz), 0,
       '[]'::jsonb,
       CASE WHEN g <= :due THEN CAST(:now AS timestamptz) - interval '10 days'
            ELSE CAST(:now AS timestamptz) + interval '1 day' + (g % 86400) * interval '1 second' END
FROM generate_series(1, :total) AS g
"""


def build(total: int, due: int) -> tuple[str, sa.Engine]:
    name = f"bench_sla_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    with console.status(f"filling {total:,} open claims…"), engine.begin() as conn:
        conn.execute(sa.text(FILL), {"total": total, "due": due, "now": NOW})
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('claims', 'id'), :n)"), {"n": total})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE claims"))
    return name, engine


def drop(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def timed_sweep(engine: sa.Engine, batch: int) -> tuple[float, int, int]:
    """Sweep until nothing is due at NOW: seconds, claims taken, escalations fired."""
    sessions, policy = make_sessionmaker(engine), load_policy(None)
    taken = fired = 0
    started = time.perf_counter()
    while True:
        with sessions.begin() as session:
            result = sweep(session, now=NOW, policy=policy, limit=batch, worker="bench")
        taken, fired = taken + result.taken, fired + len(result.fired)
        if result.taken < batch:
            return time.perf_counter() - started, taken, fired


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    configure_logging("WARNING", "json")
    figures = {}
    for label, total in (("small", args.small), ("large", args.large)):
        name, engine = build(total, args.due)
        try:
            with console.status(f"sweeping {args.due:,} due among {total:,}…"):
                seconds, taken, fired = timed_sweep(engine, args.batch)
        finally:
            engine.dispose()
            drop(name)
        assert taken == args.due, (taken, args.due)
        figures[label] = {"open": total, "due": taken, "fired": fired, "seconds": round(seconds, 3),
                          "ms_per_due_claim": round(seconds * 1000 / taken, 3)}
    ratio = figures["large"]["seconds"] / figures["small"]["seconds"]
    table = Table(title="SLA sweep: the same due claims among more open ones")
    for column in ("open claims", "due", "escalations fired", "sweep s", "ms / due claim"):
        table.add_column(column, justify="right")
    for f in figures.values():
        table.add_row(f"{f['open']:,}", f"{f['due']:,}", f"{f['fired']:,}", f"{f['seconds']:.3f}",
                      f"{f['ms_per_due_claim']:.3f}")
    Console().print(table)
    print(json.dumps({**figures, "ratio_large_to_small": round(ratio, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
