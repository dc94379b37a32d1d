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
def routing_explain(text: str) -> None:
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
    decision = classify(text, policy)
    scores = score_categories(words_of(text), policy)
    click.echo(json.dumps({"category": decision.category, "department": decision.department,
                           "priority": decision.priority.value, "confidence": decision.confidence,
                           "evidence": list(decision.evidence),
                           "candidates": {c: {"score": s, "keywords": k} for c, (s, k) in
                                          sorted(scores.items(), key=lambda i: -i[1][0])}},
                          ensure_ascii=False, indent=2))


@routing.command("train", help="Train the category model from labelled JSON Lines FILEs ({\"text\", \"category\"} "
                               "or {\"subject\", \"description\", \"category\"} a line), e.g. a base set and the "
                               "output of `routing corrections`; prints rows per category and the cross-validated accuracy.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the model (default: the shipped routing_worker/data/category-model.joblib)")
@click.option("--folds", type=int, default=5, show_default=True, help="cross-validation folds")
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
