"""Build a new index version offline and switch ``current`` to it atomically; decide
whether the index is stale for a corpus."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..chunking import ChunkingParams, chunk_corpus
from ..corpus import Corpus, fingerprint_files
from ..lexical import LEXICAL_ANALYZER, SENTENCE_B, LexicalIndex
from ..records import Chunk, Document
from ..sections import embedding_text
from ..settings import default
from ..spelling import vocabulary
from .layout import (BM25, CHUNKS, DOCUMENTS, ENCODERS, FORMAT_VERSION, MANIFEST, SENTENCE_BM25, SENTENCE_ROWS,
                     SENTENCES, VECTORS, VOCABULARY, checksums, fsync_tree, publish, remove_stale_temporaries,
                     temporary_folder, write_jsonl)


@dataclass(frozen=True)
class Embedded:
    """The corpus as vectors: windows, and every distinct sentence once (windows overlap)."""

    chunks: list[Chunk]
    vectors: np.ndarray  # one per chunk, made from its embedded_texts
    embedded_texts: list[str]  # per chunk: its section path, then its text (sections.embedding_text)
    sentences: list[str]  # distinct sentence texts
    sentence_vectors: np.ndarray  # one per distinct sentence
    sentence_rows: np.ndarray  # per sentence slot of every chunk: its row in sentences


def embed_corpus(corpus: Corpus, embedder: Any, params: ChunkingParams,
                 count_tokens: Callable[[str], int] | None, progress: bool) -> Embedded:
    chunks = chunk_corpus(corpus.documents, params, count_tokens)
    documents = {d.doc_id: d for d in corpus.documents}
    texts = [embedding_text(documents[c.doc_id], c) for c in chunks]
    rows_of: dict[str, int] = {}
    sentence_rows = np.array([rows_of.setdefault(c.text[a:b], len(rows_of)) for c in chunks for a, b in c.sentences],
                             dtype=np.int32)
    sentences = list(rows_of)
    everything = embedder.encode(texts + sentences, batch_size=32, progress=progress)
    return Embedded(chunks, everything[: len(texts)], texts, sentences, everything[len(texts) :], sentence_rows)


def build_index(
    corpus: Corpus,
    corpus_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    embedder: Any,
    params: ChunkingParams,
    *,
    count_tokens: Callable[[str], int] | None = None,
    progress: bool = False,
    ann_threshold: int = default("ann_threshold"),
    onnx: bool = True,
    encoder_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Chunk, embed and write a new index version, then switch ``current`` to it."""
    started = time.perf_counter()
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(root)
    embedded = embed_corpus(corpus, embedder, params, count_tokens, progress)
    encoder = {"use_onnx": False}
    if onnx:
        from ..onnx_encoder import prepare_onnx_encoder

        encoder = prepare_onnx_encoder(embedder, Path(encoder_dir) if encoder_dir else root / ENCODERS,
                                       embedded.embedded_texts + embedded.sentences,
                                       np.concatenate([embedded.vectors, embedded.sentence_vectors]))
    version = "v-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    with temporary_folder(root, version) as temporary:
        manifest = _manifest(version, corpus, corpus_dir, embedder, embedded, params, encoder,
                             _write_parts(temporary, corpus, embedded, ann_threshold), started)
        manifest["checksums"] = checksums(temporary)
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        fsync_tree(temporary)
        publish(root, temporary, version)
    return manifest


def _manifest(version: str, corpus: Corpus, corpus_dir: str | os.PathLike[str], embedder: Any,
              embedded: Embedded, params: ChunkingParams, encoder: dict[str, Any], faiss_info: dict[str, Any],
              started: float) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "version": version,
        "qa_version": __version__,
        "model": {"id": embedder.spec.model_id, "path": embedder.spec.path,
                  "dimension": int(embedded.vectors.shape[1])},
        "encoder": encoder,
        "faiss_index": faiss_info,
        "chunking": params.to_json(),
        "lexical": LEXICAL_ANALYZER,
        "corpus": {"path": str(Path(corpus_dir).resolve()), "files": corpus.files, "warnings": corpus.warnings},
        "page": corpus.page,
        "documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title, "fingerprint": d.fingerprint,
                       "length": len(d.text)} for d in corpus.documents],
        "passage_count": len(embedded.chunks),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 3),
    }


def _write_parts(folder: Path, corpus: Corpus, embedded: Embedded, ann_threshold: int) -> dict[str, Any]:
    """Every file of a version but the manifest; returns the FAISS index's description."""
    import faiss

    faiss_index, faiss_info = _make_faiss_index(embedded.vectors, ann_threshold)
    faiss.write_index(faiss_index, str(folder / VECTORS))
    np.save(folder / SENTENCES, embedded.sentence_vectors.astype(np.float16), allow_pickle=False)
    np.save(folder / SENTENCE_ROWS, embedded.sentence_rows, allow_pickle=False)
    write_jsonl(folder / CHUNKS, (c.to_json() for c in embedded.chunks))
    write_jsonl(folder / DOCUMENTS, (_document_json(d) for d in corpus.documents))
    LexicalIndex.build([c.text for c in embedded.chunks]).save(folder / BM25)
    LexicalIndex.build(embedded.sentences, b=SENTENCE_B).save(folder / SENTENCE_BM25)
    (folder / VOCABULARY).write_text(json.dumps(vocabulary([d.text for d in corpus.documents]), ensure_ascii=False),
                                     encoding="utf-8")
    return faiss_info


def _make_faiss_index(vectors: np.ndarray, ann_threshold: int) -> tuple[Any, dict[str, Any]]:
    """Exact inner-product search up to ``ann_threshold`` passages, an HNSW graph above."""
    import faiss

    count, dimension = vectors.shape
    if count <= ann_threshold:
        index = faiss.IndexFlatIP(dimension)
        info: dict[str, Any] = {"type": "IndexFlatIP", "exact": True}
    else:
        m, ef_construction = default("hnsw_m"), default("hnsw_ef_construction")
        index = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        info = {"type": "IndexHNSWFlat", "exact": False, "M": m, "efConstruction": ef_construction,
                "efSearch": default("hnsw_ef_search")}
    index.add(vectors)
    info["ann_threshold"] = ann_threshold
    return index, info


def _document_json(document: Document) -> dict[str, Any]:
    data = document.summary()
    data["text"] = document.text
    return data


def corpus_changes(manifest: dict[str, Any], corpus_dir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Files added, removed or modified since the index was built (no parsing, no model)."""
    before: dict[str, str] = manifest.get("corpus", {}).get("files", {})
    now = fingerprint_files(corpus_dir)
    return {
        "added": sorted(set(now) - set(before)),
        "removed": sorted(set(before) - set(now)),
        "modified": sorted(p for p in set(now) & set(before) if now[p] != before[p]),
    }


def is_stale(manifest: dict[str, Any], corpus_dir: str | os.PathLike[str], params: ChunkingParams, model_id: str) -> bool:
    return (
        any(corpus_changes(manifest, corpus_dir).values())
        or manifest.get("chunking") != params.to_json()
        or manifest.get("lexical") != LEXICAL_ANALYZER
        or manifest.get("model", {}).get("id") != model_id
    )
