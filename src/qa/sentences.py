"""Sentences, with their offsets: pysbd's, a rule-based splitter that knows abbreviations
("Lt. Gen.", "U.S.", "Dec. 1991", "Jr."). pysbd returns sentence *strings*; each is found in
the text with a moving cursor, so repeated sentences map to their own place and
``text[start:end]`` is always the exact source. pysbd reads a copy in which hard-wrapped lines
are joined (wrapping.py), of the same length.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from .markdown import emphasis_closed
from .records import Span
from .wrapping import for_sentence_splitting


def trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` without the whitespace around it, if anything is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


SEGMENT_BLOCK = 10_000  # pysbd's time grows with the square of a block's length: cut longer text first
_BLOCK_CUT = re.compile(r"[.!?…][\"”’)\]]*\s+|\s+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans (absolute offsets) of ``text[start:end]``, whitespace trimmed.

    Text longer than SEGMENT_BLOCK is cut into blocks first, preferably after a sentence
    end, else at whitespace, so that a megabyte-long paragraph without a full stop costs
    time linear in its length (pysbd alone is quadratic)."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for block_start, block_end in _blocks(text, start, end):
        spans += _segment(text, block_start, block_end)
    return spans


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > SEGMENT_BLOCK:
        limit = start + SEGMENT_BLOCK
        cuts = list(_BLOCK_CUT.finditer(text, start + SEGMENT_BLOCK // 2, limit))
        sentence_ends = [m for m in cuts if not m.group()[0].isspace()]
        cut = (sentence_ends or cuts)[-1].end() if cuts else limit
        yield start, cut
        start = cut
    yield start, end


def _segment(text: str, start: int, end: int) -> list[Span]:
    block = for_sentence_splitting(text[start:end])  # offsets as the text's: wrapped lines are no sentence ends
    spans: list[Span] = []
    cursor = 0
    for sentence in _segmenter().segment(block):
        stripped = sentence.strip()
        if not stripped:
            continue
        found = block.find(stripped, cursor)
        if found < 0:  # pysbd altered the text (it should not with clean=False): fall back to one span
            return [Span(start + a, start + b) for a, b in trimmed(block, cursor, len(block))] if not spans else (
                spans + [Span(start + a, start + b) for a, b in trimmed(block, cursor, len(block))]
            )
        spans.append(Span(start + found, start + found + len(stripped)))
        cursor = found + len(stripped)
    return emphasis_closed(text, spans)
