"""The outbox relay: publishes messages that committed transactions wrote, then stamps them.

Delivery is at least once: a crash after a publish and before its stamp commits publishes
that message again, with the same ``message_id``, which consumers use to drop the copy.
A batch that fails to publish is tried message by message; what the broker still refuses stays
unstamped and is re-driven, and a message refused alone too often goes to the dead list.

``on_published`` hooks run in the stamping transaction, after the broker confirmed the batch:
routing uses one to mark a claim ``routed`` only once its department message is confirmed."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import select, update

from shared.dead_list import set_aside, set_aside_ids
from shared.db.models import OutboxMessage
from shared.db.statements import claim_work, in_values
from shared.observability.logging import bound_claim
from shared.observability.metrics import MESSAGES_PUBLISHED

log = structlog.get_logger("outbox")
STAGE = "outbox"
MAX_ATTEMPTS = 5      # refusals of a message alone, while others go through, before it is set aside


#: ``hook(session, published_rows, now)``, called in the transaction that stamps the rows
PublishedHook = Callable[[object, Sequence[OutboxMessage], object], None]


def broker_trouble(exc: BaseException) -> bool:
    """The broker is unreachable or dropped the connection: nothing is wrong with the messages."""
    from kombu.exceptions import OperationalError
    return isinstance(exc, (OSError, ConnectionError, TimeoutError, OperationalError))


class OutboxRelay:
    def __init__(self, sessions, queues, clock, postgres: bool, on_published: Sequence[PublishedHook] = ()):
        self.sessions, self.queues, self.clock, self.postgres = sessions, queues, clock, postgres
        self.on_published = list(on_published)
        self._lock = threading.Lock()

    def publish_pending(self, ids: list[int] | None = None, limit: int = 500) -> int:
        """Publish unpublished messages (those of ``ids``, or the oldest ``limit``). When the broker
        is unreachable, everything waits for it. When it refuses a batch for another reason (a
        department the policy no longer has, say), the batch is tried message by message, and a
        message refused ``MAX_ATTEMPTS`` times goes to the dead list: it never holds up the rest."""
        if ids is not None and not ids:
            return 0
        published, failed = self._publish(ids, limit)
        if not failed or broker_trouble(next(iter(failed.values()))):
            return published
        refused = failed
        if len(failed) > 1:
            log.warning("outbox.batch_failed_isolating", messages=len(failed))
            refused = {}
            for row_id in failed:
                one, error = self._publish([row_id], 1)
                published += one
                refused.update(error)
        self._set_aside_worn_out({i: e for i, e in refused.items() if not broker_trouble(e)})
        return published

    def _publish(self, ids, limit) -> tuple[int, dict[int, BaseException]]:
        if self.postgres:
            return self._publish_locked(ids, limit)
        return self._publish_embedded(ids, limit)

    def _query(self, session, ids, limit):
        query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None),
                                            OutboxMessage.id.not_in(set_aside_ids(STAGE)))
        if ids is not None:
            query = query.where(in_values(session, OutboxMessage.id, ids))
        return query.order_by(OutboxMessage.id).limit(limit)

    def _publish_locked(self, ids, limit) -> tuple[int, dict[int, BaseException]]:
        """PostgreSQL: rows stay locked while they are published, so two relays never send one twice."""
        with self.sessions.begin() as session:
            rows = session.scalars(claim_work(session, self._query(session, ids, limit))).all()
            try:
                self._send(rows)
            except Exception as exc:
                log.exception("outbox.publish_failed", messages=len(rows))
                for row in rows:
                    row.attempts += 1
                return 0, {row.id: exc for row in rows}
            now = self.clock.now()
            for row in rows:
                row.published_at = now
            self._confirmed(session, rows, now)
        return len(rows), {}

    def _publish_embedded(self, ids, limit) -> tuple[int, dict[int, BaseException]]:
        """SQLite: the department queues may live in the same file, so publish outside the write
        transaction; the process-wide lock keeps relays of this process from overlapping."""
        with self._lock:
            with self.sessions() as session:
                rows = session.scalars(self._query(session, ids, limit)).all()
            if not rows:
                return 0, {}
            try:
                self._send(rows)
            except Exception as exc:
                log.exception("outbox.publish_failed", messages=len(rows))
                with self.sessions.begin() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                                    .values(attempts=OutboxMessage.attempts + 1))
                return 0, {row.id: exc for row in rows}
            now = self.clock.now()
            with self.sessions.begin() as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                                .values(published_at=now))
                self._confirmed(session, rows, now)
            return len(rows), {}

    def _set_aside_worn_out(self, refused: dict[int, BaseException]) -> None:
        """The messages refused alone ``MAX_ATTEMPTS`` times go to the dead list."""
        if not refused:
            return
        with self.sessions.begin() as session:
            attempts = dict(session.execute(select(OutboxMessage.id, OutboxMessage.attempts)
                                            .where(OutboxMessage.id.in_(list(refused)))).all())
            for row_id, exc in refused.items():
                if attempts.get(row_id, 0) >= MAX_ATTEMPTS:
                    set_aside(session, STAGE, row_id, exc, self.clock.now())

    def _confirmed(self, session, rows, now) -> None:
        for hook in self.on_published:
            hook(session, rows, now)

    def _send(self, rows: list[OutboxMessage]) -> None:
        self.queues.publish_many([(row.routing_key, row.payload, row.message_id) for row in rows])
        for row in rows:
            MESSAGES_PUBLISHED.labels(row.routing_key).inc()
            with bound_claim(row.payload or {}):      # a department message names its claim and correlation id
                log.debug("outbox.published", message_id=row.message_id, department=row.routing_key)
