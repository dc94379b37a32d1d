"""Done-when of the notifications: a burst of 500 notices on real PostgreSQL, the notify worker
(`claimflow worker notify`, a separate process) killed with SIGKILL mid-burst — three times — and
restarted; reading back what the SMTP server received, every notice arrived exactly once."""
from __future__ import annotations

import collections
import os
import signal
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from notify_worker.enqueue import notify_customer
from shared.db.engine import make_engine
from shared.db.models import Notification
from tests.integration.processes import Workers

pytestmark = pytest.mark.services
BURST = 500


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_killing_the_notify_worker_mid_burst_delivers_each_notice_exactly_once(migrated_pg_url, mailbox, tmp_path):
    engine = make_engine(migrated_pg_url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        keys = [notify_customer(conn, {"claim_number": f"RK-2026-{i:06d}", "channel": "web", "language": "ru",
                                       "customer_email": f"c{i}@customer.test", "department": "quality",
                                       "received_at": now}, "registered", now) for i in range(BURST)]
    assert len(set(keys)) == BURST
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")},
           "CLAIMFLOW_DATABASE_URL": migrated_pg_url, "CLAIMFLOW_SMTP_HOST": "127.0.0.1",
           "CLAIMFLOW_SMTP_PORT": str(mailbox.port), "CLAIMFLOW_SMTP_FROM": "claims@shop.test",
           "CLAIMFLOW_NOTIFY_LEASE_SECONDS": "2", "CLAIMFLOW_NOTIFY_POLL_SECONDS": "0.2",
           "CLAIMFLOW_NOTIFY_BATCH_SIZE": "10", "CLAIMFLOW_WORKER_THREADS": "2", "CLAIMFLOW_LOG_LEVEL": "WARNING"}
    workers = Workers(env, tmp_path)
    killed_at = []
    try:
        for mark in (100, 250, 400):              # three kills, each mid-burst
            proc = workers.start("notify", metrics_port=0)
            wait_for(lambda: mailbox.count() >= mark or proc.poll() is not None, 120, f"{mark} messages")
            assert proc.poll() is None, (tmp_path / f"notify-{len(killed_at)}.log").read_text()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            killed_at.append(mailbox.count())
        assert killed_at[-1] < BURST, killed_at            # the last kill came before the burst was done
        workers.start("notify", metrics_port=0)

        def settled():
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(Notification)
                                   .where(Notification.status != "sent")) == 0
        wait_for(settled, 120, "every notice sent")
        time.sleep(3)                             # past a lease: anything left to resend would be resent now
    finally:
        workers.stop_all()
        with engine.connect() as conn:
            rows = {r.idempotency_key: (r.status, r.attempts, r.sent_at) for r in conn.execute(
                select(Notification.idempotency_key, Notification.status, Notification.attempts,
                       Notification.sent_at))}
        engine.dispose()

    received = collections.Counter(mailbox.keys)
    lost = {k: rows[k] for k in rows if k not in received}
    assert lost == {}, f"killed after {killed_at}"                  # none lost
    assert {k: n for k, n in received.items() if n > 1} == {}       # none twice
    assert set(received) == set(rows)
    assert len(mailbox.keys) == BURST
    attempts = collections.Counter(a for _, a, _ in rows.values())
    print(f"\nkilled after {killed_at} messages; attempts per notice: {dict(attempts)}")
