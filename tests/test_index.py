import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from qa.chunking import ChunkingParams
from qa.corpus import load_corpus
from qa.errors import IndexMismatch, IndexUnavailable
from qa.index.build import build_index, is_stale
from qa.index.layout import CURRENT, FORMAT_VERSION, current_version, read_manifest
from qa.index.load import load_index

from servers import QA, eventually
from conftest import CORPUS



def test_round_trip_keeps_chunks_documents_and_vectors(built_index, embedder):
    index = load_index(built_index, expect_model_id=embedder.spec.model_id, expect_dimension=384)
    manifest = index.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 4
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


def test_a_version_without_its_manifest_says_so_and_names_the_index_folder_to_rebuild(built_index, tmp_path):
    """What a server reads is a version folder: "no index in …/v-X: build one with --index
    …/v-X" would advise building an index inside a version."""
    from qa.service import QAService

    folder = _copy_version(built_index, tmp_path)
    (folder / "manifest.json").unlink()
    expected = f"{folder}: manifest.json is missing; rebuild with `qa index build --index {folder.parent}`"
    with pytest.raises(IndexUnavailable) as error:
        load_index(folder)
    assert error.value.message == expected
    assert QAService(str(folder.parent), cache_size=0).load().health()["error"] == expected


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


def test_failed_embedding_leaves_the_previous_index_in_place(built_index, tmp_path, embedder):
    target = _copy_version(built_index, tmp_path).parent
    before = current_version(target)

    class Exploding:
        spec = embedder.spec

        def encode(self, *args, **kwargs):
            raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        build_index(load_corpus(CORPUS), CORPUS, target, Exploding(), ChunkingParams())
    assert current_version(target) == before
    load_index(target)


def test_a_build_failing_at_the_rename_removes_its_temporary_and_keeps_the_index(
        built_index, tmp_path, embedder, token_counter, monkeypatch):
    target = _copy_version(built_index, tmp_path).parent
    before = current_version(target)
    real_rename, written = os.rename, []

    def rename(src, dst, *args, **kwargs):
        if Path(src).name.startswith(".tmp-"):  # the finished temporary becoming a version
            written.extend(sorted(p.name for p in Path(src).iterdir()))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="No space left"):
        build_index(load_corpus(CORPUS), CORPUS, target, embedder, ChunkingParams(), count_tokens=token_counter,
                    onnx=False)
    assert {"manifest.json", "vectors.faiss", "chunks.jsonl"} <= set(written), "the failure came after the writes"
    assert not list(target.glob(".tmp-*")) and current_version(target) == before
    assert sorted(p.name for p in target.glob("v-*")) == sorted(p.name for p in built_index.glob("v-*"))
    load_index(target)


KILL_DURING_A_WRITE = """
import os, signal, sys
import qa.index.build as build
real = build.write_jsonl
def write_then_die(path, rows):
    rows = iter(rows)
    real(path, [next(rows)])  # the first line of the file is on disk ...
    os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies in the middle of writing it
build.write_jsonl = write_then_die
from qa.cli import main
sys.argv = ["qa", "index", "build", "--corpus", sys.argv[1], "--index", sys.argv[2], "-q", "--no-onnx"]
main()
"""


@pytest.mark.slow
def test_build_killed_in_the_middle_of_a_write_leaves_the_previous_index_usable(built_index, tmp_path):
    target = _copy_version(built_index, tmp_path).parent
    before = current_version(target)
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_A_WRITE, str(CORPUS), str(target)], timeout=300)
    assert killed.returncode == -signal.SIGKILL
    [temporary] = [p for p in target.glob(".tmp-*") if p.is_dir()]  # killed half-way through writing it
    assert (temporary / "chunks.jsonl").read_text().count("\n") == 1 and not (temporary / "manifest.json").exists()
    assert current_version(target) == before
    load_index(target)
    # the next build succeeds and removes the stale temporary: no process holds its lock any more
    subprocess.run([QA, "index", "build", "--corpus", str(CORPUS), "--index", str(target), "-q", "--no-onnx"],
                   check=True, timeout=300)
    assert current_version(target) != before and not list(target.glob(".tmp-*"))
    assert len(list(target.glob("v-*"))) <= 2
    load_index(target)


