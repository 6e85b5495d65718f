"""Rank passages for an analysed question: dense (FAISS), lexical (BM25) or hybrid; then
mark the sentence that answers.

Passages are sentence-anchored windows (chunking.py). Hybrid scoring, and why: three
signals see different things. The window embedding sees the passage as a whole; the
*anchor* sentence embedding sees the one sentence the window is built around, which
usually carries the answer (a long passage dilutes it); BM25 sees exact names, dates and
numbers that a small embedding model blurs, over the whole window and over the anchor
sentence alone (there without length normalization, b = 0: a long answering sentence must
not lose to short ones for its length). The dense signals are z-normalized over the
candidate set, BM25 is divided by its best score (scoring.scale_by_max), and they are
summed with ``WEIGHTS``: 0.5 window + 1.0 anchor + 3.0 window BM25 + 1.0 anchor BM25,
plus priors (answer_types.py: expected answer type +2; a byline above every passage when
the question asks who wrote the document, a dated byline when it asks when it was
published) and a phrase boost (+2 when the passage has a phrase the question puts in
quotes), measured on the public bench (``qa eval``; README). Furniture (a passage made only
of questions, a heading or a label list) is never returned, nor a passage that shares no
term with the question and is barely similar to it (``DENSE_FLOOR``). Rank fusion (RRF) was
measured too and ranks worse: it throws the score margins away. Windows overlap, so the
ranking keeps the best of overlapping ones (greedy, like non-maximum suppression): the k
passages returned never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .answer_types import ANSWER_PATTERNS
from .facts import document_terms
from .furniture import names_not_answers
from .index.load import LoadedIndex
from .lexical import contains_phrase, fold
from .markdown import heads_a_table
from .query import Query
from .scoring import non_overlapping, scale_by_max, segment_argmax, segment_max, segment_slots, zscore
from .settings import default

WEIGHTS = {"chunk": 0.5, "anchor": 1.0, "bm25": 3.0, "anchor_bm25": 1.0, "answer_type": 2.0, "phrase": 2.0,
           "byline": 1.0, "agent": 2.0, "description": 6.0, "holder": 2.0}
# "Who is X?" holds nothing but X: every passage naming X is about as close to it by meaning and
# by words, so a sentence describing X ("X, a historian") is the one real evidence of an answer,
# decisive as the byline is for "Who wrote it?"
DENSE_FLOOR = 0.3  # a passage sharing no term with the question must be at least this similar to be returned
HIGHLIGHT_TERM_WEIGHT = 0.8  # shared question terms, per share of the question's terms
HIGHLIGHT_TYPE_BONUS = 0.3  # a sentence holding the expected answer type
HIGHLIGHT_SHAPE_BONUS = 0.3  # a sentence of the answer's shape ("led by Dr. …" for "Who will lead …?")


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    score: float
    dense: float  # cosine of question and passage
    sentence: float  # best cosine of question and one sentence of the passage
    bm25: float


def rank(index: LoadedIndex, query: Query, vector: np.ndarray, k: int, mode: str,
         doc_ids: tuple[str, ...] = (), subject: str | None = None) -> list[Hit]:
    """The best ``k`` non-overlapping passages, best first; only of ``doc_ids`` if given.
    ``subject``: the document a question about the document means (facts.subject_document)."""
    all_bm25 = index.lexical.scores(query.terms)  # sparse and cheap: every chunk, once
    allowed = index.chunks_of(doc_ids) if doc_ids else None
    candidates = _candidates(index, query, all_bm25, vector, mode, allowed)
    if len(candidates) == 0:
        return []
    dense = index.chunk_vectors(candidates) @ vector
    bm25 = all_bm25[candidates]
    similarity = dense  # how close the passage is by meaning: its window, or in hybrid its anchor if closer
    if mode == "dense":
        score = dense
    elif mode == "bm25":
        score = bm25
    else:
        score, similarity = _hybrid(index, query, vector, candidates, dense, bm25, subject)
    spans = [(index.chunks[int(c)].doc_id, index.chunks[int(c)].start, index.chunks[int(c)].end) for c in candidates]
    asked_bylines = index.answering_bylines(query.about)  # once per question, not per candidate
    order = [i for i in np.argsort(-score, kind="stable")
             if _returnable(index, asked_bylines, int(candidates[i]), float(similarity[i]), float(bm25[i]))]
    chosen = non_overlapping(spans, order, k)
    picked = candidates[chosen]
    headings = index.section_heading[picked]  # read with their headings, if candidates: the cosines of these only
    read = np.concatenate([picked, np.unique(headings[np.isin(headings, candidates)])])
    sentence = _read_with_headings(index, read, _best_sentence_cosines(index, read, vector))
    return [Hit(int(candidates[i]), float(score[i]), float(dense[i]), float(sentence[n]), float(bm25[i]))
            for n, i in enumerate(chosen)]


def _returnable(index: LoadedIndex, asked_bylines: np.ndarray, chunk_id: int, similarity: float, bm25: float) -> bool:
    """Never furniture (furniture.is_non_answer); never a passage that shares no term with
    the question and is barely similar to it (a filler, not a weak answer), unless it is the
    byline a question about the document asks for (``asked_bylines``, LoadedIndex.answering_bylines)."""
    if index.non_answer[chunk_id]:
        return False
    return bm25 > 0 or similarity >= DENSE_FLOOR or bool(asked_bylines[chunk_id])


def _hybrid(index: LoadedIndex, query: Query, vector: np.ndarray, candidates: np.ndarray, dense: np.ndarray,
            bm25: np.ndarray, subject: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The fused score of every candidate, and its similarity (window or anchor, the closer)."""
    slots, starts = segment_slots(index.anchor_offsets, candidates)
    anchor_rows = index.anchor_rows[slots]
    cosines = index.sentence_vectors[anchor_rows] @ vector
    anchor = _read_with_headings(index, candidates, segment_max(cosines, starts))
    best_anchor_rows = anchor_rows[segment_argmax(cosines, starts)]
    anchor_bm25 = segment_max(index.sentence_lexical.scores(query.terms)[anchor_rows], starts)
    score = (
        WEIGHTS["chunk"] * zscore(dense) + WEIGHTS["anchor"] * zscore(anchor) + WEIGHTS["bm25"] * scale_by_max(bm25)
        + WEIGHTS["anchor_bm25"] * scale_by_max(anchor_bm25)
    )
    bylines = _subject_bylines(index, query, candidates, subject) if query.about else None
    phrased = _holds_a_phrase(index, query, candidates)  # once: the phrase prior and a lookup's rank both read it
    score = score + _priors(index, query, candidates, best_anchor_rows, phrased)
    if bylines is not None and bylines.any():  # above every other passage: a byline says who wrote it, and when
        score = score + bylines * (score.max() - score[bylines].min() + WEIGHTS["byline"])
        score = score + WEIGHTS["byline"] * _names_the_author(index, candidates, bylines)
    if query.keyword:  # a name asked alone, found as written, comes first: not a passage merely like it
        found = phrased if query.phrases else bm25 > 0  # its phrase ("Inês Valadares"), or its one term
        if found.any():
            score = score + found * (score.max() - score[found].min() + WEIGHTS["phrase"])
    return score, np.maximum(dense, anchor)


