"""Rank passages for a question: dense (FAISS), lexical (BM25) or hybrid, then highlight.

Passages are sentence-anchored windows (chunking.py). Hybrid scoring, and why: three
signals see different things. The window embedding sees the passage as a whole; the
*anchor* sentence embedding sees the one sentence the window is built around, which
usually carries the answer (a long passage dilutes it); BM25 sees exact names, dates and
numbers that a small embedding model blurs, over the whole window and over the anchor
sentence alone (there without length normalization, b = 0: a long answering sentence must
not lose to short ones for its length). The dense signals are z-normalized over the
candidate set, BM25 is divided by its best score (it is sparse; see ``_lexical``), and
they are summed with ``WEIGHTS``: 0.5 window + 1.0 anchor + 3.0 window BM25 + 1.0 anchor
BM25, plus two priors (answer_types.py: expected answer type +2; a passage made only of
questions or a heading -6, i.e. below any real answer) and a phrase boost (+2 when the
passage has a phrase the question puts in quotes), measured on the public bench
(``qa eval``; README). Rank fusion (RRF) was measured too and ranks worse: it throws
the score margins away. Windows overlap, so the ranking keeps the best of overlapping
ones (greedy, like non-maximum suppression): the k passages returned never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .answer_types import expected_answer, is_non_answer
from .index import LoadedIndex
from .lexical import contains_phrase, question_terms, quoted_phrases, tokenize

MODES = ("hybrid", "dense", "bm25")
DEFAULT_MODE = "hybrid"
CANDIDATES = 200  # per retriever, before fusion; every chunk when the corpus is smaller
WEIGHTS = {"chunk": 0.5, "anchor": 1.0, "bm25": 3.0, "anchor_bm25": 1.0, "answer_type": 2.0, "phrase": 2.0,
           "non_answer": -6.0}


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    score: float
    dense: float  # cosine of question and passage
    sentence: float  # best cosine of question and one sentence of the passage
    bm25: float


def rank(index: LoadedIndex, question: str, question_vector: np.ndarray, k: int, mode: str) -> list[Hit]:
    all_bm25 = index.lexical.scores(question)  # sparse and cheap: every chunk, once
    candidates = _candidates(index, all_bm25, question_vector, mode)
    dense = index.chunk_vectors(candidates) @ question_vector
    bm25 = all_bm25[candidates]
    if mode == "dense":
        score = dense
    elif mode == "bm25":
        score = bm25
    else:
        anchor = _segment_max(index.sentence_vectors, index.anchor_rows, index.anchor_offsets, candidates,
                              question_vector)
        anchor_bm25 = _segment_max_of(index.sentence_lexical.scores(question), index.anchor_rows,
                                      index.anchor_offsets, candidates)
        score = (
            WEIGHTS["chunk"] * _z(dense) + WEIGHTS["anchor"] * _z(anchor) + WEIGHTS["bm25"] * _lexical(bm25)
            + WEIGHTS["anchor_bm25"] * _lexical(anchor_bm25) + _priors(index, candidates, question)
        )
    chosen = _non_overlapping(index, candidates, np.argsort(-score, kind="stable"), k)
    sentence = _segment_max(index.sentence_vectors, index.sentence_rows, index.sentence_offsets,
                            candidates[chosen], question_vector)
    return [
        Hit(int(candidates[i]), float(score[i]), float(dense[i]), float(sentence[n]), float(bm25[i]))
        for n, i in enumerate(chosen)
    ]


def _non_overlapping(index: LoadedIndex, candidates: np.ndarray, order: np.ndarray, k: int) -> list[int]:
    """The best k positions (into ``candidates``) whose passages do not overlap."""
    chosen: list[int] = []
    taken: list[tuple[str, int, int]] = []
    for i in order:
        chunk = index.chunks[int(candidates[i])]
        if any(doc == chunk.doc_id and start < chunk.end and chunk.start < end for doc, start, end in taken):
            continue
        chosen.append(int(i))
        taken.append((chunk.doc_id, chunk.start, chunk.end))
        if len(chosen) == k:
            break
    return chosen


def _priors(index: LoadedIndex, candidates: np.ndarray, question: str) -> np.ndarray:
    """Answer-type and quoted-phrase boosts, non-answer penalty, in z-score units
    (answer_types.py, lexical.quoted_phrases)."""
    prior = WEIGHTS["non_answer"] * _feature(index, "non_answer")[candidates]
    pattern = expected_answer(question)
    if pattern is not None:
        prior = prior + WEIGHTS["answer_type"] * _feature(index, pattern)[candidates]
    phrases = quoted_phrases(question)
    if phrases:
        prior = prior + WEIGHTS["phrase"] * np.array(
            [contains_phrase(index.chunks[int(c)].text, phrases) for c in candidates], dtype=np.float32)
    return prior.astype(np.float32)


def _feature(index: LoadedIndex, name) -> np.ndarray:
    """Per-chunk flags, computed once per loaded index (not per question)."""
    cached = index.features.get(name)
    if cached is None:
        if name == "non_answer":
            cached = np.array([is_non_answer(c.text, c.sentences) for c in index.chunks], dtype=np.float32)
        else:  # an answer-type pattern
            cached = np.array([bool(name.search(c.text)) for c in index.chunks], dtype=np.float32)
        index.features[name] = cached
    return cached


def _sentence_terms(index: LoadedIndex, chunk_id: int) -> list[frozenset[str]]:
    """Stemmed terms of each sentence of a chunk, memoized per distinct sentence (windows
    overlap, so neighbours share them; chunks that are never shown never pay)."""
    memo = index.features.setdefault("sentence_terms", {})
    chunk = index.chunks[chunk_id]
    rows = index.sentence_rows[index.sentence_offsets[chunk_id] : index.sentence_offsets[chunk_id + 1]]
    missing = [(int(row), chunk.text[a:b]) for row, (a, b) in zip(rows, chunk.sentences) if int(row) not in memo]
    if missing:
        for (row, _), terms in zip(missing, tokenize([text for _, text in missing])):
            memo[row] = frozenset(terms)
    return [memo[int(row)] for row in rows]


def _candidates(index: LoadedIndex, bm25: np.ndarray, question_vector: np.ndarray, mode: str) -> np.ndarray:
    total = len(index.chunks)
    if total <= CANDIDATES:
        return np.arange(total)
    pools = []
    if mode != "bm25":
        pools.append(index.search_dense(question_vector, CANDIDATES)[1])
    if mode != "dense":
        pools.append(np.argpartition(-bm25, CANDIDATES)[:CANDIDATES])
    return np.unique(np.concatenate(pools)).astype(np.int64)


def _slots(offsets: np.ndarray, chunks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The slots ``offsets[c]:offsets[c+1]`` of every chunk, concatenated, and where each
    chunk's run starts in them. Vectorized: this runs on every candidate for every question."""
    firsts, counts = offsets[chunks], offsets[chunks + 1] - offsets[chunks]
    starts = np.cumsum(counts) - counts
    return np.repeat(firsts - starts, counts) + np.arange(int(counts.sum())), starts


