"""The section a passage is in: the headings above it ("Installation › Linux"), as
documentation search shows where in a page a hit is (Algolia DocSearch's hierarchy,
LlamaIndex's Markdown header metadata).

Passages stay within a paragraph, and a heading is a paragraph of its own: a changelog's
bullet says what changed, and only its heading ("## 2.4.0 — 2025-05-20") says in which
version and when, so no answer could say either. The citation carries the section.

Markdown: ATX ("## Setup") and setext headings outside code blocks, nested by level; the
heading that repeats the title is left out. Other text (a saved page, a text file): a block
of one short line without final punctuation, followed by a paragraph that is a sentence,
is a heading (all at one level): "Businesses hope for a revival" over its paragraph.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

from .furniture import ends_sentence, is_byline, is_furniture_line
from .markdown import code_blocks

SEPARATOR = " › "
_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$|^[ \t]{0,3}(#{1,6})[ \t]*$", re.MULTILINE)
_SETEXT = re.compile(r"^[ \t]{0,3}([^\s#>|\-*=][^\n]*?)[ \t]*\n[ \t]{0,3}(=+|-{2,})[ \t]*$", re.MULTILINE)
_BLOCK = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•·]|\d+[.)])\s")
MAX_HEADING_WORDS = 12


@lru_cache(maxsize=1024)  # keyed by the text itself: a document's outline is read once
def outline(text: str, markdown: bool) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Where each heading starts, and the section path it opens ("Setup › Linux")."""
    found = _markdown_headings(text) if markdown else _plain_headings(text)
    starts, paths, open_levels = [], [], []  # open_levels: (level, label) of the enclosing headings
    for start, level, label in found:
        while open_levels and open_levels[-1][0] >= level:
            open_levels.pop()
        open_levels.append((level, label))
        starts.append(start)
        paths.append(SEPARATOR.join(label for _, label in open_levels))
    return tuple(starts), tuple(paths)


def section_at(text: str, markdown: bool, offset: int, title: str = "") -> str | None:
    """The section path of the text at ``offset`` (the headings before it); the heading that
    repeats the title is left out."""
    starts, paths = outline(text, markdown)
    at = bisect_left(starts, offset) - 1
    path = paths[at] if at >= 0 else ""
    if title and path.split(SEPARATOR, 1)[0].strip().casefold() == title.strip().casefold():
        path = path.split(SEPARATOR, 1)[1] if SEPARATOR in path else ""
    return path or None


def _markdown_headings(text: str) -> list[tuple[int, int, str]]:
    code = code_blocks(text)
    starts = [a for a, _ in code]

    def in_code(position: int) -> bool:
        at = bisect_right(starts, position) - 1
        return at >= 0 and position < code[at][1]

    found = [(m.start(), len(m.group(1)), m.group(2).strip()) for m in _ATX.finditer(text)
             if m.group(1) and not in_code(m.start())]
    found += [(m.start(), 1 if m.group(2)[0] == "=" else 2, m.group(1).strip()) for m in _SETEXT.finditer(text)
              if not in_code(m.start())]
    return sorted(h for h in found if any(c.isalnum() for c in h[2]))


def _plain_headings(text: str) -> list[tuple[int, int, str]]:
    blocks = list(_BLOCK.finditer(text))
    found = []
    for block, following in zip(blocks, blocks[1:]):
        line = block.group().strip()
        if ("\n" not in line and len(line.split()) <= MAX_HEADING_WORDS and line[:1].isupper()
                and not ends_sentence(line) and not is_byline(line) and not is_furniture_line(line)
                and not _LIST_ITEM.match(line) and ends_sentence(following.group().strip())):
            found.append((block.start(), 2, line))
    return found
