"""The on-disk format of an index version: file names, the ``current`` pointer, the
manifest and the checks that refuse a truncated, corrupted or foreign version."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from ..errors import IndexBusy, IndexMismatch, IndexUnavailable
from .manifest import first_problem

FORMAT_VERSION = 4  # 2: sentence windows, sentence_rows.npy; 3: bm25_sentences/; 4: vocabulary.json
CURRENT = "current"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
BM25 = "bm25"
SENTENCE_BM25 = "bm25_sentences"
SENTENCES = "sentences.npy"
SENTENCE_ROWS = "sentence_rows.npy"
VOCABULARY = "vocabulary.json"
ENCODERS = "encoders"
LOCK = ".lock"
LOCK_TIMEOUT = 600.0  # seconds a build waits for another build to finish publishing


def current_version(index_dir: str | os.PathLike[str]) -> str | None:
    """The version ``current`` points at; a cheap check used for live reloads."""
    try:
        return os.readlink(Path(index_dir) / CURRENT)
    except OSError:
        return None


def resolve_folder(index_dir: str | os.PathLike[str]) -> Path:
    """The version folder to read: ``index_dir`` itself when it is one, else ``current``."""
    root = Path(index_dir)
    if (root / MANIFEST).is_file():  # pointed straight at one version
        return root
    version = current_version(root)
    if version is None:
        if root.name.startswith("v-") and current_version(root.parent) is not None:  # a version, not an index
            raise IndexUnavailable(f"{root}: manifest.json is missing; rebuild with "
                                   f"`qa index build --index {root.parent}`")
        raise IndexUnavailable(f"no index in {root}: build one with `qa index build --index {root}`")
    return version_folder(root, version)


def version_folder(index_dir: str | os.PathLike[str], version: str) -> Path:
    """The folder of ``version`` (as ``current`` named it), or why there is none."""
    root = Path(index_dir)
    if not (root / version).is_dir():
        raise IndexUnavailable(f"{root}/current points at {version}, which is missing: rebuild with "
                               f"`qa index build --index {root}`")
    return root / version


def read_manifest(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the version ``index_dir`` names, checked for its format and shape."""
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
    problem = first_problem(manifest)
    if problem is not None:
        raise IndexUnavailable(f"{folder}/manifest.json is malformed ({problem}); rebuild the index")
    return manifest


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a version but the manifest, which records them."""
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            result[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def verify_checksums(folder: Path, expected: dict[str, str]) -> None:
    for name, digest in expected.items():
        try:
            actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        except OSError:
            raise IndexUnavailable(f"{folder}: {name} is missing; rebuild the index") from None
        if actual != digest:
            raise IndexUnavailable(f"{folder}: {name} is corrupted or truncated (checksum mismatch); rebuild the index")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def point_current_at(root: Path, version: str) -> None:
    """Swap ``current`` atomically: a new symlink under a temporary name, then rename."""
    link = root / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    os.symlink(version, link)
    os.replace(link, root / CURRENT)


@contextmanager
def index_lock(root: Path, timeout: float | None = None) -> Iterator[None]:
    """An exclusive lock on the index folder (``flock`` on ``DIR/.lock``, released by the
    kernel if the holder dies): builds publish, swap and clean up one at a time."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    with (root / LOCK).open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy(f"{root} is locked by another build for over {timeout:g} s; try again") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def publish(root: Path, temporary: Path, version: str) -> None:
    """Rename a finished temporary to its version, point ``current`` at it (an atomic
    rename) and clean up, all under the index lock (two builds never interleave here)."""
    with index_lock(root):
        previous = current_version(root)
        os.rename(temporary, root / version)
        point_current_at(root, version)
        remove_old_versions(root, keep={version, previous})
        for link in root.glob(f".{CURRENT}-*"):  # left by a swap that was killed half-way
            link.unlink(missing_ok=True)


@contextmanager
def temporary_folder(root: Path, version: str) -> Iterator[Path]:
    """A folder to write a version into, removed if the build fails; while the build runs
    it holds a lock on it, so that no other build mistakes it for a killed build's leftover."""
    temporary = root / f".tmp-{version}"
    with _locked_file(root / f".tmp-{version}.lock") as handle:
        temporary.mkdir()  # only once locked: a cleaner that sees the folder finds its lock taken
        try:
            yield temporary
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        finally:
            Path(handle.name).unlink(missing_ok=True)


@contextmanager
def _locked_file(path: Path) -> Iterator[IO[str]]:
    """``path`` opened and locked, still the file at ``path`` once locked. A cleaner may
    take an orphan lock file and unlink it between our open and our flock: we would then
    hold a lock on a file nobody else can open, and a later cleaner would find the path's
    new file free and remove our folder. So: lock, check the inode, and try again."""
    while True:
        handle = path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if _same_file(path, handle):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()
    with handle:
        yield handle


def _same_file(path: Path, handle: IO[str]) -> bool:
    try:
        at_path, held = os.stat(path), os.fstat(handle.fileno())
    except FileNotFoundError:
        return False
    return (at_path.st_dev, at_path.st_ino) == (held.st_dev, held.st_ino)


def remove_stale_temporaries(root: Path) -> None:
    """Leftovers of killed builds (their lock is free); a temporary is never read, so
    removing it is safe. A running build's temporary is locked and left alone."""
    for path in root.glob(".tmp-*"):
        if path.suffix == ".lock":
            if not path.with_suffix("").exists():  # a build killed after its rename left only its lock
                with _free_lock(path) as free:
                    if free:  # else a build between its lock and its mkdir
                        path.unlink(missing_ok=True)
            continue
        with _free_lock(root / f"{path.name}.lock") as free:
            if free:  # else a build is writing it
                shutil.rmtree(path, ignore_errors=True)
                (root / f"{path.name}.lock").unlink(missing_ok=True)


@contextmanager
def _free_lock(path: Path) -> Iterator[bool]:
    """Whether the lock file at ``path`` was free, held while the block runs. The file
    locked must still be the one at the path: another cleaner may have unlinked it and a
    build made a new one there, which unlinking would take from that build."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield _same_file(path, handle)


def versions_built_after(root: str | os.PathLike[str], built_at: str | None, exclude: str | None) -> list[str]:
    """The version folders built after ``built_at`` (all when None), newest first, by their
    manifests' ``built_at`` (names do not order builds of one second); ``exclude`` left out.
    What a server may fall back to when ``current`` names a version it refuses."""
    found = []
    for path in Path(root).glob("v-*"):
        if not path.is_dir() or path.name == exclude:
            continue
        try:
            built = str(json.loads((path / MANIFEST).read_text(encoding="utf-8"))["built_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if built_at is None or built > built_at:
            found.append((built, path.name))
    return [name for _, name in sorted(found, reverse=True)]


def remove_old_versions(root: Path, keep: set[str | None]) -> None:
    """Remove every version but ``keep`` (the one just published and the one it replaced,
    for a rollback). Called under the index lock, where no other build sits between its
    rename and its swap: every other version was published earlier (or never, if killed),
    so none is newer than ``current``. Version names do not order builds of one second."""
    for path in root.glob("v-*"):
        if path.is_dir() and path.name not in keep and path.name != current_version(root):
            shutil.rmtree(path, ignore_errors=True)
