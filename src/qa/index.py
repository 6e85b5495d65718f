"""Build, store and load the index folder. The only module that imports faiss.

Layout of ``--index DIR``::

    DIR/current -> v-20261127T105501-3f2a1c   (symlink, swapped atomically)
    DIR/v-.../manifest.json     format version, model, dimension, chunking, fingerprints, checksums
    DIR/v-.../vectors.faiss     FAISS's own format; row i = chunk i
    DIR/v-.../chunks.jsonl      one chunk per line, line i = row i
    DIR/v-.../documents.jsonl   documents with their canonical text (citations are checkable)
    DIR/v-.../bm25/             bm25s's JSON and .npy files

A build writes everything into ``DIR/.tmp-*``, renames it to ``DIR/v-*`` and only then
points ``current`` at it with ``os.replace`` on a symlink, which is atomic: a failed or
killed build leaves the previous index in place, and a server that has the old version
loaded keeps serving it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__
from .chunking import ChunkingParams, chunk_corpus
from .corpus import Corpus, fingerprint_files
from .errors import IndexMismatch, IndexUnavailable
from .lexical import LEXICAL_ANALYZER, LexicalIndex
from .records import Chunk, Document

FORMAT_VERSION = 3  # 2: sentence windows, sentence_rows.npy; 3: bm25_sentences/
CURRENT = "current"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
BM25 = "bm25"
SENTENCE_BM25 = "bm25_sentences"
SENTENCES = "sentences.npy"
SENTENCE_ROWS = "sentence_rows.npy"
ENCODERS = "encoders"
ONNX_CHECK_TEXTS = 2000  # texts compared torch vs ONNX at build (all of them in small corpora)
KEEP_VERSIONS = 2
DEFAULT_ANN_THRESHOLD = 100_000  # chunks; above it an HNSW graph replaces exact search


@dataclass
class LoadedIndex:
    """Everything a search needs, read once into memory."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: Any  # faiss.Index
    lexical: LexicalIndex  # BM25 over the passages
    sentence_lexical: LexicalIndex  # BM25 over the distinct sentences (rows of sentence_vectors), b = 0
    sentence_vectors: np.ndarray  # one row per distinct sentence (windows overlap, so they share them)
    sentence_rows: np.ndarray  # per sentence slot of every chunk, in chunk order: its row in sentence_vectors
    sentence_offsets: np.ndarray  # chunk i owns slots sentence_offsets[i]:sentence_offsets[i+1]
    anchor_rows: np.ndarray  # the sentence_vectors rows of every chunk's anchors, in chunk order
    anchor_offsets: np.ndarray  # chunk i owns anchor_rows[anchor_offsets[i]:anchor_offsets[i+1]]
    features: dict[str, Any] = field(default_factory=dict)  # per-chunk facts search.py computes once

    @classmethod
    def assemble(cls, folder, manifest, documents, chunks, vectors, lexical, sentence_lexical, sentence_vectors,
                 sentence_rows):
        """Derive the per-chunk offsets and anchor rows from the chunks themselves."""
        offsets = np.cumsum([0] + [len(c.sentences) for c in chunks]).astype(np.int64)
        anchor_rows = np.array([sentence_rows[offsets[i] + a] for i, c in enumerate(chunks) for a in c.anchors],
                               dtype=np.int64)
        anchor_offsets = np.cumsum([0] + [len(c.anchors) for c in chunks]).astype(np.int64)
        return cls(folder, manifest, documents, chunks, vectors, lexical, sentence_lexical, sentence_vectors,
                   np.asarray(sentence_rows, dtype=np.int64), offsets, anchor_rows, anchor_offsets)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def search_dense(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.vectors.ntotal)
        scores, ids = self.vectors.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

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


