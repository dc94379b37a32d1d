"""The point of no return of one try: recording a notice as sent.

A crash between handing a message over and recording it either doubles it (recorded after) or
loses it (recorded before); no order avoids both. The SMTP channel makes the gap as narrow as it
can be: it sends the whole message but the final "." of DATA, then :meth:`prepare` marks the row
``sent`` in an open transaction (refused if this try no longer holds the row), :meth:`begin_commit`
puts COMMIT on the wire without waiting for it, the "." follows at once, and :meth:`end_commit`
waits for PostgreSQL's answer. A worker killed before COMMIT leaves the row to be sent again and
the server drops the unfinished message; killed after the ".", both happened. What remains is the
time between two writes to two sockets (microseconds), where a kill loses the notice; a COMMIT that
fails after the "." was sent (the database gone) sends it again, and the receiver drops the repeat
by its Message-ID. On SQLite (one process, the embedded default) the commit is an ordinary one.

HTTP channels call the object itself after a 2xx answer: prepare, commit, done."""
from __future__ import annotations

import select
import time
from datetime import datetime

from sqlalchemy import Engine, update

from notify_worker.delivery import LeaseLost
from shared.db.models import Notification

T = Notification.__table__


class CommitFailed(Exception):
    pass


class Confirmation:
    def __init__(self, engine: Engine, row_id: int, attempt: int, now: datetime, timeout: float = 30.0):
        self.engine, self.row_id, self.attempt, self.now, self.timeout = engine, row_id, attempt, now, timeout
        self.conn = None
        self.confirmed = False

    def __call__(self) -> None:
        self.prepare()
        self.begin_commit()
        self.end_commit()

    def prepare(self) -> None:
        """Mark the row sent, uncommitted; LeaseLost if another try holds it now."""
        self.conn = self.engine.connect()
        changed = self.conn.execute(update(T).where(T.c.id == self.row_id, T.c.status == "sending",
                                                    T.c.attempts == self.attempt)
                                    .values(status="sent", sent_at=self.now, last_error=None)).rowcount
        if changed != 1:
            self._close()
            raise LeaseLost(self.row_id)

    def begin_commit(self) -> None:
        """PostgreSQL: COMMIT written to the server's socket, its answer not awaited. Elsewhere: commit."""
        if self.engine.dialect.name != "postgresql":
            self.conn.commit()
            self.confirmed = True
            return
        pg = self.conn.connection.dbapi_connection.pgconn
        pg.send_query(b"COMMIT")
        while pg.flush():                      # non-blocking libpq: wait until it is all on the wire
            select.select([], [pg.socket], [], self.timeout)
        self.confirmed = True

    def end_commit(self) -> None:
        """Wait for the COMMIT's answer; CommitFailed if the database refused or is gone."""
        try:
            if self.engine.dialect.name == "postgresql":
                self._await_commit(self.conn.connection.dbapi_connection.pgconn)
                self.conn.commit()             # the driver is idle already: SQLAlchemy's bookkeeping only
            self._close()
        except BaseException:
            self.confirmed = False
            self._close(discard=True)
            raise

    def _await_commit(self, pg) -> None:
        from psycopg import pq
        deadline = time.monotonic() + self.timeout
        while True:
            pg.consume_input()
            if not pg.is_busy():
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommitFailed("no answer to COMMIT")
            select.select([pg.socket], [], [], left)
        failed = None
        while (result := pg.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                failed = result.status.name
        if failed:
            raise CommitFailed(f"COMMIT answered {failed}")

    def abandon(self) -> None:
        """Release the connection if a try ended part-way (the channel failed between the steps)."""
        if self.conn is not None:
            self._close(discard=True)

    def _close(self, discard: bool = False) -> None:
        try:
            if discard:
                self.conn.invalidate()         # a connection in an unknown state never goes back to the pool
        finally:
            self.conn.close()
            self.conn = None
