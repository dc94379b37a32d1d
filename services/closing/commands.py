"""``claimflow claims report|close-unanswered|archive``: mounted on the CLI's ``claims`` group
(``for command in CLAIMS_COMMANDS: claims.add_command(command)``); they import the rest of claimflow
only when they run. The sweeps are cron-friendly: one JSON line of what they did, ``--now`` for tests."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from services.cli_support import fail as _fail


def _app(now: datetime | None = None):
    from shared.bootstrap import bootstrap
    from shared.clock import FrozenClock
    from shared.settings import Settings
    return bootstrap(Settings(), clock=FrozenClock(now) if now else None)


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time like 2026-12-01T09:00:00+03:00") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


NOW = click.option("--now", "now", default=None, help="act as if it were this moment (ISO 8601; default: now)")


@click.command("report", help="Write the closing report of CLAIM_NUMBER (HTML, or PDF) to standard output or FILE.")
@click.argument("claim_number")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="write it to this file")
def claims_report(claim_number: str, fmt: str, out: Path | None) -> None:
    from services.closing.fetch import report_document
    from services.closing.report import NoReport, PdfUnavailable
    from services.departments.service import NotFound
    app = _app()
    try:
        try:
            body, _ = report_document(app, claim_number, fmt)
        except NotFound:
            _fail(f"no claim {claim_number}")
        except NoReport as e:
            _fail(str(e))
        except PdfUnavailable as e:
            _fail(str(e), 2)
    finally:
        app.close()
    if out is not None:
        out.write_bytes(body)
        click.echo(json.dumps({"claim_number": claim_number, "format": fmt, "file": str(out), "bytes": len(body)}))
    elif fmt == "pdf" and sys.stdout.isatty():
        _fail("a PDF is not for the terminal: give --out FILE or redirect the output", 2)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()


@click.command("close-unanswered", help="Take customers' replies as their answers, and close executed or rejected "
                                        "claims that had no answer within the policy's closing.answer_days.")
@NOW
def claims_close_unanswered(now: str | None) -> None:
    from services.closing.closing import close_unanswered, closing_policy, publish_after_commit, survey_links
    app = _app(_moment(now))
    try:
        moment = app.clock.now()
        with app.sessions.begin() as session:
            done = close_unanswered(session, moment, closing_policy(app), links=survey_links(app),
                                    timezone=app.policy.calendar.timezone)
        publish_after_commit(app, None)
    finally:
        app.close()
    click.echo(json.dumps({"closed": sum("closed" in o.actions for o in done),
                           "reopened": sum("reopened" in o.actions for o in done),
                           "claims": {o.claim_number: o.status for o in done}}))


@click.command("archive", help="Move claims closed for longer than the policy's closing.retention_days to the "
                               "archive (read-only; still exported).")
@NOW
def claims_archive(now: str | None) -> None:
    from services.closing.closing import archive_due, closing_policy
    app = _app(_moment(now))
    done = []
    try:
        while True:         # in batches, each its own transaction
            with app.sessions.begin() as session:
                batch = archive_due(session, app.clock.now(), closing_policy(app).retention)
            done += batch
            if not batch:
                break
    finally:
        app.close()
    click.echo(json.dumps({"archived": len(done), "claims": [o.claim_number for o in done]}))


CLAIMS_COMMANDS = (claims_report, claims_close_unanswered, claims_archive)
