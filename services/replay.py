"""Feeding a JSON Lines file of channel events through the configured pipeline and waiting
until every event has been processed: registered and routed to its department queue,
merged, or quarantined."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from intake_worker.inbox import accept_lines
from intake_worker.validation import ReceivedWindow
from shared.bootstrap import App
from services.stages import nudge
from shared.db.models import Claim, InboxEvent, OutboxMessage


class ReplayTimeout(RuntimeError):
    pass


@dataclass
class ReplayReport:
    events: int = 0
    claims: int = 0
    merged: int = 0
    redeliveries: int = 0
    quarantined: int = 0
    ignored: int = 0
    inbox_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {"events": self.events, "claims": self.claims, "merged": self.merged,
                "redeliveries": self.redeliveries, "quarantined": self.quarantined, "ignored": self.ignored}


def read_lines(path) -> Iterable[bytes]:
    """The file's lines as bytes (a line that is not UTF-8 is quarantined, not a crash); blank lines skipped."""
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield line


def accept(app: App, lines: Iterable[bytes | str], report: ReplayReport, chunk: int = 500,
           on_chunk: Callable[[int], None] | None = None) -> None:
    """Write the lines to the inbox in transactions of ``chunk`` and nudge intake after each commit."""
    buffer: list = []

    def flush():
        with app.sessions.begin() as session:
            outcome = accept_lines(session, buffer, app.clock.now(), app.settings.max_event_bytes,
                                       window=ReceivedWindow.of(app.settings))
        report.events += len(buffer)
        report.redeliveries += outcome.redelivered
        report.quarantined += outcome.quarantined
        report.inbox_ids.extend(outcome.accepted)
        nudge(app, "intake", len(outcome.accepted))
        if on_chunk:
            on_chunk(len(buffer))
        buffer.clear()

    for line in lines:
        buffer.append(line)
        if len(buffer) >= chunk:
            flush()
    if buffer:
        flush()


def _unfinished(session, lo: int, hi: int) -> int:
    """Events of the id range not yet at rest: pending in the inbox, registered but not routed,
    or routed with their department message not yet published."""
    in_range = and_(InboxEvent.id >= lo, InboxEvent.id <= hi)
    pending = session.scalar(select(func.count()).select_from(InboxEvent)
                             .where(in_range, InboxEvent.status == "pending"))
    unrouted = session.scalar(select(func.count()).select_from(InboxEvent).join(Claim, Claim.id == InboxEvent.claim_id)
                              .where(in_range, Claim.status == "registered"))
    unpublished = session.scalar(select(func.count()).select_from(InboxEvent)
                                 .join(OutboxMessage, OutboxMessage.claim_id == InboxEvent.claim_id)
                                 .where(in_range, OutboxMessage.published_at.is_(None)))
    return pending + unrouted + unpublished


def wait_until_done(app: App, report: ReplayReport, timeout: float,
                    on_progress: Callable[[int, int], None] | None = None, poll: float = 0.1) -> None:
    if not report.inbox_ids:
        return
    lo, hi, total = min(report.inbox_ids), max(report.inbox_ids), len(report.inbox_ids)
    deadline = time.monotonic() + timeout
    while True:
        with app.sessions() as session:
            left = _unfinished(session, lo, hi)
        if on_progress:
            on_progress(max(total - left, 0), total)
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise ReplayTimeout(f"{left} of {total} events still in flight after {timeout:.0f} s: "
                                "are the intake and routing workers running?")
        time.sleep(poll)


def count_outcomes(app: App, report: ReplayReport) -> None:
    """Fill claims / merged / quarantined / ignored (automatic replies) from what the inbox says
    became of this replay's events."""
    counts: dict[str, int] = {}
    ids = report.inbox_ids
    with app.sessions() as session:
        for i in range(0, len(ids), 1000):
            rows = session.execute(select(InboxEvent.status, func.count()).where(InboxEvent.id.in_(ids[i:i + 1000]))
                                   .group_by(InboxEvent.status))
            for status, n in rows:
                counts[status] = counts.get(status, 0) + n
    report.claims = counts.get("registered", 0)
    report.merged = counts.get("merged", 0)
    report.quarantined += counts.get("quarantined", 0)
    report.ignored = counts.get("ignored", 0)