def build_index(
    corpus: Corpus,
    corpus_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    embedder: Any,
    params: ChunkingParams,
    *,
    count_tokens: Callable[[str], int] | None = None,
    progress: bool = False,
    ann_threshold: int = DEFAULT_ANN_THRESHOLD,
    onnx: bool = True,
    encoder_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Chunk, embed and write a new index version, then switch ``current`` to it."""
    import faiss

    started = time.perf_counter()
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(root)
    chunks = chunk_corpus(corpus.documents, params, count_tokens)
    texts = [c.text for c in chunks]
    rows_of: dict[str, int] = {}  # windows overlap: each distinct sentence is embedded once
    sentence_rows = np.array([rows_of.setdefault(c.text[a:b], len(rows_of)) for c in chunks for a, b in c.sentences],
                             dtype=np.int32)
    sentences = list(rows_of)
    everything = embedder.encode(texts + sentences, batch_size=32, progress=progress)
    vectors, sentence_vectors = everything[: len(texts)], everything[len(texts) :]
    dimension = int(vectors.shape[1])
    faiss_index, faiss_info = _make_faiss_index(vectors, ann_threshold)

    encoder = _prepare_onnx_encoder(embedder, Path(encoder_dir) if encoder_dir else root / ENCODERS,
                                    texts + sentences, everything) if onnx else {"use_onnx": False}

    version = "v-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    temporary = root / f".tmp-{version}"
    temporary.mkdir()
    try:
        faiss.write_index(faiss_index, str(temporary / VECTORS))
        np.save(temporary / SENTENCES, sentence_vectors.astype(np.float16), allow_pickle=False)
        np.save(temporary / SENTENCE_ROWS, sentence_rows, allow_pickle=False)
        _write_jsonl(temporary / CHUNKS, (c.to_json() for c in chunks))
        _write_jsonl(temporary / DOCUMENTS, (_document_json(d) for d in corpus.documents))
        LexicalIndex.build(texts).save(temporary / BM25)
        LexicalIndex.build(sentences, b=0.0).save(temporary / SENTENCE_BM25)
        manifest = {
            "format_version": FORMAT_VERSION,
            "version": version,
            "qa_version": __version__,
            "model": {"id": embedder.spec.model_id, "path": embedder.spec.path, "dimension": dimension},
            "encoder": encoder,
            "faiss_index": faiss_info,
            "chunking": params.to_json(),
            "lexical": LEXICAL_ANALYZER,
            "corpus": {"path": str(Path(corpus_dir)), "files": corpus.files, "warnings": corpus.warnings},
            "documents": [
                {"doc_id": d.doc_id, "path": d.path, "title": d.title, "fingerprint": d.fingerprint, "length": len(d.text)}
                for d in corpus.documents
            ],
            "passage_count": len(chunks),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 3),
            "checksums": _checksums(temporary),
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _fsync_tree(temporary)
        os.rename(temporary, root / version)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _point_current_at(root, version)
    _remove_old_versions(root, keep=KEEP_VERSIONS)
    return manifest


def _prepare_onnx_encoder(embedder: Any, encoders: Path, texts: list[str], reference: np.ndarray) -> dict[str, Any]:
    """Export the ONNX question encoder once per model and check it against torch.

    Returns the manifest's ``encoder`` entry; ``use_onnx`` is false (queries then use
    torch) when the export is impossible or its vectors drift from torch's."""
    import logging

    from .embedding import ONNX_MIN_COSINE, OnnxEncoder, export_onnx

    log = logging.getLogger(__name__)
    spec = embedder.spec
    weights = sorted((p.name, p.stat().st_size) for p in Path(spec.path).glob("*") if p.is_file())
    key = hashlib.sha256(f"{spec.model_id}|{weights}".encode()).hexdigest()[:16]
    target = encoders / key / "model.onnx"
    try:
        if not target.is_file():
            export_onnx(spec, target)
        onnx_encoder = OnnxEncoder(spec, target)
        count = min(len(texts), ONNX_CHECK_TEXTS)
        vectors = onnx_encoder.encode(texts[:count])
        min_cosine = float(np.min(np.sum(vectors * reference[:count], axis=1))) if count else 1.0
    except Exception as exc:  # no onnx package, exporter change...: serve with torch instead
        log.warning("ONNX question encoder unavailable, queries will use torch: %s", exc)
        return {"use_onnx": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    use = min_cosine >= ONNX_MIN_COSINE
    if not use:
        log.warning("ONNX encoder differs from torch (min cosine %.6f); queries will use torch", min_cosine)
    return {"use_onnx": use, "onnx_key": key, "onnx_file": str(target.resolve()),
            "min_cosine_vs_torch": round(min_cosine, 7), "checked_texts": count}


def onnx_encoder_file(folder: Path, manifest: dict[str, Any]) -> Path | None:
    """The ONNX file for this index version, if it has a usable one: beside the version
    (``../encoders/<key>``, so a copied index folder keeps working), else where built."""
    encoder = manifest.get("encoder") or {}
    if not encoder.get("use_onnx"):
        return None
    for candidate in (folder.parent / ENCODERS / str(encoder.get("onnx_key")) / "model.onnx",
                      Path(str(encoder.get("onnx_file")))):
        if candidate.is_file():
            return candidate
    return None


def _make_faiss_index(vectors: np.ndarray, ann_threshold: int) -> tuple[Any, dict[str, Any]]:
    import faiss

    count, dimension = vectors.shape
    if count <= ann_threshold:
        index = faiss.IndexFlatIP(dimension)
        info: dict[str, Any] = {"type": "IndexFlatIP", "exact": True}
    else:
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        info = {"type": "IndexHNSWFlat", "exact": False, "M": 32, "efConstruction": 80, "efSearch": 128}
    index.add(vectors)
    info["ann_threshold"] = ann_threshold
    return index, info


def _document_json(document: Document) -> dict[str, Any]:
    data = document.summary()
    data["text"] = document.text
    return data


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _checksums(folder: Path) -> dict[str, str]:
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            result[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _point_current_at(root: Path, version: str) -> None:
    link = root / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    os.symlink(version, link)
    os.replace(link, root / CURRENT)


def _remove_stale_temporaries(root: Path) -> None:
    """Leftovers of killed builds; a temporary is never read, so removing it is safe."""
    for path in root.glob(".tmp-*"):
        if time.time() - path.stat().st_mtime > 60:
            shutil.rmtree(path, ignore_errors=True)


def _remove_old_versions(root: Path, keep: int) -> None:
    current = current_version(root)
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    for path in versions[:-keep]:
        if path.name != current:
            shutil.rmtree(path, ignore_errors=True)


def set_search_threads(threads: int) -> None:
    import faiss

    faiss.omp_set_num_threads(max(1, threads))


def current_version(index_dir: str | os.PathLike[str]) -> str | None:
    """The version ``current`` points at; a cheap check used for live reloads."""
    try:
        return os.readlink(Path(index_dir) / CURRENT)
    except OSError:
        return None


def resolve_folder(index_dir: str | os.PathLike[str]) -> Path:
    root = Path(index_dir)
    if (root / MANIFEST).is_file():  # pointed straight at one version
        return root
    version = current_version(root)
    if version is None:
        raise IndexUnavailable(f"no index in {root}: build one with `qa index build --index {root}`")
    return root / version


def read_manifest(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    folder = resolve_folder(index_dir)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnavailable(f"{folder}: manifest.json is missing; rebuild with `qa index build`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexUnavailable(f"{folder}/manifest.json is unreadable ({exc}); rebuild the index") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexMismatch(
            f"{folder}: index format version {found!r} is not the supported {FORMAT_VERSION}; rebuild the index"
        )
    return manifest


def load_index(
    index_dir: str | os.PathLike[str], *, expect_model_id: str | None = None, expect_dimension: int | None = None
) -> LoadedIndex:
    """Load and verify an index; refuse (IndexUnavailable) anything truncated, corrupted or foreign."""
    import faiss

    folder = resolve_folder(index_dir)
    manifest = read_manifest(folder)
    model = manifest.get("model", {})
    if expect_model_id is not None and model.get("id") != expect_model_id:
        raise IndexMismatch(
            f"index {folder} was built with model {model.get('id')!r} but this server uses {expect_model_id!r}; "
            "rebuild the index with this model or start the server with the index's model (--model / QA_MODEL)"
        )
    if expect_dimension is not None and model.get("dimension") != expect_dimension:
        raise IndexMismatch(
            f"index {folder} has dimension {model.get('dimension')} but the model gives {expect_dimension}; rebuild it"
        )
    for name, expected in manifest.get("checksums", {}).items():
        path = folder / name
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            raise IndexUnavailable(f"{folder}: {name} is missing; rebuild the index") from None
        if digest != expected:
            raise IndexUnavailable(f"{folder}: {name} is corrupted or truncated (checksum mismatch); rebuild the index")
    try:
        vectors = faiss.read_index(str(folder / VECTORS))
        chunks = [Chunk.from_json(json.loads(line)) for line in _lines(folder / CHUNKS)]
        documents = {}
        for line in _lines(folder / DOCUMENTS):
            data = json.loads(line)
            documents[data["doc_id"]] = Document(
                doc_id=data["doc_id"], path=data["path"], title=data["title"], text=data["text"],
                metadata=data.get("metadata", {}), fingerprint=data.get("fingerprint", ""),
            )
        lexical = LexicalIndex.load(folder / BM25, len(chunks))
        sentence_vectors = np.load(folder / SENTENCES, allow_pickle=False).astype(np.float32)
        sentence_lexical = LexicalIndex.load(folder / SENTENCE_BM25, len(sentence_vectors))
        sentence_rows = np.load(folder / SENTENCE_ROWS, allow_pickle=False)
    except IndexUnavailable:
        raise
    except Exception as exc:
        raise IndexUnavailable(f"{folder}: cannot read the index ({type(exc).__name__}: {exc}); rebuild it") from None
    if vectors.ntotal != len(chunks) or len(chunks) != manifest.get("passage_count"):
        raise IndexUnavailable(f"{folder}: {vectors.ntotal} vectors for {len(chunks)} passages; rebuild the index")
    if vectors.d != model.get("dimension"):
        raise IndexMismatch(f"{folder}: vectors have dimension {vectors.d}, manifest says {model.get('dimension')}")
    if manifest["faiss_index"].get("efSearch"):
        vectors.hnsw.efSearch = int(manifest["faiss_index"]["efSearch"])
    slots = sum(len(c.sentences) for c in chunks)
    if (
        sentence_vectors.ndim != 2 or sentence_vectors.shape[1] != vectors.d or sentence_rows.shape != (slots,)
        or (slots and (int(sentence_rows.min()) < 0 or int(sentence_rows.max()) >= len(sentence_vectors)))
        or any(not 0 <= a < len(c.sentences) for c in chunks for a in c.anchors)
    ):
        raise IndexUnavailable(f"{folder}: sentence vectors do not match the passages; rebuild the index")
    if lexical.documents != len(chunks) or sentence_lexical.documents != len(sentence_vectors):
        raise IndexUnavailable(f"{folder}: BM25 does not match the passages or sentences; rebuild the index")
    return LoadedIndex.assemble(folder, manifest, documents, chunks, vectors, lexical, sentence_lexical,
                                sentence_vectors, sentence_rows)


def _lines(path: Path):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


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
    changes = corpus_changes(manifest, corpus_dir)
    return (
        any(changes.values())
        or manifest.get("chunking") != params.to_json()
        or manifest.get("lexical") != LEXICAL_ANALYZER
        or manifest.get("model", {}).get("id") != model_id
    )
