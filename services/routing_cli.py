"""``claimflow routing …``: which evidence chooses a claim's department, training the category
model, and the corrections reroutes taught it."""
from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import click

from services.cli_support import fail as _fail
from services.cli_support import open_app as _app
from shared.settings import Settings


@click.group(help="Routing: how claims are classified.")
def routing() -> None:
    pass


@routing.command("explain", help="Show which evidence chooses the category and department for TEXT "
                                 "(or for the claim whose number TEXT is).")
@click.argument("text")
@click.option("--model", "model_choice", default=None,
              help="none, bundled or a model's path (default CLAIMFLOW_ROUTING_MODEL)")
def routing_explain(text: str, model_choice: str | None) -> None:
    from routing_worker.classify import classify, score_categories
    from shared.claim_number import parse_claim_number
    from shared.db.models import Claim
    from shared.policy import load_policy, words_of
    settings = Settings()
    policy = load_policy(settings.policy_file)
    if parse_claim_number(text):
        app = _app(settings)
        try:
            with app.sessions() as session:
                claim = session.query(Claim).filter_by(claim_number=text.strip()).first()
                if claim is None:
                    _fail(f"no claim {text}")
                text = "\n".join(p for p in (claim.subject, claim.description) if p)
        finally:
            app.close()
    model = _model_of(model_choice, policy)
    decision = classify(text, policy, model=model)
    scores = score_categories(words_of(text), policy)
    explained = {"category": decision.category, "department": decision.department,
                 "priority": decision.priority.value, "confidence": decision.confidence,
                 "evidence": list(decision.evidence),
                 "candidates": {c: {"score": s, "keywords": k} for c, (s, k) in
                                sorted(scores.items(), key=lambda i: -i[1][0])}}
    if model is not None:
        ranked = model.predict(text)
        explained["model"] = {"probabilities": {c: round(p, 3) for c, p in ranked},
                              "weighed_most": model.load().weights(text, decision.category or ranked[0][0])
                              if ranked else {}}
    click.echo(json.dumps(explained, ensure_ascii=False, indent=2))


def _model_of(choice: str | None, policy):
    """The model ``--model`` names (none, bundled or a path); default: CLAIMFLOW_ROUTING_MODEL."""
    from routing_worker.model import CategoryModel, ModelError
    choice = (choice if choice is not None else Settings().routing_model).strip()
    if choice.lower() in ("", "none"):
        return None
    model = CategoryModel.for_policy(policy, None if choice.lower() == "bundled" else choice)
    try:
        model.load()
    except ModelError as e:
        _fail(str(e), 2)
    return model


@routing.command("evaluate", help="Route every claim of a labelled JSON Lines FILE ({\"text\" or \"subject\"/"
                                  "\"description\", \"category\", optional \"department\", \"channel\", \"source\", "
                                  "\"reason_codes\"}) and print department and category accuracy, the triage share "
                                  "and both confusion matrices.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_choice", default=None,
              help="none, bundled or a model's path (default CLAIMFLOW_ROUTING_MODEL)")
@click.option("--group-by", default="channel", show_default=True, help="a row field to break accuracy down by")
@click.option("--json", "as_json", is_flag=True, help="print the figures as one JSON object")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also draw both confusion matrices into this PNG")
@click.option("--mistakes", type=int, default=0, show_default=True, help="print this many misrouted claims")
def routing_evaluate(file: Path, model_choice: str | None, group_by: str, as_json: bool, plot: Path | None,
                     mistakes: int) -> None:
    from routing_worker.evaluation import evaluate
    from routing_worker.evaluation_report import draw, print_report
    from routing_worker.model import ModelError
    from routing_worker.training import read_rows
    from shared.policy import PolicyError, load_policy
    try:
        policy = load_policy(Settings().policy_file)
        rows = read_rows(file)
    except (ModelError, PolicyError) as e:
        _fail(str(e), 2)
    unknown = sorted({r["category"] for r in rows} - set(policy.categories))
    if unknown:
        _fail(f"{file}: categories the policy lacks: {', '.join(unknown)}", 2)
    model = _model_of(model_choice, policy)
    result = evaluate(rows, policy, model, group_by=group_by, keep_mistakes=max(mistakes, 0))
    if as_json:
        from routing_worker.evaluation import matrix
        figures = result.summary()
        for name, pairs in (("departments", result.departments), ("categories", result.categories)):
            truths, answers, counts = matrix(pairs)
            figures[f"{name}_confusion"] = {"truth": truths, "answer": answers, "counts": counts}
        figures["mistakes"] = result.mistakes
        click.echo(json.dumps(figures, ensure_ascii=False))
    else:
        print_report(result, title=f"{file.name}: {result.rows} claims, model {model_choice or Settings().routing_model}")
    if plot is not None:
        try:
            draw(result, plot)
        except OSError as e:
            _fail(f"cannot write {plot}: {e.strerror}", 2)


@routing.command("train", help="Train the category model from labelled JSON Lines FILEs ({\"text\", \"category\"} "
                               "or {\"subject\", \"description\", \"category\"} a line), e.g. a base set and the "
                               "output of `routing corrections`; prints rows per category and the cross-validated accuracy.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the model (default: the shipped routing_worker/data/category-model.joblib)")
@click.option("--folds", type=int, default=5, show_default=True, help="cross-validation folds (0: none, fit only)")
def routing_train(files: tuple[Path, ...], out: Path | None, folds: int) -> None:
    from routing_worker.training import main as train_main
    argv = [str(f) for f in files] + ["--folds", str(folds)] + (["--out", str(out)] if out else [])
    raise SystemExit(train_main(argv))


@routing.command("corrections", help="Write what reroutes taught: one labelled JSON line per claim whose category "
                                     "a department corrected ({\"text\", \"category\", \"was\", …}), for `routing train`.")
@click.option("--since", type=click.DateTime(), default=None, help="only reroutes from this moment on (UTC)")
def routing_corrections(since) -> None:
    from routing_worker.corrections import corrections
    app = _app()
    try:
        with app.sessions() as session:
            since_utc = since.replace(tzinfo=UTC) if since is not None else None
            for row in corrections(session, since_utc):
                click.echo(json.dumps(row, ensure_ascii=False))
    finally:
        app.close()
