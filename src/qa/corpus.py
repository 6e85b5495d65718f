"""Read a corpus folder into documents whose canonical text is the file body exactly.

Every ``*.md`` and ``*.txt`` below the folder is a document. YAML front matter is
optional and parsed by python-frontmatter's YAML handler; the body after the closing
``---`` line is kept byte for byte (only ``\\r\\n`` becomes ``\\n``), because every
citation offset refers to it.

Policy for bad files (also in the README): empty files are skipped with a warning;
binary files, invalid UTF-8, malformed front matter, files over the size limit,
unreadable files, symlink loops and two files with the same ``doc_id`` stop the build
with a ``CorpusError`` naming the file. Hidden files and folders are ignored, and
symlinked folders are not followed.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontmatter.default_handlers import YAMLHandler

from .errors import CorpusError
from .records import Document
from .settings import default

SUFFIXES = (".md", ".txt")
DEFAULT_MAX_FILE_BYTES = default("max_file_bytes")
_YAML = YAMLHandler()


@dataclass
class Corpus:
    documents: list[Document]
    files: dict[str, str] = field(default_factory=dict)  # every file read -> sha256, skipped ones too
    warnings: list[str] = field(default_factory=list)


def slugify(relative_path: str) -> str:
    """Stable, URL-safe id from a relative path: ``News/Korea War.md`` -> ``news-korea-war``."""
    stem = relative_path.rsplit(".", 1)[0] if "." in relative_path.rsplit("/", 1)[-1] else relative_path
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:  # a name with no ASCII letters at all: fall back to a short hash
        slug = "doc-" + hashlib.sha256(relative_path.encode("utf-8")).hexdigest()[:10]
    return slug


def list_files(root: Path) -> list[Path]:
    """Document files below ``root`` in a stable order (hidden entries skipped)."""
    if not root.is_dir():
        raise CorpusError(str(root), "corpus folder does not exist or is not a folder")
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False, onerror=_raise_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            found.append(Path(folder) / name)
    return found


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


def parse_document(raw: bytes, relative_path: str) -> Document | None:
    """Turn file bytes into a Document; ``None`` for an empty file (skipped by policy)."""
    if b"\x00" in raw:  # anywhere: a NUL late in a file would be indexed and returned
        raise CorpusError(relative_path, "binary file (contains NUL bytes); only UTF-8 text is indexed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(relative_path, f"not valid UTF-8 (byte {exc.start})") from None
    text = text.replace("\r\n", "\n")
    metadata, body = split_front_matter(text, relative_path)
    if not body.strip():
        return None
    name = relative_path.rsplit("/", 1)[-1]
    title = metadata.get("title")
    title = str(title).strip() if title not in (None, "") else name.rsplit(".", 1)[0]
    return Document(
        doc_id=str(metadata.get("id") or slugify(relative_path)),
        path=relative_path,
        title=title,
        text=body,
        metadata=metadata,
        fingerprint=hashlib.sha256(raw).hexdigest(),
    )


def _refuse_aliases(front_matter: str, relative_path: str) -> None:
    """Anchors and aliases let a few hundred bytes of YAML expand into gigabytes (a "billion
    laughs" bomb); metadata never needs them, so they are refused by reading the YAML event
    stream, which costs time linear in the text."""
    import yaml

    try:
        for event in yaml.parse(front_matter, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise CorpusError(relative_path, "front matter uses YAML anchors or aliases (&name, *name), "
                                                 "which are not allowed")
    except yaml.YAMLError:
        return  # malformed: the loader below reports it


def split_front_matter(text: str, relative_path: str) -> tuple[dict[str, Any], str]:
    """Metadata and the exact body. The body starts after the closing delimiter's line."""
    if not _YAML.detect(text):
        return {}, text
    boundaries = list(_YAML.FM_BOUNDARY.finditer(text))
    if len(boundaries) < 2:
        raise CorpusError(relative_path, "front matter opened with '---' but never closed")
    opening, closing = boundaries[0], boundaries[1]
    _refuse_aliases(text[opening.end() : closing.start()], relative_path)
    try:
        metadata = _YAML.load(text[opening.end() : closing.start()])
    except Exception as exc:  # yaml.YAMLError and its many subclasses
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorpusError(relative_path, f"malformed YAML front matter ({first_line})") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise CorpusError(relative_path, "front matter must be a YAML mapping (key: value lines)")
    line_end = text.find("\n", closing.start())
    body = "" if line_end == -1 else text[line_end + 1 :]
    return {str(k): v for k, v in metadata.items()}, body


def load_corpus(root: str | os.PathLike[str], *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Corpus:
    root_path = Path(root)
    documents: list[Document] = []
    warnings: list[str] = []
    files: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in list_files(root_path):
        rel = path.relative_to(root_path).as_posix()
        raw = read_bytes(path, root_path, max_file_bytes)
        files[rel] = hashlib.sha256(raw).hexdigest()
        document = parse_document(raw, rel)
        if document is None:
            warnings.append(f"{rel}: empty file, skipped")  # the CLI prints these
            continue
        if document.doc_id in seen:
            raise CorpusError(rel, f"doc_id '{document.doc_id}' is already used by {seen[document.doc_id]}")
        seen[document.doc_id] = rel
        documents.append(document)
    if not documents:
        raise CorpusError(str(root_path), "no documents found (*.md or *.txt with some text)")
    return Corpus(documents=documents, files=files, warnings=warnings)


def fingerprint_files(root: str | os.PathLike[str]) -> dict[str, str]:
    """Cheap staleness check: sha256 of every document file, without parsing."""
    root_path = Path(root)
    result: dict[str, str] = {}
    for path in list_files(root_path):
        rel = path.relative_to(root_path).as_posix()
        try:
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            result[rel] = "unreadable"
    return result