def test_staleness_follows_corpus_chunking_and_model(built_index, tmp_path):
    manifest = read_manifest(built_index)
    assert not is_stale(manifest, CORPUS, ChunkingParams(), manifest["model"]["id"])
    assert is_stale(manifest, CORPUS, ChunkingParams(max_chars=300), manifest["model"]["id"])
    assert is_stale(manifest, CORPUS, ChunkingParams(), "other-model")
    changed = tmp_path / "corpus"
    shutil.copytree(CORPUS, changed)
    (changed / "new.md").write_text("A new document.")
    assert is_stale(manifest, changed, ChunkingParams(), manifest["model"]["id"])


@pytest.mark.slow  # two full builds
def test_readers_never_see_current_missing_or_half_built_during_builds(built_index, tmp_path, embedder,
                                                                       token_counter):
    """`current` is a symlink replaced with os.replace: a reader polling it while two
    builds publish always finds a complete version behind it."""
    target = _copy_version(built_index, tmp_path).parent
    seen, problems, done = set(), [], threading.Event()

    def read_current():
        while not done.is_set():
            try:
                version = os.readlink(target / CURRENT)
                seen.add(version)
                if not (target / version / "manifest.json").is_file():
                    problems.append(f"{version} has no manifest")
            except OSError as exc:
                problems.append(repr(exc))

    reader = threading.Thread(target=read_current)
    reader.start()
    try:
        for _ in range(2):
            build_index(load_corpus(CORPUS), CORPUS, target, embedder, ChunkingParams(), count_tokens=token_counter,
                        onnx=False)
    finally:
        done.set()
        reader.join()
    assert os.path.islink(target / CURRENT) and not problems
    assert len(seen) == 3, seen  # the old version, then each new one


def test_above_the_threshold_an_hnsw_index_is_built_recorded_and_searched(tmp_path, embedder, token_counter):
    from qa.query import analyse
    from qa.search import rank

    folder = tmp_path / "index"
    manifest = build_index(load_corpus(CORPUS), CORPUS, folder, embedder, ChunkingParams(),
                           count_tokens=token_counter, ann_threshold=10, onnx=False)
    assert manifest["faiss_index"]["type"] == "IndexHNSWFlat" and manifest["faiss_index"]["exact"] is False
    assert manifest["encoder"] == {"use_onnx": False}
    index = load_index(folder)
    assert index.vectors.hnsw.efSearch == 128
    question = "Which warship sank in 2010?"
    hits = rank(index, analyse(question), embedder.encode_one(question), 3, "hybrid")
    assert "Cheonan" in index.chunks[hits[0].chunk_id].text


def test_onnx_encoder_matches_torch_and_is_recorded(built_index, embedder):
    from qa.onnx_encoder import OnnxEncoder
    from qa.onnx_encoder import onnx_encoder_folder

    folder = built_index / current_version(built_index)
    manifest = read_manifest(built_index)
    assert manifest["encoder"]["use_onnx"] is True
    assert manifest["encoder"]["min_cosine_vs_torch"] >= 0.9999
    encoder_folder = onnx_encoder_folder(folder, manifest)
    assert {"model.onnx", "tokenizer.json", "sentence_bert_config.json"} <= {p.name for p in encoder_folder.iterdir()}
    encoder = OnnxEncoder(encoder_folder)
    texts = ["why didn't South Korea sign?", "a much longer text " * 40]
    assert np.min(np.sum(encoder.encode(texts) * embedder.encode(texts), axis=1)) >= 0.9999


def _fake_version(root: Path, name: str) -> None:
    (root / name).mkdir()
    (root / name / "manifest.json").write_text("{}")


def test_publishing_keeps_the_new_version_and_the_one_it_replaced_whatever_their_names(tmp_path):
    """Two builds of the same second get names in random order: the versions kept are the one
    published and the one it replaced (for a rollback), not the last two by name."""
    import qa.index.layout as layout

    root = tmp_path / "index"
    root.mkdir()
    for name in ("v-1-zzz", "v-2-yyy"):
        _fake_version(root, name)
    layout.point_current_at(root, "v-2-yyy")
    (root / ".tmp-v-2-aaa").mkdir()
    (root / ".tmp-v-2-aaa" / "manifest.json").write_text("{}")
    layout.publish(root, root / ".tmp-v-2-aaa", "v-2-aaa")  # sorts before the version it replaces
    assert os.readlink(root / CURRENT) == "v-2-aaa"
    assert sorted(p.name for p in root.glob("v-*")) == ["v-2-aaa", "v-2-yyy"]


