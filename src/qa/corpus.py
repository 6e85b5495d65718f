"""Read a corpus folder into documents (documents.py parses each file).

Every ``*.md``, ``*.markdown``, ``*.txt``, ``*.html`` and ``*.htm`` below the folder is a
document; any other file is skipped with a warning naming it, never silently. Hidden files
and folders are ignored and symlinked folders are not followed. ``qa.toml`` at the top of
the folder is not a document but the page's settings for this corpus (``title``,
``examples``), kept in the index.

Policy for bad files (also in the README): empty files are skipped with a warning; binary
files, invalid UTF-8, malformed front matter, web pages without article text, files over
the size limit, unreadable files, symlink loops and two files with the same ``doc_id`` stop
the build with a ``CorpusError`` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import SUFFIXES, parse_document
from .errors import CorpusError
from .records import Document
from .settings import default

DEFAULT_MAX_FILE_BYTES = default("max_file_bytes")
SETTINGS_FILE = "qa.toml"


@dataclass
class Corpus:
    documents: list[Document]
    files: dict[str, str] = field(default_factory=dict)  # every file read -> sha256, skipped ones too
    warnings: list[str] = field(default_factory=list)
    page: dict[str, Any] = field(default_factory=dict)  # from qa.toml: title, examples


def walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Document files and other files below ``root``, in a stable order (hidden entries
    and the settings file left out)."""
    if not root.is_dir():
        raise CorpusError(str(root), "corpus folder does not exist or is not a folder")
    documents: list[Path] = []
    others: list[Path] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False, onerror=_raise_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(folder) / name
            if name.startswith(".") or path == root / SETTINGS_FILE:
                continue
            (documents if name.lower().endswith(SUFFIXES) else others).append(path)
    return documents, others


def list_files(root: Path) -> list[Path]:
    return walk(root)[0]


def _raise_walk_error(error: OSError) -> None:
    raise CorpusError(str(error.filename), f"cannot read folder ({error.strerror})")


def read_bytes(path: Path, root: Path, max_bytes: int) -> bytes:
    rel = path.relative_to(root).as_posix()
    try:
        info = path.stat()  # follows symlinks; a loop raises ELOOP
    except OSError as exc:
        problem = "symlink loop" if exc.errno == 40 else f"cannot read file ({exc.strerror})"
        raise CorpusError(rel, problem) from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise CorpusError(rel, "not a regular file")
    size = info.st_size
    if size > max_bytes:
        raise CorpusError(rel, f"file is {size} bytes, over the limit of {max_bytes} bytes")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(rel, f"cannot read file ({exc.strerror})") from None


def page_settings(root: Path) -> dict[str, Any]:
    """``qa.toml``: the page's heading (``title``) and example questions (``examples``)."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(SETTINGS_FILE, f"not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"title", "examples"})
    title, examples = data.get("title"), data.get("examples", [])
    if unknown or not isinstance(title, (str, type(None))) or not (
            isinstance(examples, list) and all(isinstance(e, str) and e.strip() for e in examples)):
        raise CorpusError(SETTINGS_FILE, "expected `title = \"…\"` and `examples = [\"…\", …]` only"
                          + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    return {key: value for key, value in (("title", title), ("examples", examples)) if value}


def load_corpus(root: str | os.PathLike[str], *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Corpus:
    root_path = Path(root)
    paths, others = walk(root_path)
    corpus = Corpus(documents=[], page=page_settings(root_path))
    corpus.warnings += [f"{p.relative_to(root_path).as_posix()}: unsupported file type, skipped "
                        f"(documents are {', '.join(SUFFIXES)})" for p in others]
    if corpus.page or (root_path / SETTINGS_FILE).is_file():
        corpus.files[SETTINGS_FILE] = hashlib.sha256((root_path / SETTINGS_FILE).read_bytes()).hexdigest()
    seen: dict[str, str] = {}
    for path in paths:
        rel = path.relative_to(root_path).as_posix()
        raw = read_bytes(path, root_path, max_file_bytes)
        document = parse_document(raw, rel)
        corpus.files[rel] = document.fingerprint if document is not None else hashlib.sha256(raw).hexdigest()
        if document is None:
            corpus.warnings.append(f"{rel}: empty file, skipped")  # the CLI prints these
            continue
        if document.doc_id in seen:
            raise CorpusError(rel, f"doc_id '{document.doc_id}' is already used by {seen[document.doc_id]}")
        seen[document.doc_id] = rel
        corpus.documents.append(document)
    if not corpus.documents:
        raise CorpusError(str(root_path), f"no documents found ({', '.join(SUFFIXES)} with some text)")
    return corpus


def fingerprint_files(root: str | os.PathLike[str]) -> dict[str, str]:
    """Cheap staleness check: sha256 of every document file and the settings file, without parsing."""
    root_path = Path(root)
    result: dict[str, str] = {}
    paths = list_files(root_path) + ([root_path / SETTINGS_FILE] if (root_path / SETTINGS_FILE).is_file() else [])
    for path in paths:
        rel = path.relative_to(root_path).as_posix()
        try:
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            result[rel] = "unreadable"
    return result
