"""``claimflow notifications failed`` and ``claimflow notifications retry ID…``: the dead-letter list
of notices and sending them again. Neither prints an address (personal data)."""
from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select, update

from shared.db.models import Notification
from shared.settings import Settings


def _iso(value):
    return value.isoformat() if value is not None else None


def dead_letters(session) -> list[dict]:
    rows = session.scalars(select(Notification).where(Notification.status == "dead").order_by(Notification.id))
    return [{"id": n.id, "claim_number": n.claim_number, "kind": n.kind, "recipient": n.recipient,
             "channel": n.channel, "attempts": n.attempts, "error": n.last_error,
             "idempotency_key": n.idempotency_key, "created_at": _iso(n.created_at)} for n in rows]


def resend(session, notification_id: int, now) -> str:
    """Make a dead notice due again with a fresh count of tries: resent, or not_found / not_failed."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        return "not_found"
    if row.status != "dead":
        return "not_failed"
    session.execute(update(Notification).where(Notification.id == notification_id)
                    .values(status="pending", attempts=0, next_attempt_at=now))
    return "resent"


@click.group(help="Notifications to customers and staff.")
def notifications() -> None:
    pass


@notifications.command("failed", help="List the notices that ran out of tries (the dead-letter list), "
                                      "one JSON object per line.")
def failed() -> None:
    from shared.bootstrap import bootstrap
    app = bootstrap(Settings())
    try:
        with app.sessions() as session:
            for record in dead_letters(session):
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        app.close()


@notifications.command("retry", help="Send failed notices again (the notify worker picks them up); one JSON "
                                     "line per id: resent, not_found or not_failed.")
@click.argument("ids", nargs=-1, type=int, required=True)
def retry(ids: tuple[int, ...]) -> None:
    from shared.bootstrap import bootstrap
    app = bootstrap(Settings())
    bad = False
    try:
        for notification_id in ids:
            with app.sessions.begin() as session:
                outcome = resend(session, notification_id, app.clock.now())
            bad |= outcome != "resent"
            click.echo(json.dumps({"id": notification_id, "outcome": outcome}))
    finally:
        app.close()
    if bad:
        sys.exit(1)
