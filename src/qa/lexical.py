"""BM25 over the same chunks as the dense index (bm25s, stemmed, English stopwords).

Saved by bm25s itself as JSON and ``.npy`` files (``allow_pickle=False``), so nothing
loaded back is a pickle.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


class LexicalIndex:
    def __init__(self, retriever, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
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

    def known_terms(self, question: str) -> tuple[list[str], list[str]]:
        """Question terms (stemmed, stopwords removed) split into (in the index, not in it)."""
        terms = tokenize([question])[0]
        vocab = self._retriever.vocab_dict
        return [t for t in terms if t in vocab], [t for t in terms if t not in vocab]

    def scores(self, question: str) -> np.ndarray:
        terms = [t for t in tokenize([question])[0] if t in self._retriever.vocab_dict]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
