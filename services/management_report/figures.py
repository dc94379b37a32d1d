"""The report's figures from the claims of a period, pure (``now`` passed in): claims by channel,
category, department and outcome; deadline compliance per target and department and the time
attributed to each department; time to decision and to closure (p50, p90); satisfaction. The
recurring causes and repeat customers are in ``causes``. Every figure is a ``table.Table``."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.management_report.causes import cause_tables, repeat_customers
from services.management_report.facts import ClaimFacts, verdicts
from services.management_report.period import Period
from services.management_report.table import Table, share
from shared.policy import Policy

TARGETS = ("first_response", "decision", "closure")
VERDICTS = ("met", "missed", "open_overdue", "open")
ALL = "all"
HOUR = timedelta(hours=1)


@dataclass
class Report:
    period: Period
    now: datetime
    claims: int
    summary: list[tuple[str, object]] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, *tables: Table) -> None:
        for table in tables:
            self.tables[table.name] = table


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def counts(name: str, title: str, key: str, values: Iterable[str | None]) -> Table:
    found = Counter(v or "—" for v in values)
    total = sum(found.values())
    return Table(name, title, (key,), ("claims", "share_pct"),
                 [(k, n, share(n, total)) for k, n in found.most_common()])


def compliance(claims: Sequence[ClaimFacts], policy: Policy, now: datetime) -> tuple[Table, Table, Table]:
    """Verdicts per target and department, the time attributed to each department, escalations."""
    tally: dict[tuple[str, str], Counter] = defaultdict(Counter)
    held: dict[tuple[str, str], list] = defaultdict(lambda: [0, timedelta(0)])
    for claim in claims:
        for v in verdicts(claim, policy, now):
            for department in (ALL, v.department or "—"):
                tally[(v.target, department)][v.verdict] += 1
            for department, time in v.held.items():
                held[(v.target, department)][0] += 1
                held[(v.target, department)][1] += time
    order = {t: i for i, t in enumerate(TARGETS)}

    def ranked(keys):
        return sorted(keys, key=lambda k: (order.get(k[0], 9), k[1] != ALL, k[1]))

    rows = []
    for key in ranked(tally):
        c = tally[key]
        rows.append((*key, *(c[v] for v in VERDICTS), share(c["met"], c["met"] + c["missed"] + c["open_overdue"])))
    verdict_table = Table("compliance", "Deadline compliance per target and department", ("target", "department"),
                          (*VERDICTS, "on_time_pct"), rows,
                          "met: on time; missed: met late; open_overdue: not met and past due; open: not yet due. "
                          "A verdict counts for the department holding the claim when it was met on time, "
                          "else when it fell due; on_time_pct = met / (met + missed + open_overdue).")
    held_rows = [(*key, n, round(time / HOUR, 1), round(time / HOUR / n, 1))
                 for key, (n, time) in ((k, held[k]) for k in ranked(held))]
    held_table = Table("attributed_time", "Time attributed to each department", ("target", "department"),
                       ("claims", "hours", "mean_hours"), held_rows,
                       "The time a department held the claim until the target was met (or until now), counted "
                       "as the target counts (business hours of its calendar, or all hours), less waits for "
                       "the customer; a rerouted claim's time is split between its departments.")
    fired = Counter((t, level) for claim in claims for t, level, _ in claim.escalations)
    escalation_table = Table("escalations", "SLA warnings and escalations fired", ("target", "level"), ("claims",),
                             [(t, "warning" if level == 0 else f"level {level}", fired[(t, level)])
                              for t, level in sorted(fired, key=lambda k: (order.get(k[0], 9), k[1]))])
    return verdict_table, held_table, escalation_table


def durations(claims: Sequence[ClaimFacts]) -> Table:
    """Hours from receipt to decision and to closure, p50 and p90, overall and per department."""
    rows = []
    for measure, column in (("time_to_decision", "decided_at"), ("time_to_closure", "closed_at")):
        hours: dict[str, list[float]] = defaultdict(list)
        for claim in claims:
            if (done := getattr(claim, column)) is not None:
                value = (done - claim.received_at) / HOUR
                hours[ALL].append(value)
                hours[claim.department or "—"].append(value)
        for department in [ALL] + sorted(k for k in hours if k != ALL):
            found = hours[department]
            rows.append((measure, department, len(found), *(_round(percentile(found, q)) for q in (50, 90)),
                         _round(sum(found) / len(found)) if found else None))
    return Table("durations", "Time to decision and to closure (hours)", ("measure", "department"),
                 ("claims", "p50_hours", "p90_hours", "mean_hours"), rows,
                 "Calendar hours from receipt; only claims decided (or closed) appear; a department is the "
                 "one holding the claim now.")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def satisfaction(claims: Sequence[ClaimFacts]) -> tuple[Table, dict]:
    """The customers' latest answers: scores 1–5, replies without a score, no response."""
    answers = [c.answer for c in claims if c.answer]
    scores = [int(a["score"]) for a in answers if a.get("outcome") == "answered" and a.get("score") is not None]
    found = Counter(str(s) for s in scores)
    found["reply without a score"] = sum(1 for a in answers if a.get("outcome") == "answered" and a.get("score")
                                         is None)
    found["no response"] = sum(1 for a in answers if a.get("outcome") == "no_response")
    rows = [(k, found[k], share(found[k], len(answers))) for k in ("5", "4", "3", "2", "1",
                                                                     "reply without a score", "no response")
            if answers]
    answered = len(answers) - found["no response"]
    stats = {"mean": round(sum(scores) / len(scores), 2) if scores else None,
             "response_rate_pct": share(answered, len(answers)), "asked": len(answers)}
    note = (f"Mean score {stats['mean'] if scores else '—'} of {len(scores)} scored; response rate "
            f"{stats['response_rate_pct']} % of {len(answers)} claims answered or closed without an answer."
            if answers else "No claim of the period has been answered or closed without an answer yet.")
    return Table("satisfaction", "Customer satisfaction (latest answer per claim)", ("answer",),
                 ("claims", "share_pct"), rows, note), stats


