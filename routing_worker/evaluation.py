"""How well routing does on a labelled file: department and category accuracy, the share sent to
triage, and both confusion matrices. Pure over rows; ``claimflow routing evaluate FILE`` prints it.

A row is ``{"text" (or "subject"/"description"), "category", "department"?, "source"?,
"reason_codes"?}``; the true department is the row's own, else the policy's for its category.
A claim sent to triage counts as wrong for both accuracies: a person had to read it."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from routing_worker.classify import classify
from routing_worker.model import BatchPredictions
from routing_worker.training import text_of
from shared.policy import Policy

TRIAGE = "triage"       # the column of claims that waited for a person


@dataclass
class Evaluation:
    rows: int = 0
    department_right: int = 0
    category_right: int = 0
    triaged: int = 0
    departments: Counter = field(default_factory=Counter)   # (truth, answer) → claims
    categories: Counter = field(default_factory=Counter)
    by_group: dict[str, Counter] = field(default_factory=dict)   # e.g. channel → right / rows
    mistakes: list[dict] = field(default_factory=list)
    confidences: list[tuple[float, bool]] = field(default_factory=list)   # (confidence, right) of each answer

    @property
    def calibration_error(self) -> float:
        """Expected calibration error over ten bins of confidence: how far the stated confidence
        is from the share of answers that were right, weighted by the answers in each bin."""
        bins: dict[int, list[tuple[float, bool]]] = {}
        for confidence, right in self.confidences:
            bins.setdefault(min(int(confidence * 10), 9), []).append((confidence, right))
        total = len(self.confidences)
        return sum(abs(sum(c for c, _ in b) / len(b) - sum(r for _, r in b) / len(b)) * len(b) / total
                   for b in bins.values()) if total else 0.0

    @property
    def department_accuracy(self) -> float:
        return self.department_right / self.rows if self.rows else 0.0

    @property
    def category_accuracy(self) -> float:
        return self.category_right / self.rows if self.rows else 0.0

    @property
    def triage_share(self) -> float:
        return self.triaged / self.rows if self.rows else 0.0

    def summary(self) -> dict:
        return {"rows": self.rows, "department_accuracy": round(self.department_accuracy, 4),
                "category_accuracy": round(self.category_accuracy, 4), "triage_share": round(self.triage_share, 4),
                "calibration_error": round(self.calibration_error, 4),
                "by_group": {g: {"rows": c["rows"], "department_accuracy": round(c["right"] / c["rows"], 4)}
                             for g, c in sorted(self.by_group.items())}}


def _marketplace(row: dict) -> str | None:
    source = row.get("marketplace") or row.get("source")
    return str(source) if source else None


def evaluate(rows, policy: Policy, model=None, group_by: str = "channel", keep_mistakes: int = 50) -> Evaluation:
    """Classifies every row as routing would and counts what it got right."""
    result = Evaluation()
    rows = list(rows)
    if model is not None:
        model = BatchPredictions(model, [text_of(r) for r in rows])
    for row in rows:
        truth = str(row["category"])
        truth_department = row.get("department") or policy.department_of(truth)
        decision = classify(text_of(row), policy, marketplace=_marketplace(row),
                            reason_codes=tuple(row.get("reason_codes") or ()), model=model)
        triaged = decision.category is None
        answer_department = TRIAGE if triaged else decision.department
        answer_category = TRIAGE if triaged else decision.category
        result.rows += 1
        result.triaged += triaged
        result.department_right += answer_department == truth_department
        result.category_right += answer_category == truth
        result.departments[(truth_department, answer_department)] += 1
        result.categories[(truth, answer_category)] += 1
        if not triaged:
            result.confidences.append((decision.confidence, answer_category == truth))
        group = result.by_group.setdefault(str(row.get(group_by) or "—"), Counter())
        group["rows"] += 1
        group["right"] += answer_department == truth_department
        if answer_category != truth and len(result.mistakes) < keep_mistakes:
            result.mistakes.append({"text": text_of(row)[:300], "truth": truth, "answer": answer_category,
                                    "confidence": decision.confidence, "evidence": list(decision.evidence[:4])})
    return result


def matrix(pairs: Counter) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows (the truth), columns (the answers, triage last) and counts of a confusion Counter."""
    truths = sorted({t for t, _ in pairs})
    answers = sorted({a for _, a in pairs if a != TRIAGE} | set(truths)) + [TRIAGE]
    return truths, answers, [[pairs.get((t, a), 0) for a in answers] for t in truths]
