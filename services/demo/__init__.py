"""``claimflow demo``: the whole pipeline on the bundled sample events, on the embedded default,
with a progress bar and a summary a person reads."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from services.pipeline_run import run_replay
from shared.bootstrap import bootstrap
from shared.db.models import Claim, ClaimEvent, QuarantinedEvent
from shared.settings import Settings


def bundled_events() -> Path:
    return Path(str(resources.files("services.demo").joinpath("sample-events.jsonl")))


def _table(title: str, counts: Counter, first: str, unit: str = "claims") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    table.add_column(unit, justify="right")
    for key, n in counts.most_common():
        table.add_row(str(key), str(n))
    return table


def run_demo(database: Path, events: Path | None = None) -> None:
    console = Console(stderr=False, soft_wrap=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    settings = Settings(database_url=url, broker_url=None, department_queue_url=None, log_level="WARNING")
    app = bootstrap(settings)
    events = events or bundled_events()
    console.print(f"[bold]claimflow demo[/]: {events.name} through intake and routing, "
                  f"on the embedded default ({database})")
    try:
        report = run_replay(app, events, progress=True)
        summarise(app, console, report)
    finally:
        app.close()
    console.print(f"\nThe claims and the department queues are in {database}. Look at them with:\n"
                  f"  CLAIMFLOW_DATABASE_URL={url} claimflow claims export\n"
                  f"  CLAIMFLOW_DATABASE_URL={url} claimflow quarantine list\n"
                  f"  python examples/department_consumer.py sqla+{url} claims.quality")


def summarise(app, console: Console, report) -> None:
    now = app.clock.now()
    with app.sessions() as s:
        by_dept = Counter(dict(s.execute(select(Claim.department, func.count()).group_by(Claim.department)).all()))
        by_channel = Counter(dict(s.execute(select(ClaimEvent.channel, func.count(func.distinct(ClaimEvent.claim_id)))
                                            .group_by(ClaimEvent.channel)).all()))
        reasons = Counter(dict(s.execute(select(QuarantinedEvent.reason, func.count())
                                         .group_by(QuarantinedEvent.reason)).all()))
        due = s.execute(select(Claim.first_response_due, Claim.priority)).all()
    sla = Counter()
    for first_response, priority in due:
        if first_response is None:
            sla["not routed"] += 1
        elif first_response < now:
            sla["first response overdue"] += 1
        elif first_response < now + timedelta(hours=24):
            sla["first response due within 24 h"] += 1
        else:
            sla["on time"] += 1
        if priority == "high":
            sla["high priority"] += 1
    console.print(f"\n[bold]{report.events}[/] events: [green]{report.claims} claims registered[/], "
                  f"{report.merged} merged into earlier claims, {report.redeliveries} redeliveries ignored, "
                  f"[yellow]{report.quarantined} quarantined[/]\n")
    console.print(_table("Claims by channel", by_channel, "channel"))
    console.print(_table("Claims by department", by_dept, "department"))
    console.print(_table("Quarantined by reason", reasons, "reason", "events"))
    console.print(_table(f"SLA state at {now:%Y-%m-%d %H:%M} UTC", sla, "state"))
