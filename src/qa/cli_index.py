"""``qa index build`` and ``qa index info``: the offline side."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from . import settings
from .cli_options import QAGroup, json_option, milvus_options, milvus_store, option, require_build_extra
from .errors import QAError


@click.group(cls=QAGroup)
def index() -> None:
    """Build or inspect the search index (offline)."""


@index.command("build")
@option("corpus", type=click.Path(file_okay=False))
@option("index", type=click.Path(file_okay=False))
@option("model")
@option("max_chars")
@option("max_tokens")
@option("context_before")
@option("boilerplate_repeats")
@option("max_file_bytes")
@option("ann_threshold")
@click.option("--if-stale", is_flag=True, help="Do nothing when the index is up to date with the corpus.")
@click.option("--onnx/--no-onnx", default=True, show_default=True,
              help="Export and verify the ONNX question encoder the server answers with (torch otherwise).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@milvus_options
def index_build(corpus, index, model, max_chars, max_tokens, context_before, boilerplate_repeats, max_file_bytes,
                ann_threshold, if_stale, onnx, quiet, milvus, milvus_token, milvus_alias):
    """Chunk and embed the corpus into a new index version, switched in atomically."""
    require_build_extra("qa index build")
    store = milvus_store(milvus, milvus_token, milvus_alias)
    from .chunking import ChunkingParams
    from .embedding import ModelSpec

    params = ChunkingParams(max_chars=max_chars, max_tokens=max_tokens, context_before=context_before,
                            boilerplate_min_repeats=boilerplate_repeats)
    spec = ModelSpec.resolve(model)
    if if_stale and _up_to_date(index, corpus, params, spec.model_id, quiet, store):
        return
    from .corpus import load_corpus
    from .embedding import Embedder, TokenCounter
    from .index.build import build_index

    loaded = load_corpus(corpus, max_file_bytes=max_file_bytes)
    for warning in loaded.warnings:
        click.echo(f"qa: warning: {warning}", err=True)
    if store is not None:
        from .milvus.build import build_milvus

        facts = build_milvus(loaded, corpus, store, Embedder(spec), params, count_tokens=TokenCounter(spec.path),
                             progress=not quiet and sys.stderr.isatty())
        if not quiet:
            click.echo(f"built {facts['version']}: {counted(len(facts['documents']), 'document')}, "
                       f"{counted(facts['passage_count'], 'passage')}, Milvus collection {facts['collection']} "
                       f"behind alias {store.alias!r}, {facts['build_seconds']:.1f} s")
        return
    manifest = build_index(loaded, corpus, index, Embedder(spec), params, count_tokens=TokenCounter(spec.path),
                           progress=not quiet and sys.stderr.isatty(), ann_threshold=ann_threshold, onnx=onnx)
    if not quiet:
        encoder = manifest["encoder"]
        answering = (f"ONNX question encoder (min cosine vs torch {encoder['min_cosine_vs_torch']})"
                     if encoder.get("use_onnx") else "torch question encoder")
        click.echo(f"built {manifest['version']}: {counted(len(manifest['documents']), 'document')}, "
                   f"{counted(manifest['passage_count'], 'passage')}, {manifest['faiss_index']['type']}, "
                   f"{answering}, {manifest['build_seconds']:.1f} s -> {Path(index) / 'current'}")


def counted(n: int, noun: str) -> str:
    """ "1 document", "3 documents"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _up_to_date(index_dir: str, corpus_dir: str, params, model_id: str, quiet: bool, store=None) -> bool:
    """The local manifest, or in Milvus the facts of the collection behind the alias. A local
    version whose files no longer match their checksums is not up to date: the server refuses
    it, so `make run`'s `--if-stale` must rebuild it, not keep a 503 serving."""
    from .index.build import is_stale
    from .index.layout import read_manifest, resolve_folder, verify_checksums
    from .milvus.store import FORMAT as MILVUS_FORMAT

    try:
        if store is None:
            manifest = read_manifest(index_dir)
            verify_checksums(resolve_folder(index_dir), manifest.get("checksums", {}))
        else:
            collection = store.pointer()
            if collection is None:
                return False
            manifest = store.facts(collection)
            if manifest.get("format") != MILVUS_FORMAT:
                return False
    except QAError:
        return False
    if is_stale(manifest, corpus_dir, params, model_id):
        return False
    if not quiet:
        click.echo(f"index {manifest['version']} is up to date ({manifest['passage_count']} passages)")
    return True


