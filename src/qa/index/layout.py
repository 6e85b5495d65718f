"""The on-disk format of an index version: file names, the ``current`` pointer, the
manifest and the checks that refuse a truncated, corrupted or foreign version."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import IndexMismatch, IndexUnavailable

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
KEEP_VERSIONS = 2


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


def remove_stale_temporaries(root: Path) -> None:
    """Leftovers of killed builds; a temporary is never read, so removing it is safe."""
    for path in root.glob(".tmp-*"):
        if time.time() - path.stat().st_mtime > 60:
            shutil.rmtree(path, ignore_errors=True)


def remove_old_versions(root: Path, keep: int = KEEP_VERSIONS) -> None:
    current = current_version(root)
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    for path in versions[:-keep]:
        if path.name != current:
            shutil.rmtree(path, ignore_errors=True)
