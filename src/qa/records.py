"""Plain data that crosses module boundaries: documents, chunks, passages, answers.

One word per concept: a *chunk* is what is indexed, a *passage* is a chunk returned
for a question, with its rank, score and citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple


class Span(NamedTuple):
    """``[start, end)`` character offsets: of a sentence within its passage, or of a
    passage within its document. The one span type of the package."""

    start: int
    end: int

    def to_json(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str  # relative to the corpus folder, POSIX separators
    title: str
    text: str  # canonical text: the body exactly, only "\r\n" -> "\n"
    metadata: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""  # sha256 of the raw file bytes

    @property
    def author(self) -> str | None:
        return _as_text(self.metadata.get("author"))

    @property
    def publisher(self) -> str | None:
        return _as_text(self.metadata.get("publisher"))

    @property
    def published(self) -> str | None:
        return _as_text(self.metadata.get("published") or self.metadata.get("date"))

    @property
    def source(self) -> str | None:
        return _as_text(self.metadata.get("source") or self.metadata.get("url"))

    @property
    def is_markdown(self) -> bool:
        return self.path.lower().endswith((".md", ".markdown"))

    def summary(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "path": self.path,
            "author": self.author,
            "publisher": self.publisher,
            "published": self.published,
            "source": self.source,
            "metadata": {k: _jsonable(v) for k, v in self.metadata.items()},
            "length": len(self.text),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Chunk:
    """A span of one document that is embedded and indexed; row ``chunk_id`` in FAISS."""

    chunk_id: int
    doc_id: str
    paragraph: int  # 1-based, blocks separated by blank lines
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...] = ()  # sentence spans, offsets within ``text``
    anchors: tuple[int, ...] = (0,)  # the sentences (indexes into ``sentences``) this window is built around

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentences"] = [list(s) for s in self.sentences]
        data["anchors"] = list(self.anchors)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Chunk":
        return cls(
            chunk_id=int(data["chunk_id"]),
            doc_id=str(data["doc_id"]),
            paragraph=int(data["paragraph"]),
            start=int(data["start"]),
            end=int(data["end"]),
            text=str(data["text"]),
            sentences=tuple(Span(int(a), int(b)) for a, b in data.get("sentences", ())),
            anchors=tuple(int(a) for a in data.get("anchors", (0,))),
        )


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    author: str | None
    publisher: str | None
    published: str | None
    source: str | None
    paragraph: int
    start: int
    end: int
    section: str | None = None  # the headings above the passage ("2.4.0 — 2025-05-20 › Added"; sections.py)


@dataclass(frozen=True)
class Passage:
    rank: int
    score: float
    text: str
    citation: Citation
    highlight: Span | None = None
    scores: dict[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "text": self.text,
            "highlight": self.highlight.to_json() if self.highlight is not None else None,
            "citation": asdict(self.citation),
        }
        if self.scores is not None:
            data["scores"] = {k: round(v, 6) for k, v in self.scores.items()}
        return data


@dataclass(frozen=True)
class DocumentFact:
    """A fact of the document itself, from its metadata (front matter, an HTML page's meta
    tags, a byline opening a text: bylines.py): what answers "When was it published?", which
    no passage holds (facts.py)."""

    doc_id: str
    title: str
    field: str  # "author", "published" or "publisher"
    value: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class AskRequest:
    """A question with its options, already validated (schemas.py)."""

    question: str
    k: int
    mode: str
    doc_ids: tuple[str, ...] = ()  # only passages of these documents; () = every document


@dataclass(frozen=True)
class Answer:
    question: str
    k: int
    mode: str
    confidence: float  # the fitted probability that the first passage answers (verdict.py)
    verdict: str  # "answered", "uncertain" or "not_found", from the confidence
    passages: list[Passage]
    took_ms: float
    index_version: str = ""
    corrected: str | None = None  # the question as searched: misspelled words corrected, capitals as countries
    doc_ids: tuple[str, ...] = ()  # the documents asked, () = all
    cached: bool = False
    document_fact: DocumentFact | None = None  # for a question about the document itself (facts.py)
    features: dict[str, float] = field(default_factory=dict)  # the verdict's inputs (for fitting; not in JSON)

    @property
    def answered(self) -> bool:
        """The first passage answers, or the document's metadata does (``document_fact``)."""
        return self.verdict == "answered"

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "k": self.k,
            "mode": self.mode,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "verdict": self.verdict,
            "corrected": self.corrected,
            "doc_id": list(self.doc_ids) or None,
            "document_fact": self.document_fact.to_json() if self.document_fact is not None else None,
            "passages": [p.to_json() for p in self.passages],
            "took_ms": round(self.took_ms, 3),
            "index_version": self.index_version,
        }


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)  # dates and anything else YAML produced