def test_a_build_publishing_between_anothers_rename_and_swap_waits_for_the_lock(tmp_path, monkeypatch):
    """Fault injection at the exact point: build A has renamed its version and not yet
    swapped `current`; build B tries to publish right then. B must not run its cleanup
    (which could delete A's version); it waits on the index lock and here gives up."""
    import qa.index.layout as layout

    root = tmp_path / "index"
    root.mkdir()
    _fake_version(root, "v-1")
    layout.point_current_at(root, "v-1")
    for name in (".tmp-v-2", ".tmp-v-3"):
        (root / name).mkdir()
        (root / name / "manifest.json").write_text("{}")
    real_swap, during_the_gap = layout.point_current_at, []
    monkeypatch.setattr(layout, "LOCK_TIMEOUT", 0.3)

    def swap(where, version):
        if version == "v-2" and not during_the_gap:  # A: renamed, not yet swapped
            assert (where / "v-2").is_dir() and os.readlink(where / CURRENT) == "v-1"
            try:
                layout.publish(where, where / ".tmp-v-3", "v-3")
                during_the_gap.append("B published")
            except Exception as exc:  # noqa: BLE001 - what B met is the assertion
                during_the_gap.append(type(exc).__name__)
        real_swap(where, version)

    monkeypatch.setattr(layout, "point_current_at", swap)
    layout.publish(root, root / ".tmp-v-2", "v-2")
    assert during_the_gap == ["IndexBusy"]
    assert os.readlink(root / CURRENT) == "v-2" and (root / "v-2" / "manifest.json").is_file()
    assert (root / ".tmp-v-3").is_dir(), "B left its temporary untouched, to retry"
    layout.publish(root, root / ".tmp-v-3", "v-3")  # and once A is done, B publishes
    assert os.readlink(root / CURRENT) == "v-3" and sorted(p.name for p in root.glob("v-*")) == ["v-2", "v-3"]


@pytest.mark.slow
def test_two_concurrent_builds_both_succeed_and_leave_a_complete_current(built_index, tmp_path):
    target = _copy_version(built_index, tmp_path).parent
    logs = [tmp_path / f"build-{n}.log" for n in range(2)]
    builds = []
    for log in logs:
        with log.open("w") as handle:
            builds.append(subprocess.Popen([QA, "index", "build", "--corpus", str(CORPUS), "--index", str(target),
                                            "-q", "--no-onnx"], stderr=handle))
    codes = [b.wait(timeout=600) for b in builds]
    assert codes == [0, 0], [log.read_text() for log in logs]
    version = current_version(target)
    assert load_index(target).version == version
    assert not list(target.glob(".tmp-*")) and not list(target.glob(".current-*"))
    assert len(list(target.glob("v-*"))) == 2


def test_a_current_pointing_at_a_missing_version_names_the_index_folder(built_index, tmp_path, embedder):
    """From load_index and from the service (which loads the version its holder read): the
    advice names the index folder, not the missing version's (a build there would nest)."""
    from qa.index.layout import point_current_at
    from qa.service import QAService

    target = _copy_version(built_index, tmp_path).parent
    point_current_at(target, "v-missing")
    expected = f"{target}/current points at v-missing, which is missing: rebuild with `qa index build --index {target}`"
    with pytest.raises(IndexUnavailable) as refused:
        load_index(target)
    assert refused.value.message == expected
    with pytest.raises(IndexUnavailable) as refused:
        QAService(str(target), embedder=embedder, cache_size=0).load(strict=True)
    assert refused.value.message == expected


def test_publishing_removes_links_left_by_a_killed_swap(tmp_path):
    import qa.index.layout as layout

    root = tmp_path / "index"
    root.mkdir()
    (root / ".tmp-v-1").mkdir()
    (root / ".tmp-v-1" / "manifest.json").write_text("{}")
    os.symlink("v-0", root / ".current-dead01")  # a swap killed between symlink and rename
    layout.publish(root, root / ".tmp-v-1", "v-1")
    assert os.readlink(root / CURRENT) == "v-1" and not list(root.glob(".current-*"))


