"""Sending due notices, exactly once as far as a crash allows.

A round leases a small batch of due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number
of workers share the table): each becomes ``sending``, its attempt counted, until ``now + lease``;
staff rows are expanded into one row per address in the same transaction. Then each row is sent
on its own and settled in its own transaction: the channel confirms it at its point of no return
(``confirmation``), which marks the row ``sent`` only if this try still holds it; a failure schedules the
next try (exponential backoff, full jitter) or, after the last, moves it to the dead-letter list.
A worker killed mid-round leaves its rows ``sending``; they are due again when the lease runs out."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from notify_worker.backoff import delay
from notify_worker.compose import compose, expand
from notify_worker.confirmation import Confirmation
from notify_worker.delivery import Channel, DeliveryError, LeaseLost, Permanent, Transient
from notify_worker.enqueue import insert_once
from shared.notify_policy import NotifyPolicy
from notify_worker.rendering import RenderError, Templates
from shared.db.engine import make_sessionmaker
from shared.db.models import Notification
from shared.db.statements import claim_work, in_values
from shared.observability.logging import bound_claim
from shared.observability.metrics import NOTIFICATIONS

log = structlog.get_logger("notify")
T = Notification.__table__


@dataclass(frozen=True)
class Retries:
    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    lease_seconds: float = 60.0


@dataclass
class Delivery:
    """What a sender needs besides the database: channels by name, templates, the staff policy."""
    channels: Mapping[str, Channel]
    templates: Templates
    policy: NotifyPolicy
    status_url: str                      # a format string with {claim_number}
    departments: Mapping[str, str]       # department → its title


def expand_due(session: Session, now: datetime, *, limit: int, policy: NotifyPolicy) -> int:
    """Expand up to ``limit`` due staff notices into one row per address of their role, in the caller's
    transaction; how many were expanded."""
    query = (select(T).where(T.c.status == "pending", T.c.channel.is_(None), T.c.next_attempt_at <= now)
             .order_by(T.c.id).limit(limit))
    parents = [dict(r) for r in session.execute(claim_work(session, query)).mappings()]
    for parent in parents:
        children = expand(parent, policy)
        for child in children:
            insert_once(session, {**child, "status": "pending", "attempts": 0, "next_attempt_at": now,
                                  "last_error": None, "created_at": now, "sent_at": None})
        if not children:
            log.info("notify.no_recipients", notification_id=parent["id"], kind=parent["kind"],
                     role=parent["recipient"])
    if parents:
        session.execute(update(T).where(in_values(session, T.c.id, [p["id"] for p in parents]))
                        .values(status="expanded", sent_at=now))
    return len(parents)


def lease(session: Session, now: datetime, *, limit: int, retries: Retries) -> list[dict]:
    """Take up to ``limit`` due notices for this worker until ``now + lease``, in the caller's transaction."""
    query = (select(T).where(in_values(session, T.c.status, ["pending", "sending"]), T.c.channel.is_not(None),
                             T.c.next_attempt_at <= now)
             .order_by(T.c.next_attempt_at, T.c.id).limit(limit))
    rows = [dict(r) for r in session.execute(claim_work(session, query)).mappings()]
    stale = [r["id"] for r in rows if r["attempts"] >= retries.max_attempts]
    if stale:       # its last try never finished (the worker died mid-send): not again
        session.execute(update(T).where(in_values(session, T.c.id, stale))
                        .values(status="dead", last_error="lease expired on the last try"))
    taken = [r for r in rows if r["attempts"] < retries.max_attempts]
    if taken:
        session.execute(update(T).where(in_values(session, T.c.id, [r["id"] for r in taken]))
                        .values(status="sending", attempts=T.c.attempts + 1,
                                next_attempt_at=now + timedelta(seconds=retries.lease_seconds)))
    return [{**r, "attempts": r["attempts"] + 1} for r in taken]


class Sender:
    """One worker thread's sending: its own channels (an SMTP connection is not shared)."""

    def __init__(self, engine: Engine, delivery: Delivery, retries: Retries, clock, draw: Callable[[], float],
                 batch_size: int = 20):
        self.engine, self.sessions = engine, make_sessionmaker(engine)
        self.delivery, self.retries = delivery, retries
        self.clock, self.draw, self.batch_size = clock, draw, batch_size

    def run_once(self) -> int:
        """One round: expand staff notices, lease a batch and send it; how many rows it took."""
        with self.sessions.begin() as session:
            now = self.clock.now()
            expanded = expand_due(session, now, limit=self.batch_size, policy=self.delivery.policy)
            rows = lease(session, now, limit=self.batch_size, retries=self.retries)
        for row in rows:
            with bound_claim(row):        # its claim's number and correlation id (kept in the notice's context)
                self.send(row)
        return expanded + len(rows)

    def send(self, row: dict) -> str:
        confirmation = Confirmation(self.engine, row["id"], row["attempts"], self.clock.now())
        try:
            channel = self.delivery.channels.get(row["channel"])
            if channel is None:
                raise Permanent(f"no {row['channel']} channel")
            message = compose(row, self.delivery.templates, status_url=self.delivery.status_url,
                              departments=self.delivery.departments, policy=self.delivery.policy)
            channel.send(message, confirmation)
            outcome = "sent" if confirmation.confirmed else "lost"
        except LeaseLost:
            outcome = "lost"
        except RenderError as e:
            outcome = self._failed(row, Permanent(str(e)), confirmation.confirmed)
        except DeliveryError as e:
            outcome = self._failed(row, e, confirmation.confirmed)
        except Exception as e:   # noqa: BLE001 - a channel's bug, the database: not the worker's end
            # the class only: an exception's text may carry the address (personal data)
            log.error("notify.channel_error", notification_id=row["id"], error=type(e).__name__)
            outcome = self._failed(row, Transient(f"{type(e).__name__}"), confirmation.confirmed)
        finally:
            confirmation.abandon()
        NOTIFICATIONS.labels(row["channel"], outcome).inc()
        log.info("notify." + outcome, notification_id=row["id"], kind=row["kind"], channel=row["channel"],
                 claim_number=row["claim_number"], attempt=row["attempts"])
        return outcome

    def _failed(self, row: dict, error: DeliveryError, confirmed: bool) -> str:
        """Undo the confirmation the channel gave before failing, and schedule or dead-letter it."""
        held = "sent" if confirmed else "sending"
        now = self.clock.now()
        if error.transient and row["attempts"] < self.retries.max_attempts:
            wait = delay(row["attempts"], base=self.retries.base_seconds, cap=self.retries.cap_seconds,
                         draw=self.draw)
            done = self._settle(row, held, status="pending", sent_at=None, last_error=str(error)[:500],
                                next_attempt_at=now + timedelta(seconds=wait))
            return "retry" if done else "lost"
        done = self._settle(row, held, status="dead", sent_at=None, last_error=str(error)[:500])
        return "dead" if done else "lost"

    def _settle(self, row: dict, held: str, **values) -> bool:
        """Change the row if this attempt still holds it (its status and attempt count unchanged)."""
        with self.sessions.begin() as session:
            changed = session.execute(update(T).where(T.c.id == row["id"], T.c.status == held,
                                                      T.c.attempts == row["attempts"]).values(**values))
            return changed.rowcount == 1
