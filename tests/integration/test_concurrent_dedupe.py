"""Deduplication under concurrency on real PostgreSQL: several intake worker processes, each
handed one half of a duplicate pair at the same moment, still make one claim per pair."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.processes import export, replay

pytestmark = pytest.mark.services
PAIRS = 150


@pytest.fixture
def broker_url(redis_url):
    return redis_url


def pair(i: int) -> list[str]:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=i)
    first = {"email": f"pair{i}@example.ru", "order_number": f"ORD-{7_000_000 + i}",
             "description": "Чайник протекает снизу"}
    second = {"email": f"PAIR{i}@example.ru", "phone": f"+7 912 {i:03d}-00-00", "order_number": f"№ {7_000_000 + i}",
              "description": "Пишу повторно: чайник так и течёт"}
    return [json.dumps({"event_id": f"pair-{i}-{half}", "channel": "web", "source": "site",
                        "received_at": (at + timedelta(seconds=half)).isoformat(), "payload": payload},
                       ensure_ascii=False) for half, payload in enumerate((first, second))]


def test_two_halves_of_a_pair_taken_by_different_workers_at_once_make_one_claim(env, workers, tmp_path):
    # the advisory locks alone must hold: no waiting for older batches to commit
    env.update({"CLAIMFLOW_BATCH_SIZE": "1", "CLAIMFLOW_WORKER_THREADS": "4",
                "CLAIMFLOW_DEDUPE_ORDER_WAIT_SECONDS": "0"})
    events = tmp_path / "pairs.jsonl"
    events.write_text("\n".join(line for i in range(PAIRS) for line in pair(i)) + "\n", encoding="utf-8")
    for _ in range(3):
        workers.start("intake")
    workers.start("routing")

    report = replay(env, events)

    assert (report["claims"], report["merged"]) == (PAIRS, PAIRS)
    claims = export(env)
    assert sorted(sorted(c["source_event_ids"]) for c in claims) == \
        sorted([f"pair-{i}-0", f"pair-{i}-1"] for i in range(PAIRS))