def test_stale_temporaries_and_orphan_locks_go_but_a_running_builds_folder_stays(tmp_path):
    """The build locks before it creates its folder, so a cleaner that sees the folder finds
    the lock taken; a lock whose build died after its rename is removed once free."""
    from qa.index.layout import remove_stale_temporaries, temporary_folder

    (tmp_path / ".tmp-v-killed").mkdir()  # a killed build: folder, no lock held
    (tmp_path / ".tmp-v-renamed.lock").touch()  # a build killed after its rename: lock file only
    with temporary_folder(tmp_path, "v-running") as running:
        remove_stale_temporaries(tmp_path)
        assert running.is_dir() and (tmp_path / ".tmp-v-running.lock").exists()
        assert not (tmp_path / ".tmp-v-killed").exists() and not (tmp_path / ".tmp-v-renamed.lock").exists()


def test_remembered_passage_facts_equal_fresh_ones_and_are_made_once_per_passage(built_index):
    """A Milvus index assembles every question's candidates with a PassageFacts memo: the
    flags must be those a fresh assemble derives, and a passage met again is not re-derived."""
    from qa.index.load import PassageFacts, assemble

    index = load_index(built_index)
    parts = (index.folder, index.manifest, index.documents, index.chunks, index.vectors, index.lexical,
             index.sentence_lexical, index.sentence_vectors, index.sentence_rows, index.speller)
    facts = PassageFacts()
    first, again = assemble(*parts, facts), assemble(*parts, facts)
    for made in (first, again):
        assert np.array_equal(made.non_answer, index.non_answer) and np.array_equal(made.byline, index.byline)
        assert np.array_equal(made.dated_byline, index.dated_byline)
        assert all(np.array_equal(made.has_answer_type[k], v) for k, v in index.has_answer_type.items())
        assert made.sentence_names == index.sentence_names
    assert index.byline.any() and index.non_answer.any()  # the comparison saw both kinds of flag
    chunk = index.chunks[0]
    assert facts.of_chunk(chunk) is facts.of_chunk(chunk)
    small = PassageFacts(limit=1)
    small.of_chunk(index.chunks[0]), small.of_chunk(index.chunks[1]), small.of_chunk(index.chunks[2])
    assert len(small._chunks) <= 1  # bounded: emptied when full


def test_a_build_whose_lock_file_a_cleaner_unlinked_locks_the_new_one_and_keeps_its_folder(tmp_path):
    """The interleaving, forced: a cleaner holds an orphan-looking lock file while a build
    opens it, then unlinks it and lets go. The build must lock the file now at the path, or
    the next cleaner finds that path free and removes the running build's folder."""
    from qa.index.layout import _same_file, remove_stale_temporaries, temporary_folder

    lock = tmp_path / ".tmp-v-racing.lock"
    cleaner = lock.open("a")
    fcntl.flock(cleaner.fileno(), fcntl.LOCK_EX)
    inside, finish, failed = threading.Event(), threading.Event(), []

    def build() -> None:
        try:
            with temporary_folder(tmp_path, "v-racing"):
                inside.set()
                finish.wait(30)
        except BaseException as exc:
            failed.append(exc)
            inside.set()

    def build_has_opened_the_lock() -> bool:
        return sum(os.path.realpath(f"/proc/self/fd/{fd}") == str(lock) for fd in os.listdir("/proc/self/fd")) >= 2

    builder = threading.Thread(target=build, daemon=True)
    builder.start()
    eventually(build_has_opened_the_lock)  # and now waits for the cleaner's lock
    slower = lock.open("a")  # a second cleaner that opened the same file before it went
    lock.unlink()  # what remove_stale_temporaries does to a free lock file without a folder
    cleaner.close()
    assert inside.wait(30) and not failed, failed
    fcntl.flock(slower.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free now: but no longer the file at the path,
    assert not _same_file(lock, slower)  # so that cleaner leaves the path alone (layout._free_lock)
    slower.close()
    remove_stale_temporaries(tmp_path)  # a third cleaner
    try:
        assert (tmp_path / ".tmp-v-racing").is_dir(), "a cleaner removed a running build's folder"
    finally:
        finish.set()
        builder.join(30)
