"""A figure of the report: a titled table whose leading ``keys`` columns say what a row is about and
whose ``measures`` are the numbers (or short texts). Renderers and plots read only these."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str                       # the section's name in CSV, and what the plots look up
    title: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    rows: list[tuple]
    note: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.measures


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, one decimal; None of nothing."""
    return round(100 * part / whole, 1) if whole else None
