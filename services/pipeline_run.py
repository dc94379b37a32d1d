"""A replay as the CLI runs it: on the embedded default the stages run in this process;
with a broker configured, the separately running workers do the work and this waits."""
from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.replay import ReplayReport, accept, count_outcomes, read_lines, wait_until_done
from services.runner import StageWorker
from services.stages import declare_actors
from shared.bootstrap import App

ALL_STAGES = ("intake", "routing", "outbox")


def _progress(enabled: bool) -> Progress:
    from rich.console import Console
    return Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def run_replay(app: App, path: Path, *, timeout: float = 600, progress: bool = False,
               lines=None) -> ReplayReport:
    declare_actors(app)
    runner = StageWorker(app, ALL_STAGES, threads=2).start() if app.settings.embedded else None
    report = ReplayReport()
    try:
        lines = list(lines if lines is not None else read_lines(path))
        with _progress(progress) as bar:
            accepting = bar.add_task("accepted", total=len(lines))
            accept(app, lines, report, on_chunk=lambda n: bar.advance(accepting, n))
            processing = bar.add_task("processed", total=len(report.inbox_ids))
            wait_until_done(app, report, timeout,
                            on_progress=lambda done, total: bar.update(processing, completed=done))
        count_outcomes(app, report)
    finally:
        if runner:
            runner.stop()
    return report
