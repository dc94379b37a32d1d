"""The departments' durable queues: ``<prefix><department>`` bound on one direct exchange,
plain JSON messages that any team can consume with any AMQP or kombu client."""
from __future__ import annotations

import json
import threading

from kombu import Connection, Exchange, Queue

from shared.messaging.connections import department_connection, release_quietly


class DepartmentQueues:
    """Publishes claim messages to department queues. Thread-safe; connects on first use."""

    def __init__(self, url: str, exchange: str, queue_prefix: str, departments: list[str]):
        self.url = url
        self.exchange = Exchange(exchange, type="direct", durable=True)
        self.queues = {d: Queue(queue_prefix + d, self.exchange, routing_key=d, durable=True)
                       for d in departments}
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer = None

    def queue_name(self, department: str) -> str:
        return self.queues[department].name

    def _transport_options(self) -> dict:
        return {"confirm_publish": True} if self.url.startswith("amqp") else {}

    def _connect(self):
        if self._producer is None:
            self._connection = department_connection(self.url, self._transport_options())
            # a short retry: the outbox keeps the messages, and the re-driver comes back for them
            self._connection.ensure_connection(max_retries=3, interval_start=0.2, interval_step=0.4, interval_max=1)
            channel = self._connection.channel()
            for queue in self.queues.values():      # declared up front: nothing routed is dropped
                queue.bind(channel).declare()
            self._producer = self._connection.Producer(channel, exchange=self.exchange)
        return self._producer

    def publish(self, department: str, body: dict, message_id: str) -> None:
        self.publish_many([(department, body, message_id)])

    def publish_many(self, messages: list[tuple[str, dict, str]]) -> None:
        """Publish ``(department, body, message_id)`` messages; on transports that can (Redis),
        as one pipelined batch. Raises if any may not have been published."""
        unknown = {d for d, _, _ in messages} - self.queues.keys()
        if unknown:
            raise KeyError(f"no queue for department(s) {sorted(unknown)}")
        with self._lock:
            try:
                producer = self._connect()
                with producer.batch(max_size=max(1, len(messages))):
                    for department, body, message_id in messages:
                        correlation = {"correlation_id": body["correlation_id"]} if body.get("correlation_id") else {}
                        producer.publish(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                                         routing_key=department, content_type="application/json",
                                         content_encoding="utf-8", delivery_mode=2, message_id=message_id,
                                         headers={"schema": body.get("schema"), "version": body.get("version"),
                                                  **correlation}, **correlation)
            except Exception:
                self._reset()
                raise

    def _reset(self) -> None:
        release_quietly(self._connection)
        self._connection = self._producer = None

    def close(self) -> None:
        with self._lock:
            self._reset()
