"""``claimflow sla …``: the SLA sweep on a chosen clock, a simulation over a span of time with a
breach table, and re-timing open claims after a policy change."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from services.cli_support import open_app as _app


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 moment (e.g. 2026-11-23T09:00+03:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _step(value: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)
    if not match:
        raise click.BadParameter(f"{value!r} is not a step such as 30m, 1h or 1d")
    amount, unit = float(match[1]), match[2]
    step = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    if step < timedelta(seconds=1):
        raise click.BadParameter(f"{value!r} is too short a step: at least 1s")
    return step


def _policy(path: Path | None):
    """The policy file an option names, or a usage error saying what is wrong with it."""
    from shared.policy import PolicyError, load_policy
    if path is None:
        return None
    try:
        return load_policy(path)
    except PolicyError as e:
        raise click.BadParameter(str(e)) from None


@click.group(help="SLA deadlines: sweep, simulate, re-time after a policy change.")
def sla() -> None:
    pass


@sla.command("sweep", help="Fire every warning and escalation due at --now (default: the present), as the SLA "
                           "worker does, and print each one fired as a JSON line.")
@click.option("--now", "now", default=None, help="the moment to sweep at, ISO 8601 (naive: UTC)")
def sla_sweep(now: str | None) -> None:
    from sla_worker.worker import sweep_once
    app = _app()
    at = _moment(now) if now else app.clock.now()
    total = 0
    try:
        while True:
            result = sweep_once(app, now=at, worker="cli:sweep")
            for fired in result.fired:
                click.echo(json.dumps({**fired, "due_at": fired["due_at"].isoformat()}, ensure_ascii=False))
            total += len(result.fired)
            if result.taken < app.settings.sla_batch_size:
                break
    finally:
        app.close()
    click.echo(json.dumps({"now": at.isoformat(), "fired": total}), err=True)


@sla.command("simulate", help="Run the sweep from --from to --to every --step on a simulated clock (nothing is "
                              "fired for real) and print a breach table by department and target.")
@click.option("--from", "start", required=True, help="first moment, ISO 8601")
@click.option("--to", "end", required=True, help="last moment, ISO 8601")
@click.option("--step", default="1h", show_default=True, help="time between sweeps: 30m, 1h, 1d…")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="a policy file to try instead of the configured one")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sla_simulate(start: str, end: str, step: str, policy_file: Path | None, fmt: str) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from sla_worker.simulation import LEVEL_NAMES, breach_table, simulate
    first, last, every = _moment(start), _moment(end), _step(step)
    if last < first:
        raise click.BadParameter("--to is before --from")
    app = _app()
    policy = _policy(policy_file)
    steps = int((last - first) / every) + 1
    try:
        with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} sweeps"),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("sweeps", total=steps)
            fired = simulate(app, first, last, every, policy, on_step=lambda _: progress.advance(task))
    finally:
        app.close()
    rows = breach_table(fired)
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"SLA from {first.isoformat()} to {last.isoformat()}, every {step}: "
                        f"{sum(r['level 1'] for r in rows)} breaches")
    for name in ("department", "target", *LEVEL_NAMES.values()):
        table.add_column(name, justify="left" if name in ("department", "target") else "right")
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("department", "target", *LEVEL_NAMES.values())))
    Console().print(table)


@sla.command("retime", help="Recompute the deadlines of open claims under the configured policy: only those whose "
                            "targets differ from --previous-policy (all open claims without it).")
@click.option("--previous-policy", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def sla_retime(previous_policy: Path | None) -> None:
    from sla_worker.policy_change import retime_affected
    app = _app()
    try:
        before = _policy(previous_policy)
        with app.sessions.begin() as session:
            count = retime_affected(session, before, app.policy, app.clock.now())
    finally:
        app.close()
    click.echo(json.dumps({"retimed": count}))
