"""The outbox relay: publishes messages that committed transactions wrote, then stamps them.

Delivery is at least once: a crash after a publish and before its stamp commits publishes
that message again, with the same ``message_id``, which consumers use to drop the copy."""
from __future__ import annotations

import threading

import structlog
from sqlalchemy import select

from shared.db.models import OutboxMessage
from shared.db.statements import claim_work
from shared.observability.metrics import MESSAGES_PUBLISHED

log = structlog.get_logger("outbox")


class OutboxRelay:
    def __init__(self, sessions, queues, clock, postgres: bool):
        self.sessions, self.queues, self.clock, self.postgres = sessions, queues, clock, postgres
        self._lock = threading.Lock()

    def _query(self, ids, limit):
        query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        return query.order_by(OutboxMessage.id).limit(limit)

    def publish_pending(self, ids: list[int] | None = None, limit: int = 500) -> int:
        """Publish unpublished messages (those of ``ids``, or the oldest ``limit``)."""
        if ids is not None and not ids:
            return 0
        if self.postgres:
            return self._publish_locked(ids, limit)
        return self._publish_embedded(ids, limit)

    def _publish_locked(self, ids, limit) -> int:
        """PostgreSQL: rows stay locked while they are published, so two relays never send one twice."""
        published = 0
        with self.sessions.begin() as session:
            rows = session.scalars(claim_work(session, self._query(ids, limit))).all()
            try:
                for row in rows:
                    self._send(row)
                    row.published_at = self.clock.now()
                    published += 1
            except Exception:
                log.exception("outbox.publish_failed", published=published, left=len(rows) - published)
                for row in rows[published:]:
                    row.attempts += 1
        return published

    def _publish_embedded(self, ids, limit) -> int:
        """SQLite: the department queues may live in the same file, so publish outside the write
        transaction; the process-wide lock keeps relays of this process from overlapping."""
        with self._lock:
            with self.sessions() as session:
                rows = session.scalars(self._query(ids, limit)).all()
            sent = []
            try:
                for row in rows:
                    self._send(row)
                    sent.append(row.id)
            finally:
                if sent:
                    with self.sessions.begin() as session:
                        now = self.clock.now()
                        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(sent))):
                            row.published_at = now
            return len(sent)

    def _send(self, row: OutboxMessage) -> None:
        self.queues.publish(row.routing_key, row.payload, row.message_id)
        MESSAGES_PUBLISHED.labels(row.routing_key).inc()
