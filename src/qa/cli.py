"""The ``qa`` command line: a thin click adapter over the same functions the API uses.

Option defaults, environment variables and help come from settings.py. Heavy imports
(torch, sentence-transformers, faiss) happen inside the commands that need them, so
``qa --help`` and ``qa index info`` answer at once.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import click

from . import settings
from .cli_index import index
from .cli_options import QAGroup, json_option, milvus_options, milvus_store, option, require_build_extra, require_milvus_extra
from .cli_verdict import verdict


@click.group(cls=QAGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa", prog_name="qa")
def main() -> None:
    """Ask questions of the articles in a corpus; every answer cites exact character offsets."""


main.add_command(index)
main.add_command(verdict)


@main.command("ask")
@click.argument("question")
@option("k", "-k", "--k", type=click.IntRange(1, settings.default("max_k")))
@option("mode", type=click.Choice(settings.MODES))
@option("index", type=click.Path(file_okay=False))
@option("model")
@click.option("--doc", "doc_ids", multiple=True, help="Only this document (repeatable); ids: `qa index info`.")
@json_option("Print the API's JSON.")
@milvus_options
def ask(question, k, mode, index, model, doc_ids, as_json, milvus, milvus_token, milvus_alias):
    """Ask one question (QUESTION "-" reads it from standard input); print the best passages
    with their citations.

    The first line is the verdict and the confidence: the calibrated probability that the
    first passage answers. "answered" starts low (`qa verdict show`), where 97 % of the
    answerable questions of held-out articles pass, so that a question whose answer is on
    screen is seldom flagged unanswered.

    Exit status: 0 when the corpus answers (the verdict is "answered"), 1 when it does not,
    2 on an error."""
    from .schemas import parse_ask
    from .service import QAService

    if question == "-":
        question = sys.stdin.read().strip()
    request = parse_ask({"question": question, "k": k, "mode": mode, **({"doc_id": list(doc_ids)} if doc_ids else {})})
    service = QAService(index, model=model, cache_size=0, threads=os.cpu_count(),
                        milvus=milvus_store(milvus, milvus_token, milvus_alias)).load(strict=True)
    answer = service.ask(request)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_answer(answer)
    sys.exit(0 if answer.answered else 1)


_VERDICTS = {"answered": ("answered", "green"), "uncertain": ("these passages may not answer the question", "yellow"),
             "not_found": ("not found in the corpus; the closest passages are weak matches", "red")}


def _print_answer(answer) -> None:
    label, color = _VERDICTS[answer.verdict]
    searched = f" (searched for: {answer.corrected})" if answer.corrected else ""
    click.echo(click.style(f"{label}, confidence {answer.confidence:.2f}", fg=color) + searched)
    if answer.document_fact is not None:
        from .facts import FACT_LABELS

        fact = answer.document_fact
        click.echo(click.style(f"{FACT_LABELS[fact.field]} {fact.value}", bold=True) +
                   f"  (from the metadata of {fact.title})")
    if not answer.passages:
        click.echo("no passages")
    underline = sys.stdout.isatty()
    for passage in answer.passages:
        c = passage.citation
        section = f" › {c.section}" if c.section else ""
        click.echo(click.style(f"{passage.rank}. {c.title}{section}", bold=True) +
                   f" — ¶{c.paragraph}, chars {c.start}–{c.end}  (score {passage.score:.3f})")
        text = passage.text
        if passage.highlight and underline:
            a, b = passage.highlight
            text = text[:a] + click.style(text[a:b], bold=True, underline=True) + text[b:]
        click.echo(textwrap.indent(text, "   "))
        click.echo("")


@main.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@click.option("--corpus", "corpus_dir", default=None, type=click.Path(file_okay=False),
              help="Index this corpus in a temporary folder instead of using --index.")
@option("index", type=click.Path(file_okay=False))
@option("model")
@option("k", "-k", "--k", type=click.IntRange(1, settings.default("max_k")))
@option("mode", type=click.Choice(settings.MODES))
@click.option("--together", is_flag=True,
              help="SQuAD JSON: index all its articles as one corpus (each question must find its own article) "
                   "instead of one corpus per article.")
@json_option("Print the report as JSON.")
@milvus_options
def evaluate(questions, corpus_dir, index, model, k, mode, together, as_json, milvus, milvus_token, milvus_alias):
    """Score a question set (JSONL with question/evidence, or SQuAD JSON): hit@1/3/5, MRR, length."""
    require_build_extra("qa eval")
    from .embedding import Embedder, ModelSpec
    from .evaluation import evaluate as run, format_report

    report = run(questions, index_dir=None if corpus_dir else index, corpus_dir=corpus_dir,
                 embedder=Embedder(ModelSpec.resolve(model)), k=k, mode=mode,
                 milvus=milvus_store(milvus, milvus_token, milvus_alias), together=together)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else format_report(report))


@main.command("serve")
@option("index", type=click.Path(file_okay=False))
@option("model")
@option("host")
@option("port", type=click.IntRange(1, 65535))
@option("workers", type=click.IntRange(min=1))
@option("threads", type=click.IntRange(min=1))
@option("connections", type=click.IntRange(1, 256))
@option("behind_proxy", is_flag=True)
@option("page_title")
@click.option("--examples", default=None, envvar="QA_EXAMPLES", show_envvar=True,
              help=settings.setting("examples").help)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@milvus_options
def serve(index, model, host, port, workers, threads, connections, behind_proxy, page_title, examples, dev, milvus,
          milvus_token, milvus_alias):
    """Serve the page and the JSON API."""
    from .serving import serve as run

    settings.check_environment()  # a typo in QA_RATE_LIMIT stops here, not in every worker (or silently)
    if milvus:
        require_milvus_extra()  # the store itself is made by the app factory, in each worker
    page = {"QA_PAGE_TITLE": page_title, "QA_EXAMPLES": settings.setting("examples").parse(examples or ""),
            "QA_MILVUS": milvus, "QA_MILVUS_TOKEN": milvus_token, "QA_MILVUS_ALIAS": milvus_alias}
    run(index_dir=index, model=model, host=host, port=port, workers=workers, threads=threads,
        connections=connections, behind_proxy=behind_proxy, page=page, dev=dev)


@main.command("settings")
@click.option("--markdown", is_flag=True, help="The README's table.")
def show_settings(markdown):
    """Every setting with its default and environment variable."""
    if markdown:
        click.echo(settings.markdown_table())
        return
    for s in settings.SETTINGS:
        click.echo(f"{s.name:22} {s.default!s:12} {s.env or '':20} {s.help}")


if __name__ == "__main__":  # pragma: no cover
    main()