def _segment_max(vectors: np.ndarray, rows: np.ndarray, offsets: np.ndarray, chunks: np.ndarray,
                 question_vector: np.ndarray) -> np.ndarray:
    """For each chunk, the best cosine of the question with the sentences ``rows[offsets[c]:offsets[c+1]]``."""
    if len(chunks) == 0:
        return np.zeros(0, dtype=np.float32)
    slots, starts = _slots(offsets, chunks)
    return np.maximum.reduceat(vectors[rows[slots]] @ question_vector, starts).astype(np.float32)


def _segment_max_of(values: np.ndarray, rows: np.ndarray, offsets: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """For each chunk, the largest of ``values`` (one per sentence row) over its rows."""
    if len(chunks) == 0:
        return np.zeros(0, dtype=np.float32)
    slots, starts = _slots(offsets, chunks)
    return np.maximum.reduceat(values[rows[slots]], starts).astype(np.float32)


def _lexical(values: np.ndarray) -> np.ndarray:
    """BM25 scaled by the best candidate's score, not z-normalized: BM25 is sparse (most
    chunks score 0), so one chunk sharing a single common word would get a huge z-score."""
    top = float(values.max()) if len(values) else 0.0
    if top <= 0:
        return np.zeros_like(values, dtype=np.float32)
    return (values / top).astype(np.float32)


def _z(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    if spread < 1e-9:
        return np.zeros_like(values, dtype=np.float32)
    return ((values - values.mean()) / spread).astype(np.float32)


def highlight(index: LoadedIndex, hit: Hit, question: str, question_vector: np.ndarray) -> dict[str, int]:
    """The sentence that best answers: its embedding similarity, plus shared question terms."""
    chunk = index.chunks[hit.chunk_id]
    if len(chunk.sentences) == 1:
        start, end = chunk.sentences[0]
        return {"start": start, "end": end}
    terms = set(question_terms(question))
    first, last = int(index.sentence_offsets[hit.chunk_id]), int(index.sentence_offsets[hit.chunk_id + 1])
    rows = index.sentence_vectors[index.sentence_rows[first:last]] @ question_vector
    sentence_terms = _sentence_terms(index, hit.chunk_id)
    pattern = expected_answer(question)
    best, best_value = 0, -np.inf
    for position, (start, end) in enumerate(chunk.sentences):
        overlap = len(terms & sentence_terms[position]) / max(1, len(terms))
        value = float(rows[position]) + 0.3 * overlap
        if pattern is not None and pattern.search(chunk.text[start:end]):
            value += 0.1
        if value > best_value:
            best, best_value = position, value
    start, end = chunk.sentences[best]
    return {"start": start, "end": end}

