"""The report's plots: matplotlib (the Agg backend, no display) draws from the figures' tables to PNG
bytes, embedded in the HTML as ``data:`` URIs. A plot with nothing to show is left out."""
from __future__ import annotations

import base64
import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

from services.management_report.facts import UNROUTED  # noqa: E402
from services.management_report.figures import ALL, TARGETS, Report  # noqa: E402
from services.management_report.table import Table  # noqa: E402

COLOURS = {"met": "#3a9a5b", "missed": "#e39b2d", "open_overdue": "#c8432f", "open": "#b8c2cf"}
PALETTE = ("#2d5b8a", "#e07b39", "#3a9a5b", "#8e5ba8", "#c8432f", "#6b7b8c")
LABEL = 38


def _short(text, width: int = LABEL) -> str:
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def _bars(ax, table: Table, title: str, colour: str = PALETTE[0], top: int = 10) -> None:
    rows = table.rows[:top][::-1]
    ax.barh([_short(r[0], 24) for r in rows], [r[1] for r in rows], color=colour)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)


def volume(report: Report) -> Figure | None:
    if not report.claims:
        return None
    fig = Figure(figsize=(10, 6.2))
    axes = fig.subplots(2, 2)
    for ax, (name, title), colour in zip(axes.flat, (("by_channel", "Channel"), ("by_category", "Category"),
                                                     ("by_department", "Department"), ("by_outcome", "Outcome")),
                                         PALETTE):
        _bars(ax, report.tables[name], title, colour)
    fig.tight_layout()
    return fig


def compliance(report: Report) -> Figure | None:
    rows = [r for r in report.tables["compliance"].rows if r[1] != ALL]
    if not rows:
        return None
    departments = sorted({r[1] for r in rows}, reverse=True)
    fig = Figure(figsize=(10, 0.8 + 0.32 * len(departments) * len(TARGETS)))
    axes = fig.subplots(len(TARGETS), 1, sharex=True)
    for ax, target in zip(axes, TARGETS):
        mine = {r[1]: r for r in rows if r[0] == target}
        left = [0] * len(departments)
        for index, verdict in enumerate(COLOURS, start=2):
            values = [mine[d][index] if d in mine else 0 for d in departments]
            ax.barh(departments, values, left=left, color=COLOURS[verdict], label=verdict.replace("_", " "))
            left = [a + b for a, b in zip(left, values)]
        ax.set_title(target.replace("_", " "), fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
    axes[0].legend(ncol=4, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1.0), frameon=False)
    axes[-1].set_xlabel("claims", fontsize=8)
    fig.tight_layout()
    return fig


def attributed(report: Report) -> Figure | None:
    rows = report.tables["attributed_time"].rows
    if not rows:
        return None
    fig = Figure(figsize=(10, 3.4))
    axes = fig.subplots(1, len(TARGETS))
    for ax, target, colour in zip(axes, TARGETS, PALETTE):
        mine = sorted((r for r in rows if r[0] == target and r[1] != UNROUTED), key=lambda r: r[3])
        ax.barh([_short(r[1], 20) for r in mine], [r[3] for r in mine], color=colour)
        if not any(r[3] for r in mine):
            ax.set_xlim(0, 1)
            ax.text(.5, .5, "no time counted yet", transform=ax.transAxes, ha="center", fontsize=8, color="#7a8494")
        ax.set_title(f"{target.replace('_', ' ')}: hours held by departments", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def durations(report: Report) -> Figure | None:
    rows = [r for r in report.tables["durations"].rows if r[2]]
    if not rows:
        return None
    fig = Figure(figsize=(10, 0.9 + 0.3 * len(rows)))
    ax = fig.subplots()
    labels = [f"{r[0].replace('_', ' ')} · {r[1]}" for r in rows][::-1]
    ax.barh(labels, [r[4] for r in rows][::-1], color="#b8c2cf", label="p90")
    ax.barh(labels, [r[3] for r in rows][::-1], color=PALETTE[0], label="p50")
    ax.set_xlabel("hours from receipt", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def satisfaction(report: Report) -> Figure | None:
    rows = report.tables["satisfaction"].rows
    if not any(r[1] for r in rows):
        return None
    fig = Figure(figsize=(6, 2.6))
    ax = fig.subplots()
    ax.bar([_short(r[0], 14) for r in rows], [r[1] for r in rows],
           color=["#3a9a5b", "#7fbf7f", "#e0c341", "#e39b2d", "#c8432f", "#8e9aab", "#b8c2cf"])
    ax.tick_params(labelsize=8)
    ax.set_ylabel("claims", fontsize=8)
    fig.tight_layout()
    return fig


def trend(name: str) -> Callable[[Report], Figure | None]:
    def draw(report: Report) -> Figure | None:
        table = report.tables[name]
        if not table.rows or not table.measures:
            return None
        fig = Figure(figsize=(10, 3.6))
        ax = fig.subplots()
        weeks = [r[0][5:] for r in table.rows]
        for index, (series, colour) in enumerate(zip(table.measures, PALETTE), start=1):
            ax.plot(weeks, [r[index] for r in table.rows], marker="o", color=colour, label=_short(series, 44))
        ax.set_ylabel("claims a week", fontsize=8)
        ax.set_xlabel("week beginning (month-day)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=.3)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.tight_layout()
        return fig
    return draw


PLOTS: dict[str, Callable[[Report], Figure | None]] = {
    "volume": volume, "compliance": compliance, "attributed_time": attributed, "durations": durations,
    "satisfaction": satisfaction, "trend_categories": trend("trend_categories"),
    "trend_products": trend("trend_products"),
}


def draw_all(report: Report, progress=None) -> dict[str, str]:
    """Every plot that has something to show, by name, as a ``data:image/png`` URI."""
    task = progress.add_task("drawing plots", total=len(PLOTS)) if progress else None
    out = {}
    for name, draw in PLOTS.items():
        fig = draw(report)
        if fig is not None:
            out[name] = data_uri(png(fig))
        if progress:
            progress.advance(task)
    return out
