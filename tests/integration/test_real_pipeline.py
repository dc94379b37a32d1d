"""Tier 3: the same flow on real PostgreSQL with Redis and with RabbitMQ, the intake and routing
workers running as separate `claimflow worker` processes, and a third-party consumer that knows
only the queue names and the JSON Schema."""
from __future__ import annotations

import json
import signal
import threading
import time

import pytest
from sqlalchemy import text

from services.synthetic import web_events
from shared.bootstrap import bootstrap
from tests.helpers import drain_with_kombu, validate_all
from tests.integration.processes import export, free_port, replay, scrape, settings_from

pytestmark = pytest.mark.services


def third_party_consume(broker_url: str, queues: list[str]) -> list[dict]:
    """RabbitMQ: pika, the way another team's service would read its queue. Redis: plain kombu."""
    if not broker_url.startswith("amqp"):
        return drain_with_kombu(broker_url, queues)
    import pika
    bodies = []
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    for queue in queues:
        while True:
            method, properties, body = channel.basic_get(queue)
            if method is None:
                break
            assert properties.content_type == "application/json"
            bodies.append(json.loads(body))
            channel.basic_ack(method.delivery_tag)
    connection.close()
    return bodies


def department_queue_names(env) -> list[str]:
    from shared.policy import load_policy
    return [env["CLAIMFLOW_DEPARTMENT_QUEUE_PREFIX"] + d for d in load_policy().departments]


def test_web_events_flow_through_separate_workers_to_department_queues(env, broker_url, workers, tmp_path):
    events = tmp_path / "events.jsonl"
    lines = web_events(300, seed=11)
    events.write_text("\n".join(lines + lines[:20]) + "\n", encoding="utf-8")
    intake_port, routing_port = free_port(), free_port()
    workers.start("intake", intake_port)
    workers.start("routing", routing_port)

    report = replay(env, events)
    assert 'claimflow_claims_registered_total{channel="web"} 300.0' in scrape(intake_port)
    assert "claimflow_claims_routed_total{" in scrape(routing_port)

    assert report == {"events": 320, "claims": 300, "merged": 0, "redeliveries": 20, "quarantined": 0, "ignored": 0}
    claims = export(env)
    assert len(claims) == 300 and all(c["status"] == "routed" for c in claims)
    bodies = third_party_consume(broker_url, department_queue_names(env))
    validate_all(bodies)
    assert sorted(b["claim_number"] for b in bodies) == sorted(c["claim_number"] for c in claims)
    by_number = {c["claim_number"]: c for c in claims}
    assert all(by_number[b["claim_number"]]["department"] == b["department"] for b in bodies)


def test_routing_worker_killed_mid_replay_loses_and_doubles_nothing(env, broker_url, workers, tmp_path):
    count = 3000
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(web_events(count, seed=12)) + "\n", encoding="utf-8")
    workers.start("intake")
    routing = workers.start("routing")
    result = {}
    runner = threading.Thread(target=lambda: result.update(replay(env, events)))
    runner.start()

    app = bootstrap(settings_from(env), configure_logs=False)
    try:
        deadline = time.monotonic() + 120
        routed = 0
        while time.monotonic() < deadline:
            with app.engine.connect() as conn:
                routed = conn.execute(text("SELECT count(*) FROM claims WHERE status = 'routed'")).scalar()
            if routed >= 100:
                break
            time.sleep(0.05)
        assert 0 < routed < count, f"the kill must land mid-replay (routed={routed})"
        routing.send_signal(signal.SIGKILL)
        routing.wait(timeout=10)
        time.sleep(1)
        workers.start("routing")
        runner.join(timeout=300)
        assert result == {"events": count, "claims": count, "merged": 0, "redeliveries": 0, "quarantined": 0, "ignored": 0}

        with app.engine.connect() as conn:
            states = dict(conn.execute(text("SELECT status, count(*) FROM inbox_events GROUP BY status")).all())
            links = conn.execute(text("SELECT count(*), count(DISTINCT inbox_id), count(DISTINCT claim_id) "
                                      "FROM claim_events")).one()
            claim_states = dict(conn.execute(text("SELECT status, count(*) FROM claims GROUP BY status")).all())
            unpublished = conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar()
            outbox_per_claim = conn.execute(text("SELECT max(n) FROM (SELECT count(*) n FROM outbox GROUP BY claim_id) t")
                                            ).scalar()
    finally:
        app.close()
    assert states == {"registered": count}
    assert tuple(links) == (count, count, count)          # every event in exactly one claim
    assert claim_states == {"routed": count} and unpublished == 0 and outbox_per_claim == 1

    bodies = third_party_consume(broker_url, department_queue_names(env))
    validate_all(bodies)
    numbers = {b["claim_number"] for b in bodies}
    assert len(numbers) == count                           # every routed claim reached its queue
    ids_per_claim = {}
    for b in bodies:
        ids_per_claim.setdefault(b["claim_number"], set()).add(b["message_id"])
    assert all(len(ids) == 1 for ids in ids_per_claim.values())   # a re-sent copy keeps its message_id
