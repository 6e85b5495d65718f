"""Questions about the document itself, answered from its metadata.

"When was it published?", "Who published the story about the tram?" and "Who wrote the
article?" ask about the document, not its subject. A byline in the text is cited as a
passage (search.py ranks it first), but a date or a publisher is mostly only in the front
matter or the page's meta tags, which no passage holds: without this, the answer was a
passage about something else. The fact is reported beside the passages, named as coming from
the metadata, and it answers the question (verdict.py's ``METADATA_ANSWER``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .query import Query
from .records import Document, DocumentFact

FACT_LABELS = {"author": "Written by", "published": "Published", "publisher": "Published by"}  # page and CLI


def document_fact(documents: Mapping[str, Document], view: Any, query: Query, hits: Sequence[Any],
                  doc_ids: Sequence[str]) -> DocumentFact | None:
    """The asked fact of the document the question is about, if its metadata holds it.

    ``documents`` are all the index's; ``view`` the index (or Milvus view) the ``hits`` came from.
    """
    if query.about is None:
        return None
    subject = _subject(documents, view, query, hits, doc_ids)
    if subject is None:
        return None
    document = documents[subject]
    value = getattr(document, query.about)
    return DocumentFact(document.doc_id, document.title, query.about, value) if value else None


def _subject(documents: Mapping[str, Document], view: Any, query: Query, hits: Sequence[Any],
             doc_ids: Sequence[str]) -> str | None:
    """The one document asked or indexed; else, when the question names a topic ("the story
    about the tram"), the document of its first passage. "When was it published?" asked of
    several documents names none, and is left unanswered rather than answered at random."""
    asked = tuple(doc_ids) or tuple(documents)
    if len(asked) == 1:
        return asked[0]
    if query.topic and hits:
        return view.chunks[hits[0].chunk_id].doc_id
    return None
