#!/usr/bin/env python3
"""A department's consumer, written with plain kombu and knowing only the queue name and the
JSON Schema: reads routed claims from ``claims.<department>`` and prints one line per claim.

    python examples/department_consumer.py amqp://guest:guest@localhost// claims.quality
    python examples/department_consumer.py redis://localhost:6379/0 claims.logistics
    python examples/department_consumer.py sqla+sqlite:///claimflow-demo.db claims.quality

Messages are delivered at least once: a consumer drops a ``message_id`` it has already handled.
"""
import json
import sys

from kombu import Connection, Queue


def main(url: str, queue_name: str, limit: int | None = None) -> int:
    seen, count = set(), 0
    with Connection(url) as conn:
        with conn.SimpleQueue(Queue(queue_name, durable=True, no_declare=True)) as queue:
            while limit is None or count < limit:
                try:
                    message = queue.get(timeout=2)
                except queue.Empty:
                    break
                body = message.payload if isinstance(message.payload, dict) else json.loads(message.payload)
                if body["message_id"] not in seen:
                    seen.add(body["message_id"])
                    count += 1
                    print(f'{body["claim_number"]}  {body["priority"]:<6} {body["category"]:<20} '
                          f'{body["description"][:60]!r}')
                message.ack()
    print(f"{count} claims read from {queue_name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None))
