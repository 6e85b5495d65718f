"""Read an index version into memory, verified, with the per-passage facts ranking needs
computed once per load (never per question)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..answer_types import ANSWER_PATTERNS, names_in
from ..furniture import is_byline, is_dated_byline, is_non_answer
from ..errors import IndexMismatch, IndexUnavailable
from ..lexical import LexicalIndex
from ..records import Chunk, Document
from ..sections import heading_at, in_apparatus, is_contents_list, is_heading_passage
from ..spelling import Speller
from .layout import (BM25, CHUNKS, DOCUMENTS, SENTENCE_BM25, SENTENCE_ROWS, SENTENCES, VECTORS, VOCABULARY,
                     read_jsonl, read_manifest, resolve_folder, verify_checksums)


@dataclass(frozen=True)
class LoadedIndex:
    """Everything a search needs, read once into memory."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: Any  # faiss.Index over the window embeddings; row i = chunk i
    lexical: LexicalIndex  # BM25 over the windows
    sentence_lexical: LexicalIndex  # BM25 over the distinct sentences (rows of sentence_vectors), b = 0
    sentence_vectors: np.ndarray  # one row per distinct sentence (windows overlap, so they share them)
    sentence_rows: np.ndarray  # per sentence slot of every chunk, in chunk order: its row in sentence_vectors
    sentence_offsets: np.ndarray  # chunk i owns slots sentence_offsets[i]:sentence_offsets[i+1]
    anchor_rows: np.ndarray  # the sentence_vectors rows of every chunk's anchors, in chunk order
    anchor_offsets: np.ndarray  # chunk i owns anchor_rows[anchor_offsets[i]:anchor_offsets[i+1]]
    non_answer: np.ndarray  # per chunk: only questions, a heading or a label list (furniture.py), or a heading alone
    # (sections.py): never returned
    section_heading: np.ndarray  # per chunk: the chunk that is its section's heading alone, else -1 (sections.py)
    byline: np.ndarray  # per chunk: holds a byline ("By …", "Write to …"), which answers "who wrote it?"
    dated_byline: np.ndarray  # per chunk: holds a byline with a full date, which answers "when was it published?"
    has_answer_type: dict[str, np.ndarray]  # per answer type, per chunk: holds such an expression
    speller: Speller  # corrects question words towards the corpus vocabulary
    sentence_texts: tuple[str, ...]  # per sentence row: its text
    sentence_names: tuple[frozenset[str], ...]  # per sentence row: words of the names it holds (answer_types.py)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def answering_bylines(self, about: str | None) -> np.ndarray:
        """Per chunk: holds a byline that answers a question about the document (``about``,
        query.about_document): any byline says who wrote it, a dated one ("By Tomas
        Vennegaard, Lindenport Herald, 3 March 2024") when it was published; else none."""
        if about == "author":
            return self.byline
        if about == "published":
            return self.dated_byline
        return np.zeros(len(self.chunks), dtype=bool)

    def search_dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest chunks, among ``allowed`` ids only when given (FAISS ID selector)."""
        import faiss

        k = min(k, self.vectors.ntotal)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self.vectors.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                          params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def view(self, query: Any, vector: np.ndarray, doc_ids: tuple[str, ...] = ()) -> "LoadedIndex":
        """The index a question is ranked on: this one, whole (a Milvus index makes a small
        one of the question's candidates, milvus/view.py)."""
        return self

    def unavailable(self) -> str | None:
        """Why the index cannot answer now, if it cannot (a local index always can)."""
        return None

    def chunks_of(self, doc_ids: tuple[str, ...]) -> np.ndarray:
        """The chunk ids of these documents, in order."""
        by_document = self._chunks_by_document
        return np.unique(np.concatenate([by_document.get(d, np.empty(0, np.int64)) for d in doc_ids]))

    @cached_property
    def _chunks_by_document(self) -> dict[str, np.ndarray]:
        """Once per index, not per filtered question."""
        ids: dict[str, list[int]] = {}
        for chunk in self.chunks:
            ids.setdefault(chunk.doc_id, []).append(chunk.chunk_id)
        return {doc_id: np.array(found, dtype=np.int64) for doc_id, found in ids.items()}

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def summary(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "version": m["version"],
            "format_version": m["format_version"],
            "model": m["model"]["id"],
            "dimension": m["model"]["dimension"],
            "faiss_index": m["faiss_index"]["type"],
            "documents": len(m["documents"]),
            "passages": m["passage_count"],
            "built_at": m["built_at"],
        }


class PassageFacts:
    """What ranking needs to know of a passage's text (furniture, byline, answer types) and of
    a sentence's (the names it holds), remembered: a Milvus index assembles a small index of
    each question's candidates, and the same passages come back question after question."""

    def __init__(self, limit: int = 50_000):  # entries per kind; emptied when full (tens of MB at most)
        self.limit = limit
        self._chunks: dict[tuple[str, int, int], tuple[bool, bool, bool, tuple[bool, ...]]] = {}
        self._names: dict[str, frozenset[str]] = {}

    def of_chunk(self, chunk: Chunk) -> tuple[bool, bool, bool, tuple[bool, ...]]:
        return self._remembered(self._chunks, (chunk.doc_id, chunk.start, chunk.end), lambda: chunk_facts(chunk))

    def of_sentence(self, text: str) -> frozenset[str]:
        return self._remembered(self._names, text, lambda: names_in(text))

    def _remembered(self, table: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
        found = table.get(key)
        if found is None:
            found = make()
            if len(table) >= self.limit:
                table.clear()
            table[key] = found
        return found


def chunk_facts(chunk: Chunk) -> tuple[bool, bool, bool, tuple[bool, ...]]:
    """Only furniture (never an answer), holds a byline, a dated one, and per ANSWER_PATTERNS:
    holds one."""
    return (is_non_answer(chunk.text, chunk.sentences),
            any(is_byline(chunk.text[a:b]) for a, b in chunk.sentences),
            any(is_dated_byline(chunk.text[a:b]) for a, b in chunk.sentences),
            tuple(bool(pattern.search(chunk.text)) for pattern in ANSWER_PATTERNS.values()))


def assemble(folder: Path, manifest: dict[str, Any], documents: dict[str, Document], chunks: list[Chunk],
             vectors: Any, lexical: LexicalIndex, sentence_lexical: LexicalIndex, sentence_vectors: np.ndarray,
             sentence_rows: np.ndarray, speller: Speller, facts: PassageFacts | None = None) -> LoadedIndex:
    """Derive the per-chunk offsets, anchor rows and flags from the chunks themselves
    (``facts`` remembers them across calls; without it they are computed here once)."""
    offsets = offsets_of(chunks)
    sentence_texts = [""] * len(sentence_vectors)
    for chunk, first in zip(chunks, offsets):
        for row, (a, b) in zip(sentence_rows[first:], chunk.sentences):
            sentence_texts[int(row)] = chunk.text[a:b]
    anchor_rows = np.array([sentence_rows[offsets[i] + a] for i, c in enumerate(chunks) for a in c.anchors],
                           dtype=np.int64)
    anchor_offsets = np.cumsum([0] + [len(c.anchors) for c in chunks]).astype(np.int64)
    per_chunk = [facts.of_chunk(c) if facts else chunk_facts(c) for c in chunks]
    never_returned, section_heading = _sections(documents, chunks)
    non_answer = np.array([f[0] for f in per_chunk], dtype=bool)
    non_answer[never_returned] = True
    byline = np.array([f[1] for f in per_chunk], dtype=bool)
    dated_byline = np.array([f[2] for f in per_chunk], dtype=bool)
    has_type = {kind: np.array([f[3][n] for f in per_chunk], dtype=bool)
                for n, kind in enumerate(ANSWER_PATTERNS)}  # "person" depends on the question: search.py
    return LoadedIndex(folder, manifest, documents, chunks, vectors, lexical, sentence_lexical, sentence_vectors,
                       np.asarray(sentence_rows, dtype=np.int64), offsets, anchor_rows, anchor_offsets, non_answer,
                       section_heading,
                       byline, dated_byline, has_type, speller, tuple(sentence_texts),
                       tuple(facts.of_sentence(t) if facts else names_in(t) for t in sentence_texts))


def _sections(documents: dict[str, Document], chunks: list[Chunk]) -> tuple[list[int], np.ndarray]:
    """The chunks that are within a heading, under a References (Further reading…) heading or
    a contents list, never returned, and per chunk the one (the first) of the heading its section opens with (else -1)."""
    within = [i for i, c in enumerate(chunks) if is_heading_passage(documents[c.doc_id], c.start, c.end)]
    apparatus = [i for i, c in enumerate(chunks) if in_apparatus(documents[c.doc_id], c.start)
                 or is_contents_list(documents[c.doc_id], c.text)]
    first_of: dict[tuple[str, int | None], int] = {}
    for i in within:
        start = heading_at(documents[chunks[i].doc_id], chunks[i].start)
        if start is not None:
            first_of.setdefault((chunks[i].doc_id, start), i)
    section_heading = np.array([first_of.get((c.doc_id, heading_at(documents[c.doc_id], c.start)), -1)
                                for c in chunks], dtype=np.int64)
    section_heading[within] = -1  # a heading is not its own section's evidence
    return within + apparatus, section_heading


def offsets_of(chunks: list[Chunk]) -> np.ndarray:
    """Chunk i owns sentence slots offsets[i]:offsets[i+1]."""
    return np.cumsum([0] + [len(c.sentences) for c in chunks]).astype(np.int64)


def load_index(
    index_dir: str | os.PathLike[str], *, expect_model_id: str | None = None, expect_dimension: int | None = None
) -> LoadedIndex:
    """Load and verify an index; refuse (IndexUnavailable) anything truncated, corrupted or foreign."""
    folder = resolve_folder(index_dir)
    manifest = read_manifest(folder)
    _check_model(folder, manifest, expect_model_id, expect_dimension)
    verify_checksums(folder, manifest.get("checksums", {}))
    try:
        parts = _read_parts(folder)
    except IndexUnavailable:
        raise
    except Exception as exc:
        raise IndexUnavailable(f"{folder}: cannot read the index ({type(exc).__name__}: {exc}); rebuild it") from None
    _check_parts(folder, manifest, *parts)
    *arrays, words = parts
    index = assemble(folder, manifest, *arrays, Speller(words))
    if manifest["faiss_index"].get("efSearch"):  # an HNSW graph: search as wide as it was built for
        index.vectors.hnsw.efSearch = int(manifest["faiss_index"]["efSearch"])
    return index


def _check_model(folder: Path, manifest: dict[str, Any], model_id: str | None, dimension: int | None) -> None:
    model = manifest.get("model", {})
    if model_id is not None and model.get("id") != model_id:
        raise IndexMismatch(
            f"index {folder} was built with model {model.get('id')!r} but this server uses {model_id!r}; "
            "rebuild the index with this model or start the server with the index's model (--model / QA_MODEL)"
        )
    if dimension is not None and model.get("dimension") != dimension:
        raise IndexMismatch(f"index {folder} has dimension {model.get('dimension')} but the model gives {dimension}; "
                            "rebuild it")


def _read_parts(folder: Path) -> tuple:
    import faiss

    vectors = faiss.read_index(str(folder / VECTORS))
    chunks = [Chunk.from_json(row) for row in read_jsonl(folder / CHUNKS)]
    documents = {}
    for data in read_jsonl(folder / DOCUMENTS):
        documents[data["doc_id"]] = Document(
            doc_id=data["doc_id"], path=data["path"], title=data["title"], text=data["text"],
            metadata=data.get("metadata", {}), fingerprint=data.get("fingerprint", ""),
        )
    lexical = LexicalIndex.load(folder / BM25, len(chunks))
    sentence_vectors = np.load(folder / SENTENCES, allow_pickle=False).astype(np.float32)
    sentence_lexical = LexicalIndex.load(folder / SENTENCE_BM25, len(sentence_vectors))
    sentence_rows = np.load(folder / SENTENCE_ROWS, allow_pickle=False)
    words = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
    if not isinstance(words, dict) or not all(isinstance(n, int) for n in words.values()):
        raise IndexUnavailable(f"{folder}: {VOCABULARY} is not a word -> count mapping; rebuild the index")
    return documents, chunks, vectors, lexical, sentence_lexical, sentence_vectors, sentence_rows, words


def _check_parts(folder: Path, manifest: dict[str, Any], documents, chunks, vectors, lexical, sentence_lexical,
                 sentence_vectors, sentence_rows, words) -> None:
    """The parts agree with each other and with the manifest."""
    if vectors.ntotal != len(chunks) or len(chunks) != manifest.get("passage_count"):
        raise IndexUnavailable(f"{folder}: {vectors.ntotal} vectors for {len(chunks)} passages; rebuild the index")
    if vectors.d != manifest.get("model", {}).get("dimension"):
        raise IndexMismatch(f"{folder}: vectors have dimension {vectors.d}, manifest says "
                            f"{manifest.get('model', {}).get('dimension')}")
    slots = sum(len(c.sentences) for c in chunks)
    if (
        sentence_vectors.ndim != 2 or sentence_vectors.shape[1] != vectors.d or sentence_rows.shape != (slots,)
        or (slots and (int(sentence_rows.min()) < 0 or int(sentence_rows.max()) >= len(sentence_vectors)))
        or any(not 0 <= a < len(c.sentences) for c in chunks for a in c.anchors)
    ):
        raise IndexUnavailable(f"{folder}: sentence vectors do not match the passages; rebuild the index")
    if lexical.documents != len(chunks) or sentence_lexical.documents != len(sentence_vectors):
        raise IndexUnavailable(f"{folder}: BM25 does not match the passages or sentences; rebuild the index")
    if any(c.doc_id not in documents for c in chunks):
        raise IndexUnavailable(f"{folder}: passages cite documents the index does not hold; rebuild the index")


def set_search_threads(threads: int) -> None:
    """FAISS's OpenMP pool would otherwise use every core in every worker."""
    import faiss

    faiss.omp_set_num_threads(max(1, threads))
