"""`qa index build` on a corpus of hostile files (issue 6), through the real CLI.

Policy (corpus.py, README): empty files are skipped with a warning; every other bad file
stops the build with exit status != 0 and exactly one stderr line
``qa: error: <file>: <problem>``, and the index that was there before is untouched.

The "previous" index is built once per module, in process, with the session embedder;
each case copies a small good corpus, adds one hostile file and runs the real ``qa``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from servers import QA

pytestmark = pytest.mark.slow  # real servers, subprocesses or external tools: not in `make test-fast`

GOOD_TEXT = (
    "---\ntitle: Good document\nauthor: Test Author\n---\n"
    "The Korean War armistice was signed on July 27, 1953, at Panmunjom.\n\n"
    "South Korea did not sign it, because Syngman Rhee wanted to unify the peninsula.\n"
)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _good_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.md").write_text(GOOD_TEXT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def previous_index(tmp_path_factory, embedder, token_counter) -> Path:
    """A good index, built in process; every failing build below must leave it alone."""
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index

    root = tmp_path_factory.mktemp("hostile")
    corpus = _good_corpus(root / "good-corpus")
    index = root / "index"
    build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(), count_tokens=token_counter)
    return index


def snapshot(index: Path) -> dict[str, tuple]:
    """Every entry below the index folder (symlinks not followed): what a build may not touch."""
    result = {}
    for path in sorted(index.rglob("*")):
        stat = path.lstat()
        target = os.readlink(path) if path.is_symlink() else None
        result[path.relative_to(index).as_posix()] = (stat.st_mode, stat.st_size, stat.st_mtime_ns, target)
    return result


def build(corpus: Path, index: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([QA, "index", "build", "--corpus", str(corpus), "--index", str(index), "--quiet", *extra],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_refused(result: subprocess.CompletedProcess, previous_index: Path, before: dict, *names: str,
                   problem: str | None = None) -> str:
    """Exit != 0, exactly one line ``qa: error: ...`` naming the file, the old index intact."""
    from qa.index.layout import current_version
    from qa.index.load import load_index

    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    line = lines[0]
    assert line.startswith("qa: error: "), line
    for name in names:
        assert name in line, (name, line)
    if problem is not None:
        assert problem in line, (problem, line)
    after = snapshot(previous_index)
    assert after == before, "the failed build changed the index folder"
    version = current_version(previous_index)
    assert version == before["current"][3]
    assert load_index(previous_index).version == version
    return line


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return _good_corpus(tmp_path / "corpus")


@pytest.fixture()
def before(previous_index) -> dict:
    state = snapshot(previous_index)
    assert "current" in state
    return state


# -- skipped with a warning -----------------------------------------------------------------
def test_empty_file_is_skipped_with_a_warning_and_the_build_succeeds(corpus, tmp_path):
    from qa.index.load import load_index

    (corpus / "empty.md").write_bytes(b"")
    index = tmp_path / "index"
    result = build(corpus, index)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["qa: warning: empty.md: empty file, skipped"]
    loaded = load_index(index)
    assert [d["path"] for d in loaded.manifest["documents"]] == ["good.md"]
    assert "empty.md: empty file, skipped" in loaded.manifest["corpus"]["warnings"]


def test_corpus_of_only_empty_files_fails(tmp_path, previous_index, before):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "blank.txt").write_text("\n  \n\t\n")
    result = build(corpus, previous_index)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("qa: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("qa: error: ") and "no documents" in lines[0], result.stderr
    assert snapshot(previous_index) == before


# -- refused: one line naming the file, old index untouched ---------------------------------
def test_binary_file(corpus, previous_index, before):
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)))
    assert_refused(build(corpus, previous_index), previous_index, before, "image.md", problem="binary")


def test_invalid_utf8(corpus, previous_index, before):
    (corpus / "latin1.txt").write_bytes("Café au lait, déjà vu.\n".encode("latin-1"))
    assert_refused(build(corpus, previous_index), previous_index, before, "latin1.txt", problem="UTF-8")


def test_invalid_utf8_late_in_the_file(corpus, previous_index, before):
    (corpus / "late.md").write_bytes(b"Plain text. " * 2000 + b"\xc3\x28 broken sequence\n")
    assert_refused(build(corpus, previous_index), previous_index, before, "late.md", problem="UTF-8")


MALFORMED_FRONT_MATTER = {
    "unclosed bracket": "---\ntitle: [unclosed\n---\nBody text.\n",
    "never closed": "---\ntitle: Never closed\nBody text that goes on.\n",
    "a list, not a mapping": "---\n- one\n- two\n---\nBody text.\n",
    "bad indentation": "---\ntitle: x\n  author: y\n bad: : :\n---\nBody text.\n",
    "python object tag": "---\ntitle: !!python/object/apply:os.system ['touch /tmp/qa-pwned']\n---\nBody.\n",
    "tab indentation": "---\nmeta:\n\t- a\n---\nBody text.\n",
}


@pytest.mark.parametrize("text", MALFORMED_FRONT_MATTER.values(), ids=MALFORMED_FRONT_MATTER.keys())
def test_malformed_front_matter(corpus, previous_index, before, text):
    (corpus / "broken.md").write_text(text, encoding="utf-8")
    assert_refused(build(corpus, previous_index), previous_index, before, "broken.md", problem="front matter")
    assert not Path("/tmp/qa-pwned").exists()


def test_file_over_max_file_bytes(corpus, previous_index, before):
    (corpus / "big.md").write_text("A sentence about the armistice. " * 100)  # 3200 bytes
    result = build(corpus, previous_index, "--max-file-bytes", "1000")
    assert_refused(result, previous_index, before, "big.md", problem="limit")


def test_file_at_max_file_bytes_is_accepted(corpus):
    from qa.corpus import load_corpus

    size = (corpus / "good.md").stat().st_size  # the limit is inclusive (checked in process: no model needed)
    assert [d.path for d in load_corpus(corpus, max_file_bytes=size).documents] == ["good.md"]


def test_two_files_with_the_same_doc_id_in_front_matter(corpus, previous_index, before):
    (corpus / "one.md").write_text("---\nid: same-id\n---\nFirst text.\n")
    (corpus / "two.md").write_text("---\nid: same-id\n---\nSecond text.\n")
    line = assert_refused(build(corpus, previous_index), previous_index, before, "two.md", "one.md",
                          problem="same-id")
    assert "already used" in line


def test_two_files_whose_names_slugify_to_the_same_doc_id(corpus, previous_index, before):
    (corpus / "News").mkdir()
    (corpus / "News" / "Korea War.md").write_text("First text.\n")
    (corpus / "news-korea-war.md").write_text("Second text.\n")
    assert_refused(build(corpus, previous_index), previous_index, before, "News/Korea War.md", "news-korea-war.md",
                   problem="news-korea-war")


def test_symlink_loop(corpus, previous_index, before):
    os.symlink("b.md", corpus / "a.md")
    os.symlink("a.md", corpus / "b.md")
    assert_refused(build(corpus, previous_index), previous_index, before, "a.md", problem="symlink loop")


def test_self_referencing_symlink(corpus, previous_index, before):
    os.symlink("self.md", corpus / "self.md")
    assert_refused(build(corpus, previous_index), previous_index, before, "self.md", problem="symlink loop")


def test_dangling_symlink(corpus, previous_index, before):
    os.symlink("does-not-exist.md", corpus / "gone.md")
    assert_refused(build(corpus, previous_index), previous_index, before, "gone.md")


@pytest.mark.skipif(IS_ROOT, reason="root reads mode-000 files; the dangling symlink case covers unreadable files")
def test_unreadable_file(corpus, previous_index, before):
    secret = corpus / "secret.md"
    secret.write_text("You cannot read this.\n")
    secret.chmod(0)
    try:
        assert_refused(build(corpus, previous_index), previous_index, before, "secret.md")
    finally:
        secret.chmod(0o644)


@pytest.mark.skipif(IS_ROOT, reason="root reads mode-000 folders")
def test_unreadable_folder(corpus, previous_index, before):
    folder = corpus / "locked"
    folder.mkdir()
    (folder / "inside.md").write_text("Hidden.\n")
    folder.chmod(0)
    try:
        assert_refused(build(corpus, previous_index), previous_index, before, "locked")
    finally:
        folder.chmod(0o755)


def test_named_pipe_fails_instead_of_hanging(corpus, previous_index, before):
    """A FIFO named *.md has size 0 and blocks forever on open: the build must refuse it
    (it is not a regular file), not hang."""
    os.mkfifo(corpus / "pipe.md")
    try:
        result = build(corpus, previous_index, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("qa index build hung on a named pipe (corpus/pipe.md) for 10 s")
    assert_refused(result, previous_index, before, "pipe.md")


def test_file_name_with_a_newline_still_gives_one_line(corpus, previous_index, before):
    (corpus / "evil\nname.md").write_bytes(b"\xff\xfe not utf-8")
    assert_refused(build(corpus, previous_index), previous_index, before, "evil", "name.md", problem="UTF-8")


YAML_BOMB = "---\n" + "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] +
    [f"{b}: &{b} [{','.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]) + "\n---\nBody.\n"


def test_yaml_alias_bomb_in_front_matter_is_refused_at_once(corpus, previous_index, before):
    assert len(YAML_BOMB.encode()) < 400  # nine anchors of nine aliases: 9**9 strings once expanded
    (corpus / "bomb.md").write_text(YAML_BOMB)
    result = build(corpus, previous_index, timeout=60)  # expanding it took minutes and 11 GB
    assert_refused(result, previous_index, before, "bomb.md", problem="anchors or aliases")


def test_a_nul_byte_anywhere_in_the_file_is_refused(corpus, previous_index, before):
    (corpus / "late-nul.md").write_bytes(b"The armistice was signed. " * 400 + b"The armistice\x00 was signed.")
    assert_refused(build(corpus, previous_index), previous_index, before, "late-nul.md", problem="NUL")
