"""The outbox relay: publishes messages that committed transactions wrote, then stamps them.

Delivery is at least once: a crash after a publish and before its stamp commits publishes
that message again, with the same ``message_id``, which consumers use to drop the copy.
A batch that fails to publish stays unstamped and is re-driven whole.

``on_published`` hooks run in the stamping transaction, after the broker confirmed the batch:
routing uses one to mark a claim ``routed`` only once its department message is confirmed."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import select, update

from shared.db.models import OutboxMessage
from shared.db.statements import claim_work, in_values
from shared.observability.logging import bound_claim
from shared.observability.metrics import MESSAGES_PUBLISHED

log = structlog.get_logger("outbox")


#: ``hook(session, published_rows, now)``, called in the transaction that stamps the rows
PublishedHook = Callable[[object, Sequence[OutboxMessage], object], None]


class OutboxRelay:
    def __init__(self, sessions, queues, clock, postgres: bool, on_published: Sequence[PublishedHook] = ()):
        self.sessions, self.queues, self.clock, self.postgres = sessions, queues, clock, postgres
        self.on_published = list(on_published)
        self._lock = threading.Lock()

    @staticmethod
    def _query(session, ids, limit):
        query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        if ids is not None:
            query = query.where(in_values(session, OutboxMessage.id, ids))
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
        with self.sessions.begin() as session:
            rows = session.scalars(claim_work(session, self._query(session, ids, limit))).all()
            try:
                self._send(rows)
            except Exception:
                log.exception("outbox.publish_failed", messages=len(rows))
                for row in rows:
                    row.attempts += 1
                return 0
            now = self.clock.now()
            for row in rows:
                row.published_at = now
            self._confirmed(session, rows, now)
        return len(rows)

    def _publish_embedded(self, ids, limit) -> int:
        """SQLite: the department queues may live in the same file, so publish outside the write
        transaction; the process-wide lock keeps relays of this process from overlapping."""
        with self._lock:
            with self.sessions() as session:
                rows = session.scalars(self._query(session, ids, limit)).all()
            if not rows:
                return 0
            try:
                self._send(rows)
            except Exception:
                log.exception("outbox.publish_failed", messages=len(rows))
                with self.sessions.begin() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                                    .values(attempts=OutboxMessage.attempts + 1))
                return 0
            now = self.clock.now()
            with self.sessions.begin() as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                                .values(published_at=now))
                self._confirmed(session, rows, now)
            return len(rows)

    def _confirmed(self, session, rows, now) -> None:
        for hook in self.on_published:
            hook(session, rows, now)

    def _send(self, rows: list[OutboxMessage]) -> None:
        self.queues.publish_many([(row.routing_key, row.payload, row.message_id) for row in rows])
        for row in rows:
            MESSAGES_PUBLISHED.labels(row.routing_key).inc()
            with bound_claim(row.payload or {}):      # a department message names its claim and correlation id
                log.debug("outbox.published", message_id=row.message_id, department=row.routing_key)
