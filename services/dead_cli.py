"""``claimflow dead list|retry|drop``: the items a stage set aside after they failed on their own
(``shared.dead_list``), and what a person does about them once the cause is fixed."""
from __future__ import annotations

import json
import sys

import click

from services.cli_support import open_app as _app


@click.group(help="The dead list: items a stage (routing, sla, outbox) failed on even alone, set aside so that "
                  "the items behind them flow on.")
def dead() -> None:
    pass


@dead.command("list", help="One JSON line per dead item: stage, the claim's id, reason, traceback digest, attempts.")
@click.option("--stage", default=None, help="only this stage's items")
@click.option("--all", "everything", is_flag=True, help="also the retried and dropped ones")
def dead_list(stage: str | None, everything: bool) -> None:
    from shared.dead_list import listed
    app = _app()
    try:
        with app.sessions() as session:
            for row in listed(session, stage, everything):
                click.echo(json.dumps(row, ensure_ascii=False))
    finally:
        app.close()


def _resolve(ids: tuple[int, ...], status: str) -> None:
    from shared.dead_list import resolve
    app = _app()
    try:
        with app.sessions.begin() as session:
            outcomes = resolve(session, ids, status, app.clock.now())
        stages = {o["stage"] for o in outcomes if o["outcome"] == status}
        for stage in stages & set(app.actors):   # a retried item: wake its stage (the re-driver would too)
            app.actors[stage].send()
    finally:
        app.close()
    for outcome in outcomes:
        click.echo(json.dumps(outcome, ensure_ascii=False))
    if any(o["outcome"] != status for o in outcomes):
        sys.exit(1)


@dead.command("retry", help="Let the stage take these dead items again (after the cause was fixed); "
                            "one that fails again comes back with one more attempt.")
@click.argument("ids", nargs=-1, type=int, required=True)
def dead_retry(ids: tuple[int, ...]) -> None:
    _resolve(ids, "retried")


@dead.command("drop", help="Leave these dead items alone for good (they stay listed with --all).")
@click.argument("ids", nargs=-1, type=int, required=True)
def dead_drop(ids: tuple[int, ...]) -> None:
    _resolve(ids, "dropped")
