"""The report as a document: HTML (a Jinja2 template, the plots embedded as ``data:`` URIs), CSV or
Markdown, from the same tables.

CSV is one long ("tidy") table, ``section,key,subkey,measure,value``: a row for each number of each
table, ``section`` the table's name (``by_channel``, ``compliance``, ``trend_products``, …), ``key``
its first key column (a channel, a target, a week), ``subkey`` its second where it has one (the
department of a per-target table, the category of a product × category pair), ``measure`` the
column (``claims``, ``p90_hours``; in the weekly trends the category or product), ``value`` the
number. The ``report`` section holds the period and the moment the figures are as of; ``summary``
the headline numbers. Pivot it in a spreadsheet, or filter by section."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import jinja2

from services.management_report.figures import Report
from services.management_report.table import Table

#: the document's sections: a title and, in order, its plots ("plot", name), tables ("table", name), tables
#: shown side by side ("grid", names) and weekly trends ("trend", name: a plot in HTML, a table elsewhere)
SECTIONS = (
    ("Claims", (("plot", "volume"), ("grid", ("by_channel", "by_category", "by_department", "by_outcome",
                                              "by_status")))),
    ("Deadline compliance", (("plot", "compliance"), ("table", "compliance"), ("plot", "attributed_time"),
                             ("table", "attributed_time"), ("table", "escalations"))),
    ("Time to decision and to closure", (("plot", "durations"), ("table", "durations"))),
    ("Satisfaction", (("plot", "satisfaction"), ("table", "satisfaction"))),
    ("Top recurring causes", (("table", "top_categories"), ("trend", "trend_categories"),
                              ("table", "top_products"), ("trend", "trend_products"), ("table", "top_causes"))),
    ("Repeat customers", (("table", "repeat_customers"),)),
)
FORMATS = ("html", "csv", "md")


def cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", " ")
    return str(value)


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def heading(report: Report) -> dict:
    """The period's first and last day (or moment: ``to`` is then excluded) and the moment of the
    figures, in the report's time zone."""
    zone = report.period.timezone
    start, end = (m.astimezone(ZoneInfo(zone)) for m in (report.period.start, report.period.end))
    midnights = start.time() == end.time() == time(0)
    return {"from": start.date().isoformat() if midnights else _local(start, zone),
            "to": (end.date() - timedelta(days=1)).isoformat() if midnights else _local(end, zone),
            "as_of": _local(report.now, zone), "timezone": zone}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("services.management_report", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["cell"] = cell
    return env


def render_html(report: Report, plots: dict[str, str]) -> str:
    return _environment().get_template("report.html.j2").render(
        r=report, head=heading(report), sections=SECTIONS, plots=plots, tables=report.tables)


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "key", "subkey", "measure", "value"))
    for name, value in heading(report).items():
        writer.writerow(("report", name, "", "value", value))
    for label, value in report.summary:
        writer.writerow(("summary", label, "", "value", "" if value is None else value))
    for table in report.tables.values():
        for row in table.rows:
            keys = [*row[:len(table.keys)], ""][:2] if len(table.keys) < 2 else list(row[:2])
            for measure, value in zip(table.measures, row[len(table.keys):]):
                writer.writerow((table.name, *keys, measure, "" if value is None else value))
    return out.getvalue()


def _md_cell(value) -> str:
    return cell(value).replace("|", "\\|").replace("\n", " ")


def md_table(table: Table) -> list[str]:
    lines = [f"### {table.title}", ""]
    if not table.rows:
        return lines + ["_Nothing in this period._", ""]
    lines.append("| " + " | ".join(_md_cell(c.replace("_", " ")) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" if i < len(table.keys) else "---:" for i in range(len(table.columns))) + "|")
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    return lines + ([""] + [f"_{table.note}_"] if table.note else []) + [""]


def render_md(report: Report) -> str:
    head = heading(report)
    lines = ["# Claims management report", "",
             f"Claims received {head['from']} – {head['to']} ({head['timezone']}); figures as of "
             f"{head['as_of']}. "
             "The plots are in the HTML format.", ""]
    lines += [f"- **{label}**: {cell(value)}" for label, value in report.summary] + [""]
    for title, items in SECTIONS:
        lines += [f"## {title}", ""]
        for kind, name in items:
            for table_name in (name if kind == "grid" else (name,) if kind in ("table", "trend") else ()):
                lines += md_table(report.tables[table_name])
    return "\n".join(lines)


def render(report: Report, fmt: str, plots: dict[str, str] | None = None) -> str:
    if fmt == "html":
        return render_html(report, plots or {})
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        return render_md(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