def report_figures(claims: Sequence[ClaimFacts], policy: Policy, period: Period, now: datetime) -> Report:
    """Every figure of the report of ``claims`` (those received in ``period``) as of ``now``."""
    report = Report(period, now, len(claims))
    report.add(counts("by_channel", "Claims by channel", "channel", (c.channel for c in claims)),
               counts("by_category", "Claims by category", "category", (c.category for c in claims)),
               counts("by_department", "Claims by department", "department", (c.department for c in claims)),
               counts("by_outcome", "Claims by outcome (latest decision)", "outcome", (c.outcome for c in claims)),
               counts("by_status", "Claims by status now", "status", (c.status for c in claims)))
    verdict_table, held_table, escalation_table = compliance(claims, policy, now)
    sat_table, sat = satisfaction(claims)
    repeat_table, repeat = repeat_customers(claims)
    report.add(verdict_table, held_table, escalation_table, durations(claims), sat_table,
               *cause_tables(claims, period, now), repeat_table)
    overdue = sum(r[4] for r in verdict_table.rows if r[1] == ALL)
    decision = next((r for r in durations_rows(report) if r[0] == "time_to_decision" and r[1] == ALL), None)
    report.summary = [("claims", len(claims)),
                      ("closed", sum(1 for c in claims if c.closed_at is not None)),
                      ("decided", sum(1 for c in claims if c.decided_at is not None)),
                      ("deadlines overdue now", overdue),
                      ("p50 hours to decision", decision[3] if decision else None),
                      ("mean satisfaction (1–5)", sat["mean"]),
                      ("repeat customers", repeat["customers"]),
                      ("claims from repeat customers", repeat["claims"])]
    return report


def durations_rows(report: Report) -> list[tuple]:
    return report.tables["durations"].rows
