"""The ``claimflow`` command line (``../shared/contracts/cli.md``)."""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

from services.cli_support import fail as _fail
from services.cli_support import open_app as _app
from services.closing.commands import CLAIMS_COMMANDS
from services.dead_cli import dead
from services.departments.commands import keys
from services.management_report.command import report
from services.notifications_cli import notifications
from services.routing_cli import routing
from services.sla_cli import sla
from shared.settings import Settings


@click.group(help="claimflow: a claims pipeline for retailers — intake, dedupe, routing, SLA, notifications.")
def main() -> None:
    pass


@main.command(help="Run the whole pipeline on the bundled sample events, on the embedded default.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path), default=Path("claimflow-demo.db"),
              show_default=True, help="the demo's SQLite file (recreated on each run)")
@click.option("--events", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="a JSON Lines file of channel events instead of the bundled ones")
def demo(database: Path, events: Path | None) -> None:
    from services.demo import run_demo
    run_demo(database, events)


@main.command(help="Feed a JSON Lines file of channel events through the configured pipeline and wait.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", type=float, default=600, show_default=True, help="seconds to wait for the workers")
def replay(file: Path, timeout: float) -> None:
    from services.pipeline_run import run_replay
    from services.replay import ReplayTimeout
    app = _app()
    try:
        report = run_replay(app, file, timeout=timeout, progress=True)
    except ReplayTimeout as e:
        _fail(str(e), 3)
    finally:
        app.close()
    click.echo(json.dumps(report.as_dict()))


@main.group(help="Claims.")
def claims() -> None:
    pass


@claims.command("export", help="Write every claim, one JSON object per line, to standard output.")
def claims_export() -> None:
    from services.export import export_claims
    _echo_lines(export_claims)


@claims.command("split", help="Move a wrongly merged event out of a claim into a new claim of its own.")
@click.argument("claim_number")
@click.argument("event_id")
@click.option("--reason", default=None, help="why: kept in both claims' history")
def claims_split(claim_number: str, event_id: str, reason: str | None) -> None:
    import getpass

    from intake_worker.channels import NormaliseContext
    from intake_worker.splitting import SplitRefused, split
    from services.stages import declare_actors
    app = _app()
    try:
        declare_actors(app)
        try:
            with app.sessions.begin() as session:
                number = split(session, claim_number, event_id, now=app.clock.now(),
                               context=NormaliseContext(app.settings.default_region),
                               max_bytes=app.settings.max_event_bytes, actor=f"cli:{getpass.getuser()}",
                               reason=reason)
        except SplitRefused as e:
            _fail(str(e))
        app.actors["routing"].send()
        if app.settings.embedded:
            _drain_in_process(app)
        click.echo(json.dumps({"claim_number": claim_number, "event_id": event_id, "new_claim_number": number}))
    finally:
        app.close()


@claims.command("reroute", help="Send a claim to another department's queue, with the reason in its history.")
@click.argument("claim_number")
@click.argument("department")
@click.option("--reason", required=True, help="why it goes there: kept in the claim's history")
@click.option("--category", default=None, help="the right category (default: the department's only one, "
                                                 "else unchanged); corrections feed `routing train`")
def claims_reroute(claim_number: str, department: str, reason: str, category: str | None) -> None:
    import getpass

    from services.departments import transitions
    from services.departments.keys import Principal
    from services.departments.service import Forbidden, NotFound, change_claim
    app = _app()
    operator = Principal(key_id=0, owner=f"cli:{getpass.getuser()}", department=None, is_admin=True)
    try:
        try:
            answer = change_claim(app, operator, claim_number, lambda c: transitions.reroute(
                c, department.strip(), reason, app.policy, category))
        except (NotFound, Forbidden):
            _fail(f"no claim {claim_number}")
        except (transitions.InvalidRequest, transitions.IllegalAction) as e:
            _fail(str(e))
    finally:
        app.close()
    click.echo(json.dumps({"claim_number": claim_number, "department": answer.get("department"),
                           "category": answer.get("category"), "status": answer.get("status")}, ensure_ascii=False))


def _drain_in_process(app) -> None:
    """On the embedded default nobody else runs the stages: run them here until their queues are empty."""
    from services.pipeline_run import ALL_STAGES
    from services.runner import StageWorker
    runner = StageWorker(app, ALL_STAGES, threads=1).start()
    try:
        for stage in ("intake", "routing"):
            app.broker.join(app.actors[stage].queue_name)
    finally:
        runner.stop()


@main.group(help="Quarantined events.")
def quarantine() -> None:
    pass


@quarantine.command("list", help="Write every quarantined event, one JSON object per line.")
def quarantine_list() -> None:
    from services.export import list_quarantine
    _echo_lines(list_quarantine)


