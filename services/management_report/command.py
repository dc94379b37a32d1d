"""``claimflow report --from DATE --to DATE --format html|csv|md [--out FILE]``: the management report
of the claims received in the period, to standard output or FILE, with its progress on standard error.
Mounted on the CLI with ``main.add_command(report)``; the rest of claimflow is imported when it runs."""
from __future__ import annotations

import sys
from pathlib import Path

import click


def build_report(app, start: str, end: str, fmt: str, progress=None) -> str:
    """The report document of the claims received from ``start`` to ``end`` (ISO dates or moments,
    read in the policy calendar's time zone), as of the app's clock."""
    from services.management_report.figures import report_figures
    from services.management_report.gather import gather
    from services.management_report.period import period_of
    from services.management_report.render import render
    period = period_of(start, end, app.policy.calendar.timezone)
    claims = gather(app, period, progress)
    report = report_figures(claims, app.policy, period, app.clock.now())
    plots = None
    if fmt == "html":
        from services.management_report.plots import draw_all
        plots = draw_all(report, progress)
    return render(report, fmt, plots)


@click.command("report", help="The management report of the claims received in a period: claims by channel, "
                              "category, department and outcome; deadline compliance per target and department "
                              "with the time attributed to each; time to decision and to closure (p50, p90); "
                              "satisfaction; top recurring causes with weekly trends; repeat customers. "
                              "HTML has the plots; CSV is one long table section,key,subkey,measure,value.")
@click.option("--from", "start", required=True, metavar="DATE",
              help="the first day (2026-09-01) or moment (2026-09-01T09:00+03:00) included; dates and moments "
                   "without an offset are in the business calendar's time zone")
@click.option("--to", "end", required=True, metavar="DATE", help="the last day included, or the moment it ends")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "md"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write it to this file (default: standard output)")
def report(start: str, end: str, fmt: str, out: Path | None) -> None:
    from services.management_report.gather import report_progress
    from services.management_report.period import BadPeriod
    from shared.bootstrap import bootstrap
    from shared.settings import Settings
    app = bootstrap(Settings())
    try:
        with report_progress() as progress:
            document = build_report(app, start, end, fmt, progress)
    except BadPeriod as e:
        click.echo(f"claimflow: {e}", err=True)
        sys.exit(2)
    finally:
        app.close()
    if out is None:
        click.echo(document, nl=False)
    else:
        out.write_text(document, encoding="utf-8")
        click.echo(f"report written to {out}", err=True)
