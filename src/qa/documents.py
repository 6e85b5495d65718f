"""One file's bytes into a Document whose canonical text every citation offset refers to.

* Markdown and text (``.md``, ``.markdown``, ``.txt``): the body exactly as in the file, after
  optional YAML front matter (python-frontmatter's YAML handler finds it; the body after the
  closing ``---`` line is kept byte for byte, only ``\\r\\n`` becomes ``\\n``). The title is the
  front matter's ``title``; without one, a Markdown file's opening level-1 heading, or a
  ``.txt`` file's first line when a blank line follows it (a headline); both stay in the
  text; else the file name.
* Saved web pages (``.html``, ``.htm``): the article's extracted text and metadata
  (html_documents.py).
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import re
import unicodedata
from typing import Any

from frontmatter.default_handlers import YAMLHandler

from .bylines import byline_metadata, field_metadata, mail_metadata
from .errors import CorpusError
from .furniture import is_field_line
from .markdown import opening_heading
from .records import Document

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
_YAML = YAMLHandler()
_HEADLINE = re.compile(r"\A[ \t]*(\S[^\n]{0,200}?)[ \t]*\n[ \t]*\n")
# a headline over a standfirst or a field ("Oral History Project: The Brennmoor Plant" over
# "Interview with Dr. Chidinma Okafor"; "Thread: Kombucha SCOBY sinking - help?" over "Board: …")
_HEADLINE_OVER_A_LINE = re.compile(r"\A[ \t]*(\w[^\n]{0,200}?(?<![.,;:]))[ \t]*\n[ \t]*\w[^\n]{0,200}\n[ \t]*\n")
_TITLE_FIELD = re.compile(r"^(?:title|subject|thread|topic):\s*(?=\S)", re.IGNORECASE)


def slugify(relative_path: str) -> str:
    """Stable, URL-safe id from a relative path: ``News/Korea War.md`` -> ``news-korea-war``."""
    stem = relative_path.rsplit(".", 1)[0] if "." in relative_path.rsplit("/", 1)[-1] else relative_path
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:  # a name with no ASCII letters at all: fall back to a short hash
        slug = "doc-" + hashlib.sha256(relative_path.encode("utf-8")).hexdigest()[:10]
    return slug


def parse_document(raw: bytes, relative_path: str) -> Document | None:
    """Turn file bytes into a Document; ``None`` for an empty file (skipped by policy)."""
    if relative_path.lower().endswith(HTML_SUFFIXES):
        return _html_document(raw, relative_path)
    if _utf16_text(raw):  # Notepad's "Unicode": text, but not UTF-8
        raise CorpusError(relative_path, "UTF-16 text (its byte order mark says so); save it as UTF-8 to index it")
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
    metadata = normalised_metadata(metadata, relative_path)
    from_byline = byline_metadata(body) or mail_metadata(body)
    if "published" not in from_byline:  # a judgment's "Date: 17 November 2023"
        from_byline.update(field_metadata(body))
    if metadata.get("published") is not None or metadata.get("date") is not None:
        from_byline.pop("published", None)  # the front matter's date, under either name, wins
    metadata = {**from_byline, **metadata}
    return _document(relative_path, body, metadata, raw, _title(relative_path, body, metadata))


def _utf16_text(raw: bytes) -> bool:
    """UTF-16 with its byte order mark, and text once decoded (not binary that opens with those bytes)."""
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    try:
        text = raw.decode("utf-16")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\n\r\t" for c in text)


def _title(relative_path: str, body: str, metadata: dict[str, Any]) -> str:
    if metadata.get("title") not in (None, ""):
        return str(metadata["title"]).strip()
    if relative_path.lower().endswith(".txt"):
        headline = _HEADLINE.match(body) or _HEADLINE_OVER_A_LINE.match(body)
        fields = headline is not None and all(is_field_line(line) for line in headline.group().strip().splitlines())
        if headline and (_TITLE_FIELD.match(headline.group(1)) or not fields):  # a block of fields: a title's only
            return _TITLE_FIELD.sub("", headline.group(1))
    else:
        heading = opening_heading(body)
        if heading is not None:
            return heading
    return relative_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _html_document(raw: bytes, relative_path: str) -> Document | None:
    from .html_documents import extract

    if not raw.strip():
        return None
    page = extract(raw)
    if page is None:
        raise CorpusError(relative_path, "no article text could be extracted from this web page")
    title = str(page.metadata.get("title") or relative_path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return _document(relative_path, page.text, page.metadata, raw, title)


def _document(relative_path: str, text: str, metadata: dict[str, Any], raw: bytes, title: str) -> Document:
    return Document(
        doc_id=str(metadata.get("id") or slugify(relative_path)),
        path=relative_path,
        title=title,
        text=text,
        metadata=metadata,
        fingerprint=hashlib.sha256(raw).hexdigest(),
    )


_SHOWN_KEYS = ("id", "title", "author", "publisher", "published", "date", "source", "url")  # what citations show
_PARTIAL_DATE = re.compile(r"\d{4}(?:-\d{2})?")  # a year, or a year and month: kept as written


def normalised_metadata(metadata: dict[str, Any], relative_path: str) -> dict[str, Any]:
    """The front matter keys a citation shows, in one form: ``authors`` is ``author``; a list
    of authors is one line, "A, B"; a date is ``YYYY-MM-DD``. A value of another shape (a
    mapping, a list of title words, "not a date") stops the build with a line naming the file,
    rather than showing a Python repr in every citation. Other keys are kept as they are."""
    metadata = dict(metadata)
    if "authors" in metadata and metadata.get("author") is None:
        metadata["author"] = metadata.pop("authors")
    author = metadata.get("author")
    if isinstance(author, list) and all(_is_scalar(name) for name in author):
        metadata["author"] = ", ".join(str(name).strip() for name in author if str(name).strip())
    for key in _SHOWN_KEYS:
        value = metadata.get(key)
        if value is not None and not _is_scalar(value):
            shape = "text or a list of names" if key == "author" else "text"
            raise CorpusError(relative_path, f"front matter '{key}' must be {shape}, not a {_yaml_kind(value)}")
    for key in ("published", "date"):
        if metadata.get(key) is not None:
            metadata[key] = _iso_date(metadata[key], key, relative_path)
    return metadata


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, datetime.date)) and not isinstance(value, bool)


def _yaml_kind(value: Any) -> str:
    return {dict: "mapping", list: "list", bool: "true/false"}.get(type(value), type(value).__name__)


def _iso_date(value: Any, key: str, relative_path: str) -> str:
    """YAML gives a date or a datetime for ``2018-04-26`` or ``2018-04-26 10:30:00``; a quoted
    one is text. Both become ``2018-04-26``; a bare year or year-month stays as written."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    written = str(value).strip()
    if _PARTIAL_DATE.fullmatch(written):
        return written
    try:
        return datetime.datetime.fromisoformat(written.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise CorpusError(relative_path, f"front matter '{key}' is not a date (YYYY-MM-DD): {written[:40]!r}") from None


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
