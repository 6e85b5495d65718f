"""BM25 over the same chunks as the dense index (bm25s, stemmed, English stopwords).

Saved by bm25s itself as JSON and ``.npy`` files (``allow_pickle=False``), so nothing
loaded back is a pickle.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# Words that carry no subject matter in a question: auxiliaries, question words, and words
# about the document itself ("article", "quoted"). Used to find a question's salient terms.
QUESTION_STOPWORDS = frozenset("""
a an the and or but if of to in on at by for with from as into about over after before between
during under above than then so such that this these those there here it its it's they them their
he him his she her we us our you your i me my is are was were be been being am do does did done
doing have has had having can could would should will shall may might must ought how what which
who whom whose when where why whether many much any some every each all more most other another
also just only not no nor very too get got make made tell know known happen happened happens
article text document passage author mention mentioned mentions quote quoted quotes say says said
according write writes wrote written reported report story piece
""".split())


def fold(text: str) -> str:
    """ASCII folding, as Elasticsearch's asciifolding filter: "fiancée" matches "fiancee",
    "Fécamp" matches "Fecamp". Only the terms are folded; passage text is never changed."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Recorded in the manifest: an index whose terms were made another way is stale.
LEXICAL_ANALYZER = ("bm25s; passages k1=1.2 b=0.75, sentences k1=1.2 b=0; english stopwords; "
                    "snowball english stemmer; ascii folding")
_QUOTED = re.compile(r'["“”]([^"“”]+)["“”]')


@lru_cache(maxsize=4096)
def quoted_phrases(question: str) -> tuple[str, ...]:
    """Phrases of two words or more the question puts in quotes ("On the Computational
    Complexity of Algorithms"), folded and lower-cased: a phrase query, as in Elasticsearch's
    query_string, asks for those words in that order."""
    return tuple(" ".join(fold(p).lower().split()) for p in _QUOTED.findall(question) if len(p.split()) >= 2)


def contains_phrase(text: str, phrases: Sequence[str]) -> bool:
    folded = " ".join(fold(text).lower().split())
    return any(p in folded for p in phrases)


@lru_cache(maxsize=4096)
def _salient(text: str) -> tuple[str, ...]:
    import bm25s

    return tuple(bm25s.tokenize([fold(text)], stopwords=list(QUESTION_STOPWORDS), stemmer=_stemmer(),
                                return_ids=False, show_progress=False)[0])


def salient_terms(text: str) -> list[str]:
    """Stemmed content words of a question (QUESTION_STOPWORDS removed)."""
    return list(_salient(text))


@lru_cache(maxsize=4096)
def question_terms(text: str) -> tuple[str, ...]:
    """A question's BM25 terms, memoized: one request needs them for scoring, for every
    highlight and for the judge, and bm25s.tokenize is slow per call."""
    return tuple(tokenize([text])[0])


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize([fold(t) for t in texts], stopwords="en", stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


class LexicalIndex:
    def __init__(self, retriever, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], *, b: float = 0.75) -> "LexicalIndex":
        """``b`` is BM25's length normalization: 0.75 for passages; 0 for single sentences,
        where a long answering sentence must not lose to short ones for its length."""
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=b)
        tokens = tokenize(texts)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25.load(str(folder), allow_pickle=False, load_corpus=False)
        return cls(retriever, size)

    @property
    def documents(self) -> int:
        """How many texts bm25s indexed (checked against the passages at load)."""
        return int(self._retriever.scores["num_docs"])

    def knows(self, term: str) -> bool:
        """Is this stemmed term anywhere in the indexed passages?"""
        return term in self._retriever.vocab_dict

    def scores(self, question: str) -> np.ndarray:
        terms = [t for t in question_terms(question) if t in self._retriever.vocab_dict]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
