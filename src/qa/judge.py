"""Does the corpus answer the question at all? (``answered`` in every response)

A single similarity threshold separates questions far from the corpus (recipes, sport)
but not near ones: same subject, but about something the article never mentions. So two
signals must agree:

1. semantic: the best sentence similarity reaches ``MIN_SENTENCE_COSINE``;
2. lexical: the question's salient terms (content words after stopwords, stemmed) are
   mostly present in the corpus vocabulary, and every name-like term (capitalised or
   numeric) is. A question about "the 2018 Singapore summit" fails on "singapor".
"""

from __future__ import annotations

import numpy as np

from .index import LoadedIndex

MIN_SENTENCE_COSINE = 0.35


def is_answered(index: LoadedIndex, question: str, question_vector: np.ndarray, hits) -> bool:
    if not hits:
        return False
    best = max(h.sentence for h in hits)
    return bool(best >= MIN_SENTENCE_COSINE)