@index.command("info")
@option("index", type=click.Path(file_okay=False))
@click.option("--corpus", "corpus_dir", default=None, help="Corpus to compare with (default: the one it was built from).")
@json_option("Print the manifest and the comparison as JSON.")
@milvus_options
def index_info(index, corpus_dir, as_json, milvus, milvus_token, milvus_alias):
    """Print the manifest (or the facts behind a Milvus alias) and whether the corpus changed
    since the build."""
    from .index.build import corpus_changes
    from .index.layout import read_manifest, resolve_folder

    if milvus:
        store = milvus_store(milvus, milvus_token, milvus_alias)
        collection = store.pointer()
        if collection is None:
            raise QAError(f"no index behind the Milvus alias {milvus_alias!r} at {milvus}", code="index_unavailable")
        manifest = {k: v for k, v in store.facts(collection).items() if k not in ("vocabulary", "df")}
        where, target = f"{milvus} alias {milvus_alias} -> {collection}", f"--milvus {milvus} --milvus-alias {milvus_alias}"
    else:
        manifest = read_manifest(index)
        where, target = str(resolve_folder(index)), f"--index {shlex.quote(index)}"
    corpus_dir = corpus_dir or manifest.get("corpus", {}).get("path", settings.default("corpus"))
    try:
        changes = corpus_changes(manifest, corpus_dir)
    except QAError as exc:
        changes = {"error": [exc.message]}
    changed = any(changes.values())
    if as_json:
        click.echo(json.dumps({"folder" if not milvus else "milvus": where, "manifest": manifest,
                               "corpus": {"path": corpus_dir, "changed": changed, **changes}}, indent=2))
        return
    (_print_facts if milvus else _print_manifest)(where, manifest)
    if changed:
        click.echo(f"corpus     {corpus_dir} CHANGED since the build: " + "; ".join(
            f"{kind}: {', '.join(paths)}" for kind, paths in changes.items() if paths)
            + f" (run `qa index build --corpus {shlex.quote(corpus_dir)} {target}`)")
    else:
        click.echo(f"corpus     {corpus_dir} unchanged since the build")


def _print_facts(where: str, m: dict) -> None:
    """A Milvus index's facts: what a local manifest holds but the files and the encoder."""
    click.echo(f"index      {where}")
    click.echo(f"version    {m['version']} (Milvus format {m['format']})")
    click.echo(f"built      {m['built_at']}")
    click.echo(f"model      {m['model']['id']} (dimension {m['model']['dimension']})")
    click.echo(f"chunking   {json.dumps(m['chunking'])}")
    click.echo(f"passages   {m['passage_count']}")
    _print_documents(m)


def _print_manifest(folder: str, m: dict) -> None:
    encoder = m.get("encoder") or {}
    click.echo(f"index      {folder}")
    click.echo(f"version    {m['version']} (format {m['format_version']}, qa {m.get('qa_version')})")
    click.echo(f"built      {m['built_at']} in {m['build_seconds']} s")
    click.echo(f"model      {m['model']['id']} (dimension {m['model']['dimension']})")
    click.echo(f"faiss      {m['faiss_index']['type']}")
    click.echo("encoder    " + (f"ONNX, min cosine vs torch {encoder.get('min_cosine_vs_torch')} on "
                                f"{encoder.get('checked_texts')} texts" if encoder.get("use_onnx") else
                                f"torch ({encoder.get('error', 'ONNX disabled')})"))
    click.echo(f"chunking   {json.dumps(m['chunking'])}")
    click.echo(f"passages   {m['passage_count']}")
    _print_documents(m)


def _print_documents(m: dict) -> None:
    click.echo(f"documents  {len(m['documents'])}")
    for d in m["documents"]:
        click.echo(f"  {d['doc_id']}  {d['path']}  {d['length']} chars  sha256 {d['fingerprint'][:12]}")
