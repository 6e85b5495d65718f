"""Questions about the document itself, answered from its metadata.

"When was it published?", "Who published the story about the tram?" and "Who wrote the
article?" ask about the document, not its subject. A byline in the text is cited as a
passage (search.py ranks it first), but a date or a publisher is mostly only in the front
matter or the page's meta tags, which no passage holds: without this, the answer was a
passage about something else. The fact is reported beside the passages, named as coming from
the metadata, and it answers the question (verdict.py's ``METADATA_ANSWER``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from .lexical import content_terms
from .query import Query
from .records import Document, DocumentFact

FACT_LABELS = {"author": "Written by", "published": "Published", "publisher": "Published by"}  # page and CLI


TITLE_WEIGHT = 2.0  # a topic word in a document's title or file name, against one in its text


def subject_document(documents: Mapping[str, Document], view: Any, query: Query,
                     doc_ids: Sequence[str]) -> str | None:
    """Which document a question about the document means: the one asked or indexed; else
    the one its topic names ("the **CI** post", "the article about **bike lanes**"): the
    document holding the most of the topic's words, rarity-weighted, in its text or its title
    (or file name), a title's twice a text's ("the live blog" is "Storm Orla live: …", not
    every text saying "live"); two holding them alike ("the article about bike lanes" of two bike lane
    stories) name none, rather than one picked by their length. Not the document of the
    first passage: "Who wrote the post about CI build times?" ranked a sentence about a
    city engineer first, and its article's byline answered. None when the question names no
    topic ("When was it published?" asked of several) or no document holds it.

    ``documents`` are all the index's; ``view`` the index (or Milvus view) searched."""
    if query.about is None:
        return None
    asked = tuple(doc_ids) or tuple(documents)
    if len(asked) == 1:
        return asked[0]
    if not query.topic:
        return None
    weight: dict[str, float] = {}
    wanted = set(asked)
    for term in dict.fromkeys(query.topic):
        titled = {d for d in asked if term in document_terms(documents[d].title, d)}
        holding = titled | {view.chunks[int(c)].doc_id for c in np.flatnonzero(view.lexical.term_matches([term]))} & wanted
        for doc_id in holding:
            weight[doc_id] = weight.get(doc_id, 0.0) + view.lexical.idf(term) * (TITLE_WEIGHT if doc_id in titled else 1)
    ranked = sorted(weight, key=weight.__getitem__, reverse=True)
    if not ranked or (len(ranked) > 1 and weight[ranked[0]] == weight[ranked[1]]):
        return None  # no document, or two alike: naming one would be a guess
    return ranked[0]


@lru_cache(maxsize=None)  # one entry per document, as small as the titles already held in memory
def document_terms(title: str, doc_id: str) -> frozenset[str]:
    """A document's title terms and its file name's ("kenmore-bike-lanes"), read once."""
    return content_terms(f"{title} {doc_id.replace('-', ' ').replace('_', ' ')}")


def document_fact(documents: Mapping[str, Document], query: Query, subject: str | None) -> DocumentFact | None:
    """The asked fact of the ``subject`` document (subject_document), if its metadata holds it."""
    if query.about is None or subject is None:
        return None
    document = documents[subject]
    value = getattr(document, query.about)
    return DocumentFact(document.doc_id, document.title, query.about, value) if value else None
