"""``qa verdict fit`` and ``qa verdict show``: the fitted "answered" verdict (verdict.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_options import QAGroup, option, require_build_extra


@click.group(cls=QAGroup)
def verdict() -> None:
    """Fit or inspect the model behind `confidence` and `answered`."""


@verdict.command("fit")
@click.argument("squad_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the model (JSON); serve it with QA_VERDICT_MODEL.")
@click.option("--folds", default=4, show_default=True, type=click.IntRange(3, None),
              help="Cross-validation folds, grouped by article (at least 3: an other-article question holds "
                   "out two articles).")
@click.option("--limit", default=None, type=int, help="At most this many questions per article (a quick fit).")
@click.option("--seed", default=20261128, show_default=True)
@option("model")
def fit(squad_files, out, folds, limit, seed, model):
    """Fit on SQuAD 2.0 files (each article its own corpus), judged on held-out articles."""
    require_build_extra("qa verdict fit")
    from .embedding import Embedder, ModelSpec
    from .fitting import collect, fit as fit_model
    from .questions import read_sets

    articles = [a for path in squad_files for a in read_sets(path) if a.text is not None]
    if len(articles) < folds:
        raise click.UsageError(f"{len(articles)} articles cannot be split into {folds} folds")
    rows = list(collect(articles, Embedder(ModelSpec.resolve(model), threads=1), seed=seed, limit=limit))
    fitted = fit_model(rows, folds=folds, seed=seed)
    fitted.report["fitted_on"] = [str(Path(p).name) for p in squad_files]
    Path(out).write_text(json.dumps(fitted.to_json(), indent=1) + "\n", encoding="utf-8")
    click.echo(f"wrote {out}: answered from confidence {fitted.answer_at:.4f}, "
               f"not found below {fitted.not_found_below:.4f}")
    _print_report(fitted.report)


@verdict.command("show")
@option("verdict_model")
def show(verdict_model):
    """The model in use: coefficients, operating points and its held-out report."""
    from .verdict import load_model

    fitted = load_model(verdict_model)
    for name, mean, std, coef in zip(fitted.features, fitted.mean, fitted.std, fitted.coef):
        click.echo(f"{name:22} coef {coef:+.4f}   mean {mean:.4f}   std {std:.4f}")
    click.echo(f"{'intercept':22} {fitted.intercept:+.4f}")
    click.echo(f"answered from confidence {fitted.answer_at:.4f}; not found below {fitted.not_found_below:.4f}")
    _print_report(fitted.report)


def _print_report(report: dict) -> None:
    if "by_kind" not in report:
        return
    click.echo(f"held out: {report['held_out']}; {report['rows']} questions; Brier {report['brier']}")
    for kind, figures in report["by_kind"].items():
        click.echo(f"  {kind:16} n {figures['n']:5}   answered {figures['answered']:.3f}   "
                   f"rejected {figures['rejected']:.3f}   not found {figures['not_found']:.3f}")
    click.echo("  reliability (predicted -> observed): " + ", ".join(
        f"{row['predicted']:.2f}->{row['observed']:.2f} (n {row['n']})" for row in report["reliability"]))
