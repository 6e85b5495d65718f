"""Does the corpus answer the question at all? (``answered`` in every response)

A single similarity threshold separates questions far from the corpus (recipes, sport,
the weather) but not near ones: the same subject, but about something the article never
mentions (the war's death toll, the 2019 Hanoi summit, MacArthur). Near questions
still score a fair cosine, because the subject words match. What gives them away is a
*salient* term the corpus does not contain at all. So:

Each salient content word (stemmed, question words removed) missing from the corpus
raises the semantic evidence required, and a missing *name* (a capitalised word or a
number: someone or something the corpus never names) raises it more. The best sentence
cosine must reach ``BASE_COSINE + PER_MISSING_TERM * missing + PER_UNKNOWN_NAME *
unknown names``. With nothing missing only the far threshold applies; a question whose
names the corpus lacks needs a near-paraphrase ("When did Pyongyang declare the
armistice invalid?" still passes: the answering sentence says "North Korea" and scores
0.79).

Both constants were chosen on our own question sets (eval/on_topic.jsonl, far.jsonl,
near.jsonl; README has the trade-off) and are the same for every corpus.
"""

from __future__ import annotations

from .index.load import LoadedIndex
from .query import Query

BASE_COSINE = 0.25
PER_MISSING_TERM = 0.15
PER_UNKNOWN_NAME = 0.20


def judge(index: LoadedIndex, query: Query, best_sentence_cosine: float) -> dict:
    """The decision and the evidence behind it (also useful to explain a rejection)."""
    unknown_names = [t for t in query.names if not index.lexical.knows(t)]
    missing = [t for t in query.salient if not index.lexical.knows(t)]
    required = BASE_COSINE + PER_MISSING_TERM * len(missing) + PER_UNKNOWN_NAME * len(unknown_names)
    answered = best_sentence_cosine >= required
    return {"answered": answered, "unknown_names": unknown_names, "missing_terms": missing,
            "best_sentence_cosine": round(float(best_sentence_cosine), 4), "required_cosine": round(required, 4)}


def is_answered(index: LoadedIndex, query: Query, hits) -> bool:
    if not hits:
        return False
    return judge(index, query, max(h.sentence for h in hits))["answered"]