def _names_the_author(index: LoadedIndex, candidates: np.ndarray, bylines: np.ndarray) -> np.ndarray:
    """Per candidate, a byline naming its document's author (as the metadata has it): a mail
    thread's bylines are every message's "From:", and its author is the first sender's."""
    named = np.zeros(len(candidates), dtype=np.float32)
    for i in np.flatnonzero(bylines):
        chunk = index.chunks[int(candidates[i])]
        author = index.documents[chunk.doc_id].author
        named[i] = bool(author) and fold(author).lower() in fold(chunk.text).lower()
    return named


def _holds_a_phrase(index: LoadedIndex, query: Query, candidates: np.ndarray) -> np.ndarray:
    """Per candidate, does it hold one of the question's phrases (quoted, or a lookup's words in
    order)? A lookup's passages that hold it come first ("Inês Valadares" asked alone: another
    page's infobox, its vector like the name's, ranked first): the issue's rule, a name that
    occurs verbatim in the corpus, asked alone, has its passage first."""
    if not query.phrases:
        return np.zeros(len(candidates), dtype=bool)
    return np.array([contains_phrase(index.chunks[int(c)].text, query.phrases) for c in candidates], dtype=bool)


def _read_with_headings(index: LoadedIndex, candidates: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per candidate, the greater of its value and its section heading's, when the heading is
    a candidate too: a passage read with its heading is as close to the question as the
    heading, as documentation search ranks a page's hierarchy. An FAQ's question is its
    heading ("Where is the kettle made?"), and the answer under it may share no word with the
    question ("Designed in Gothenburg, assembled in Brno"). Similarity only: a short
    heading's BM25 is high for any word it holds ("## The explosion")."""
    headings = index.section_heading[candidates]
    if not (headings >= 0).any():  # a document without headings, as most are: nothing to read
        return values
    position = {int(c): n for n, c in enumerate(candidates)}
    heading = [position.get(h, -1) for h in headings.tolist()]
    inherited = np.array([values[p] if p >= 0 else -np.inf for p in heading], dtype=values.dtype)
    return np.maximum(values, inherited)


def _subject_bylines(index: LoadedIndex, query: Query, candidates: np.ndarray, subject: str | None) -> np.ndarray:
    """The bylines that answer "Who wrote …?" or "When was it published?" (a dated one): of
    any document when the question names no topic ("Who wrote the article?"); else only of the
    document it names (``subject``: "Who wrote the article about the Great Stink?" is not
    answered by the tram article's byline), and none when it names none."""
    bylines = index.answering_bylines(query.about)[candidates].astype(bool)
    if not query.topic:
        return bylines
    return bylines & np.array([index.chunks[int(c)].doc_id == subject for c in candidates], dtype=bool)


def _best_sentence_cosines(index: LoadedIndex, chunks: np.ndarray, vector: np.ndarray) -> np.ndarray:
    slots, starts = segment_slots(index.sentence_offsets, chunks)
    return segment_max(index.sentence_vectors[index.sentence_rows[slots]] @ vector, starts)


def _priors(index: LoadedIndex, query: Query, candidates: np.ndarray, best_anchor_rows: np.ndarray,
            phrased: np.ndarray) -> np.ndarray:
    """Answer-type and quoted-phrase boosts, in z-score units (answer_types.py,
    query.quoted_phrases); the byline's is ``_subject_bylines``. A "who" question looks for a new name in the
    anchor sentence closest to the question (``best_anchor_rows``)."""
    prior = np.zeros(len(candidates), dtype=np.float32)
    if query.shape is not None:
        prior = prior + WEIGHTS[query.shape.kind] * _of_the_place(index, query, candidates) * np.array(
            [bool(query.shape.search(index.sentence_texts[int(row)])) for row in best_anchor_rows], dtype=np.float32)
    if query.answer_type == "person":
        prior = prior + WEIGHTS["answer_type"] * np.array(
            [bool(index.sentence_names[int(row)] - query.words) for row in best_anchor_rows], dtype=np.float32)
    elif query.answer_type is not None:
        prior = prior + WEIGHTS["answer_type"] * index.has_answer_type[query.answer_type][candidates]
    return (prior + WEIGHTS["phrase"] * phrased).astype(np.float32)


def _of_the_place(index: LoadedIndex, query: Query, candidates: np.ndarray) -> np.ndarray:
    """Per candidate, 1 when its document may hold the role asked of a place: "Who is the mayor
    of Kenmore?" is not answered by "Mayor Elaine Brody" of the Ashford story when a document is
    about Kenmore (its title or file name says so); when none is, any document may."""
    place = set(query.shape.place) if query.shape is not None else set()
    if not place:
        return np.ones(len(candidates), dtype=np.float32)
    about = {doc_id: place <= document_terms(index.documents[doc_id].title, doc_id)
             for doc_id in {index.chunks[int(c)].doc_id for c in candidates}}
    if not any(about.values()):
        return np.ones(len(candidates), dtype=np.float32)
    return np.array([about[index.chunks[int(c)].doc_id] for c in candidates], dtype=np.float32)


def _leads_in(sentence: str) -> bool:
    """A lead-in ("You do not need a licence if you are:"): what follows it says it; it holds
    the question's words and was marked instead of the item that answers."""
    return sentence.rstrip("*_ ").endswith(":")


def _candidates(index: LoadedIndex, query: Query, bm25: np.ndarray, vector: np.ndarray, mode: str,
                allowed: np.ndarray | None) -> np.ndarray:
    """Every (allowed) chunk when they are few; else the union of the dense and BM25 top
    lists, the filter applied inside both searches (FAISS's ID selector, a BM25 mask), and
    for "Who wrote …?" and "When was … published?" the bylines, which share no word with "the
    article about X"."""
    pool = np.arange(len(index.chunks)) if allowed is None else allowed
    wanted = default("candidates")
    if len(pool) <= wanted:
        return pool.astype(np.int64)
    pools = []
    if mode != "bm25":
        pools.append(index.search_dense(vector, wanted, allowed)[1])
    if mode != "dense":
        masked = bm25
        if allowed is not None:
            masked = np.full_like(bm25, -1.0)
            masked[allowed] = bm25[allowed]
        pools.append(np.argpartition(-masked, wanted)[:wanted])
    if query.about is not None:
        pools.append(np.intersect1d(np.flatnonzero(index.answering_bylines(query.about)), pool))
    return np.unique(np.concatenate(pools)).astype(np.int64)


def highlight(index: LoadedIndex, hit: Hit, query: Query, vector: np.ndarray, term_matches: np.ndarray):
    """The sentence that best answers: its embedding similarity, plus the share of the
    question's terms it holds (``term_matches``: per sentence row, from
    ``index.sentence_lexical.term_matches``) and a bonus for the expected answer type and for
    the shape of a "who" question's answer (answer_types.Shape)."""
    chunk = index.chunks[hit.chunk_id]
    if len(chunk.sentences) == 1:
        return chunk.sentences[0]
    rows = index.sentence_rows[index.sentence_offsets[hit.chunk_id] : index.sentence_offsets[hit.chunk_id + 1]]
    values = index.sentence_vectors[rows] @ vector
    values = values + HIGHLIGHT_TERM_WEIGHT * term_matches[rows] / max(1, len(set(query.terms)))
    pattern = ANSWER_PATTERNS.get(query.answer_type or "")
    if pattern is not None:
        values = values + HIGHLIGHT_TYPE_BONUS * np.array(
            [bool(pattern.search(chunk.text[a:b])) for a, b in chunk.sentences], dtype=np.float32)
    if query.shape is not None:  # "She was designed by … Fenwick-Hale" for "Who designed the Corvina?"
        values = values + HIGHLIGHT_SHAPE_BONUS * np.array(
            [query.shape.search(chunk.text[a:b]) for a, b in chunk.sentences], dtype=np.float32)
    last = chunk.sentences[-1][1]
    labels = np.array([names_not_answers(chunk.text[a:b]) or heads_a_table(chunk.text, b)
                       or (b < last and _leads_in(chunk.text[a:b])) for a, b in chunk.sentences])
    if not labels.all():
        values = np.where(labels, -np.inf, values)
    return chunk.sentences[int(np.argmax(values))]
