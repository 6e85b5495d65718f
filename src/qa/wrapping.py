"""Hard-wrapped text as the sentence splitter should see it: a paragraph wrapped at a fixed
width (a plain-text email, an RFC, a Markdown file wrapped at 80 columns) and the "> "
markers of quoted mail are not sentence ends, and neither are a spec sheet's dot leaders
("Weight (empty) ........ 6.2 kg" was "Weight (empty) ....", "." and "6.2 kg"), nor an
abbreviation's period before a figure ("approx. 45 seconds").

pysbd ends a sentence at every newline, so "I've pencilled in £780 for a" / "> 60 kVA unit
from Harlow Plant Hire, …" were two sentences: the highlight marked half of one, and a
fragment without a full stop read as a label. The splitter is given a copy of the text of the
same length, in which a wrapped line's newline is a space and a quote marker is blank, so
every offset it returns is the text's own (the text itself is never changed).

A line is wrapped when it is long for its paragraph (at least WRAPPED_SHARE of its longest
line, itself at least WRAP_WIDTH characters: a signature's or an address's short lines are
kept), does not end in ":" ("… Devon Achterberg wrote:") and the next line continues it: not
a list item, table row, heading, field ("Date: …") or a quoted blank line.
"""

from __future__ import annotations

import re

from .furniture import is_field_line
from .markdown import LIST_ITEM

WRAP_WIDTH = 60  # the longest line of a wrapped paragraph: text is wrapped at 65-80 columns
WRAPPED_SHARE = 0.7  # a wrapped line (all but a paragraph's last) is nearly as long as its longest
_QUOTE_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)  # "> ", "> > ": quoted mail
_CLAUSE = re.compile(r"[ \t]*\([a-z0-9]{1,3}\)[ \t]")  # a clause opens a line: "(b) to keep the accounts …"
_LEADER = re.compile(r"(?<=\S)[ \t]*(?:\.[ \t]?){4,}(?=[ \t]*\S)")  # "Weight (empty) ......... 6.2 kg": no sentence ends
# an abbreviation before a figure: "approx. 45 seconds", "max. 100 mg", "no. 7" (pysbd ended a sentence there)
_ABBREVIATED = re.compile(r"\b(?:approx|ca|circa|no|nos|vol|fig|pp?|est|max|min|incl|excl|avg|tel|ref)\.(?=[ \t]+\d)",
                          re.IGNORECASE)
_STARTS_A_LINE = re.compile(r"[ \t]*(?:[|#]|```|~~~)")  # a table row, a heading, a code fence


def for_sentence_splitting(text: str) -> str:
    """``text`` with its quote markers blanked and the newlines inside wrapped paragraphs
    made spaces: the same length, so offsets found in it are the text's."""
    masked = _QUOTE_MARKER.sub(lambda marker: " " * len(marker.group()), text)
    if "...." in masked or ". . . ." in masked:  # a spec sheet's or a contents list's dot leaders
        masked = _LEADER.sub(lambda leader: " " * len(leader.group()), masked)
    masked = _ABBREVIATED.sub(lambda abbreviation: abbreviation.group()[:-1] + " ", masked)
    if "\n" not in masked or "```" in masked or "~~~" in masked:  # code keeps its lines
        return masked
    lines = masked.split("\n")
    widths = [len(line.rstrip()) for line in lines]
    longest = _paragraph_widths(widths)
    joined = []
    for line, width, widest, following in zip(lines, widths, longest, lines[1:]):
        wrapped = (widest >= WRAP_WIDTH and width >= WRAPPED_SHARE * widest and not line.rstrip().endswith(":")
                   and following.strip() and not LIST_ITEM.match(following) and not _CLAUSE.match(following)
                   and not _STARTS_A_LINE.match(following) and not is_field_line(following.strip()))
        joined.append(line + (" " if wrapped else "\n"))
    return "".join(joined) + lines[-1]


def _paragraph_widths(widths: list[int]) -> list[int]:
    """Per line, the longest line of its paragraph (lines between blank ones, a quoted ">"
    alone being blank): a long unwrapped paragraph does not make its neighbour's lines short."""
    longest = [0] * len(widths)
    start = 0
    for end in [i for i, width in enumerate(widths) if width == 0] + [len(widths)]:
        if end > start:
            longest[start:end] = [max(widths[start:end])] * (end - start)
        start = end + 1
    return longest
