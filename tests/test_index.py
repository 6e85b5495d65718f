import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.chunking import ChunkingParams
from qa.corpus import load_corpus
from qa.errors import IndexMismatch, IndexUnavailable
from qa.index import CURRENT, FORMAT_VERSION, build_index, current_version, is_stale, load_index, read_manifest

from conftest import CORPUS, ROOT

QA = str(Path(sys.executable).with_name("qa"))


def test_round_trip_keeps_chunks_documents_and_vectors(built_index, embedder):
    index = load_index(built_index, expect_model_id=embedder.spec.model_id, expect_dimension=384)
    manifest = index.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["model"] == {"id": "sentence-transformers/all-MiniLM-L6-v2", "path": embedder.spec.path, "dimension": 384}
    assert manifest["passage_count"] == len(index.chunks) == index.vectors.ntotal
    assert manifest["chunking"] == ChunkingParams().to_json()
    assert manifest["faiss_index"]["type"] == "IndexFlatIP"
    assert manifest["documents"][0]["fingerprint"] == load_corpus(CORPUS).documents[0].fingerprint
    assert {"built_at", "build_seconds", "checksums"} <= set(manifest)
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
    # the stored vectors are the model's normalized embeddings of the chunk texts
    stored = index.chunk_vectors(np.arange(3))
    fresh = embedder.encode([c.text for c in index.chunks[:3]])
    assert np.allclose(stored, fresh, atol=1e-5)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)
    # overlapping windows share sentence vectors: one row per distinct sentence, each slot mapped to its row
    slots = [c.text[a:b] for c in index.chunks for a, b in c.sentences]
    assert len(index.sentence_rows) == len(slots) and len(index.sentence_vectors) == len(set(slots)) < len(slots)
    assert index.sentence_lexical.documents == len(index.sentence_vectors) and index.lexical.documents == len(index.chunks)
    assert "sentences k1=1.2 b=0" in manifest["lexical"] and index.sentence_lexical._retriever.b == 0.0
    for position in (0, len(slots) // 2, len(slots) - 1):
        fresh = embedder.encode([slots[position]])[0]
        assert np.allclose(index.sentence_vectors[index.sentence_rows[position]], fresh, atol=2e-3)  # stored as float16


def test_no_pickle_files_in_the_index(built_index):
    folder = built_index / current_version(built_index)
    suffixes = {p.suffix for p in folder.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".jsonl", ".faiss", ".npy"}
    for npy in folder.rglob("*.npy"):
        np.load(npy, allow_pickle=False)


def test_other_model_is_refused_with_a_clear_message(built_index):
    with pytest.raises(IndexMismatch, match="built with model"):
        load_index(built_index, expect_model_id="/some/other/model")
    with pytest.raises(IndexMismatch, match="dimension"):
        load_index(built_index, expect_dimension=768)


def _copy_version(built_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(built_index, target, symlinks=True)
    return target / current_version(target)


def test_corrupted_or_truncated_files_are_refused(built_index, tmp_path):
    folder = _copy_version(built_index, tmp_path)
    vectors = folder / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexUnavailable, match="vectors.faiss is corrupted or truncated"):
        load_index(folder.parent)


def test_other_format_version_is_refused(built_index, tmp_path):
    folder = _copy_version(built_index, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format version 99"):
        read_manifest(folder.parent)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexUnavailable, match="qa index build"):
        load_index(tmp_path)


def test_failed_build_leaves_the_previous_index_in_place(built_index, tmp_path, embedder):
    target = _copy_version(built_index, tmp_path).parent
    before = current_version(target)

    class Exploding:
        spec = embedder.spec

        def encode(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        build_index(load_corpus(CORPUS), CORPUS, target, Exploding(), ChunkingParams())
    assert current_version(target) == before
    assert not list(target.glob(".tmp-*"))
    load_index(target)


def test_killed_build_leaves_the_previous_index_usable(built_index, tmp_path):
    target = _copy_version(built_index, tmp_path).parent
    before = current_version(target)
    process = subprocess.Popen([QA, "index", "build", "--corpus", str(CORPUS), "--index", str(target), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.5)  # mid-way: importing torch / loading the model / embedding
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert current_version(target) == before
    load_index(target)
    # the next build succeeds and cleans up
    subprocess.run([QA, "index", "build", "--corpus", str(CORPUS), "--index", str(target), "-q"], check=True)
    assert current_version(target) != before
    assert len(list(target.glob("v-*"))) <= 2


def test_staleness_follows_corpus_chunking_and_model(built_index, tmp_path):
    manifest = read_manifest(built_index)
    assert not is_stale(manifest, CORPUS, ChunkingParams(), manifest["model"]["id"])
    assert is_stale(manifest, CORPUS, ChunkingParams(max_chars=300), manifest["model"]["id"])
    assert is_stale(manifest, CORPUS, ChunkingParams(), "other-model")
    changed = tmp_path / "corpus"
    shutil.copytree(CORPUS, changed)
    (changed / "new.md").write_text("A new document.")
    assert is_stale(manifest, changed, ChunkingParams(), manifest["model"]["id"])


def test_current_is_a_symlink_swapped_atomically(built_index):
    assert os.path.islink(built_index / CURRENT)
    assert (built_index / current_version(built_index) / "manifest.json").is_file()


def test_above_the_threshold_an_hnsw_index_is_built_recorded_and_searched(tmp_path, embedder, token_counter):
    from qa.search import rank

    folder = tmp_path / "index"
    manifest = build_index(load_corpus(CORPUS), CORPUS, folder, embedder, ChunkingParams(),
                           count_tokens=token_counter, ann_threshold=10, onnx=False)
    assert manifest["faiss_index"]["type"] == "IndexHNSWFlat" and manifest["faiss_index"]["exact"] is False
    assert manifest["encoder"] == {"use_onnx": False}
    index = load_index(folder)
    assert index.vectors.hnsw.efSearch == 128
    question = "Which warship sank in 2010?"
    hits = rank(index, question, embedder.encode_one(question), 3, "hybrid")
    assert "Cheonan" in index.chunks[hits[0].chunk_id].text


def test_onnx_encoder_matches_torch_and_is_recorded(built_index, embedder):
    from qa.embedding import OnnxEncoder
    from qa.index import onnx_encoder_file

    folder = built_index / current_version(built_index)
    manifest = read_manifest(built_index)
    assert manifest["encoder"]["use_onnx"] is True
    assert manifest["encoder"]["min_cosine_vs_torch"] >= 0.9999
    encoder = OnnxEncoder(embedder.spec, onnx_encoder_file(folder, manifest))
    texts = ["why didn't South Korea sign?", "a much longer text " * 40]
    assert np.min(np.sum(encoder.encode(texts) * embedder.encode(texts), axis=1)) >= 0.9999