@quarantine.command("retry", help="Run quarantined events again (after the policy or the code was fixed).")
@click.argument("record_ids", nargs=-1, type=int, required=True)
def quarantine_retry(record_ids: tuple[int, ...]) -> None:
    from intake_worker.quarantine import NotQuarantined, retry
    from services.stages import declare_actors
    app = _app()
    failed = False
    try:
        declare_actors(app)
        for record_id in record_ids:
            try:
                with app.sessions.begin() as session:
                    done = retry(session, record_id, app.clock.now(), app.settings.max_event_bytes)
            except NotQuarantined as e:
                click.echo(json.dumps({"id": record_id, "outcome": "not_found", "message": str(e)}))
                failed = True
                continue
            if done.outcome in ("pending", "accepted"):
                app.actors["intake"].send()
            click.echo(json.dumps({"id": record_id, "event_id": done.event_id, "outcome": done.outcome,
                                   "message": done.message}, ensure_ascii=False))
        if app.settings.embedded:
            _drain_in_process(app)
    finally:
        app.close()
    if failed:
        sys.exit(1)


def _echo_lines(source) -> None:
    app = _app()
    try:
        out = sys.stdout
        for record in source(app):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        app.close()


@main.command(help="Run one worker (intake, routing, sla, notify, department-updates) until stopped.")
@click.argument("name", type=click.Choice(["intake", "routing", "sla", "notify", "department-updates"]))
@click.option("--threads", type=int, default=None, help="worker threads (default CLAIMFLOW_WORKER_THREADS)")
@click.option("--metrics-port", type=int, default=None,
              help="port of /metrics (default CLAIMFLOW_METRICS_PORT, else 9401 intake, 9402 routing, 9403 sla, "
                   "9404 notify, 9405 department-updates; 0: off)")
def worker(name: str, threads: int | None, metrics_port: int | None) -> None:
    from services.runner import WORKERS, StageWorker
    from services.worker_process import run_until_signalled
    if name == "department-updates":
        _run_department_updates(9405 if metrics_port is None else metrics_port)
        return
    settings = Settings()
    if name == "sla":
        from sla_worker.worker import SlaWorker
        app = _app(settings)
        run_until_signalled(app, name, lambda: SlaWorker(app).start(), metrics_port)
        return
    if name == "notify":
        from notify_worker.worker import NotifyWorker
        app = _app(settings)
        run_until_signalled(app, name, lambda: NotifyWorker(app, threads).start(), metrics_port)
        return
    if settings.embedded:
        _fail("CLAIMFLOW_BROKER_URL is unset: a separate worker needs a shared broker (redis://… or amqp://…). "
              "On the embedded default, `claimflow replay` runs the workers in-process.", 2)
    app = _app(settings)
    run_until_signalled(app, name, lambda: StageWorker(app, WORKERS[name], threads).start(), metrics_port)


@main.command(help="Serve the HTTP intake gateway (events, web form, marketplace webhooks, claim status).")
@click.option("--host", default=None, help="default CLAIMFLOW_GATEWAY_HOST")
@click.option("--port", type=int, default=None, help="default CLAIMFLOW_GATEWAY_PORT")
def gateway(host: str | None, port: int | None) -> None:
    from services.gateway.server import serve
    serve(Settings(), host, port)


@main.group(help="The claims mailbox: e-mail over SMTP.")
def mail() -> None:
    pass


@mail.command("serve", help="Receive e-mail over SMTP: each message to a claims address becomes an event "
                            "of the email channel. Runs until SIGTERM.")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=int, default=8025, show_default=True, help="port to listen on")
@click.option("--address", "addresses", multiple=True,
              help="a recipient to accept; repeat for several (default claims@localhost); others get 550")
def mail_serve(host: str, port: int, addresses: tuple[str, ...]) -> None:
    from services.mailbox import serve
    serve(Settings(), host, port, addresses or None)


def _run_department_updates(metrics_port: int = 0) -> None:
    """Department systems that talk through the broker: their updates, as over the HTTP API."""
    from services.department_updates import DEFAULT_QUEUE, DepartmentUpdates
    from shared.observability.worker_metrics import serve_worker_metrics
    app = _app(Settings())
    if metrics_port:
        serve_worker_metrics(app, metrics_port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        DepartmentUpdates(app, DEFAULT_QUEUE).run(stop)
    finally:
        app.close()


@main.group(help="The database.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply the database migrations (the embedded default does this itself).")
def db_upgrade() -> None:
    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is up to date", err=True)


main.add_command(keys)
main.add_command(routing)
main.add_command(report)
main.add_command(notifications)
main.add_command(sla)
main.add_command(dead)
for _command in CLAIMS_COMMANDS:      # claims report | close-unanswered | archive
    claims.add_command(_command)


if __name__ == "__main__":
    main()
