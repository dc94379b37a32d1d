"""An Evaluation as people read it: rich tables on the terminal, and the two confusion matrices
as a PNG (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path

from routing_worker.evaluation import Evaluation, matrix


def _confusion_table(title: str, pairs):
    from rich.table import Table
    truths, answers, counts = matrix(pairs)
    table = Table(title=title + " (rows: the truth, columns: routing's answer)")
    table.add_column("truth")
    for answer in answers:
        table.add_column(answer, justify="right")
    for truth, row in zip(truths, counts):
        table.add_row(truth, *[(f"[bold]{n}[/bold]" if a == truth else (str(n) if n else "·"))
                               for a, n in zip(answers, row)])
    return table


def print_report(result: Evaluation, title: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    if console is None:
        console = Console()
        if not console.is_terminal:         # a file or a pipe: wide enough for both matrices
            console = Console(width=200)
    console.print(f"[bold]{title}[/bold]")
    console.print(f"department accuracy [bold]{result.department_accuracy:.4f}[/bold] · category accuracy "
                  f"[bold]{result.category_accuracy:.4f}[/bold] · triage {result.triaged} "
                  f"({result.triage_share:.1%}) · calibration error {result.calibration_error:.3f}")
    groups = Table(title="department accuracy by group")
    groups.add_column("group")
    groups.add_column("claims", justify="right")
    groups.add_column("department accuracy", justify="right")
    for name, counts in sorted(result.by_group.items()):
        groups.add_row(name, str(counts["rows"]), f"{counts['right'] / counts['rows']:.3f}")
    console.print(groups)
    console.print(_confusion_table("Departments", result.departments))
    console.print(_confusion_table("Categories", result.categories))
    for mistake in result.mistakes:
        console.print(f"[red]{mistake['truth']} → {mistake['answer']}[/red] ({mistake['confidence']:.2f}) "
                      f"{mistake['text']!r}", highlight=False, soft_wrap=True)


def draw(result: Evaluation, path: Path) -> None:
    """Both confusion matrices, side by side, each row as shares of its truth."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    figure, axes = plt.subplots(1, 2, figsize=(16, 7))
    for axis, (name, pairs) in zip(axes, (("departments", result.departments), ("categories", result.categories))):
        truths, answers, counts = matrix(pairs)
        counts = np.array(counts, dtype=float)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        axis.set_xticks(range(len(answers)), answers, rotation=45, ha="right")
        axis.set_yticks(range(len(truths)), truths)
        axis.set_xlabel("routing's answer")
        axis.set_ylabel("truth")
        for i in range(len(truths)):
            for j in range(len(answers)):
                if counts[i, j]:
                    axis.text(j, i, int(counts[i, j]), ha="center", va="center",
                              color="white" if shares[i, j] > 0.5 else "black", fontsize=8)
        accuracy = result.department_accuracy if name == "departments" else result.category_accuracy
        axis.set_title(f"{name}: accuracy {accuracy:.3f}")
    figure.suptitle(f"{result.rows} claims · triage {result.triage_share:.1%}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
