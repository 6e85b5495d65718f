"""The Markdown structure chunking respects, read off the text with its offsets intact (the
text itself is never rendered or changed): fenced code blocks, table rule lines, emphasis
closing a sentence and the heading a file opens with (its title when the front matter gives
none).

A fenced code block (``` or ~~~) is one block whatever blank lines it holds, and it joins the
paragraph introducing it when that paragraph ends in ":" ("You can also make a local backup
file:"): a command alone says nothing of what it does, and a one-line command has no full
stop, so it read as a heading and was never returned.
"""

from __future__ import annotations

import re

from .records import Span

# a list item's marker and the space after it ("- ", "• ", "3. ", "2) "): an item needs no heading, nor an antecedent
LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•·]|\d{1,3}[.)])[ \t]")  # not a year ending a sentence: "…December\n2024. The"
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})([^\n]*)$", re.MULTILINE)  # a Markdown code fence line, and the rest
_OPENING_H1 = re.compile(r"\A\s*(?:#[ \t]+([^\n]{1,200}?)(?:[ \t]+#+)?[ \t]*(?:\n|\Z)"
                         r"|([^\s#][^\n]{0,200}?)[ \t]*\n=+[ \t]*(?:\n|\Z))")
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?")  # "|---|---|", "| :--- | ---: |"


def join_code_blocks(text: str, blocks: list[tuple[int, int]], code: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``blocks`` (blank-line separated, in order) with the blocks inside one of the ``code``
    blocks joined to it, and a code block joined to a block before it ending in ":"."""
    merged: list[tuple[int, int]] = []
    position = 0  # both lists are in text order: one pass over each
    for start, end in blocks:
        while position < len(code) and code[position][1] <= start:
            position += 1
        block = code[position] if position < len(code) and code[position][0] <= start else None
        opens = block is not None and not text[block[0]:start].strip()
        if merged and block is not None and (not opens or text[merged[-1][1] - 1] == ":"):
            merged[-1] = (merged[-1][0], end)  # inside a code block, or the code its lead-in introduces
        else:
            merged.append((start, end))
    return merged


def join_list_lead_ins(text: str, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``blocks`` with a block ending in ":" joined to the list after it ("The principal
    tributaries of the Osmera, from source to mouth, are:" over "- Velka (left bank), …"): alone,
    the lead-in echoed the question's words and ranked first, and no item said what it lists."""
    merged: list[tuple[int, int]] = []
    for start, end in blocks:
        if merged and text[merged[-1][1] - 1] == ":" and LIST_ITEM.match(text, start):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def code_blocks(text: str) -> list[tuple[int, int]]:
    """The fenced code blocks, fence lines included, as CommonMark pairs them: a closing
    fence is of the opening's character, at least as long, with nothing after it; a backtick
    line with a backtick after the fence is inline code (```x```), no fence; an unclosed block
    runs to the end of the text."""
    blocks: list[tuple[int, int]] = []
    opening: tuple[str, int] | None = None  # (fence, where its line starts)
    for match in _FENCE.finditer(text):
        fence, rest = match.group(1), match.group(2)
        if opening is None:
            if not (fence[0] == "`" and "`" in rest):
                opening = (fence, match.start())
        elif fence[0] == opening[0][0] and len(fence) >= len(opening[0]) and not rest.strip():
            blocks.append((opening[1], match.end()))
            opening = None
    if opening is not None:
        blocks.append((opening[1], len(text.rstrip())))
    return blocks


def is_fence_line(line: str) -> bool:
    """A code fence line ("```python", "~~~")."""
    return _FENCE.fullmatch(line) is not None


def opening_heading(text: str) -> str | None:
    """The level-1 heading a Markdown text opens with, ATX ("# Title", "# Title #") or setext
    ("Title" over "====="), as MkDocs titles a page without a title in its metadata; None
    without one, or when it is empty ("#   ", "# #")."""
    heading = _OPENING_H1.match(text)
    title = (heading.group(1) or heading.group(2)).strip() if heading else ""
    return title if any(c.isalnum() for c in title) else None


def is_table_rule(line: str) -> bool:
    """A table's rule line ("|---|:---:|"): no sentence, it answers nothing."""
    return _TABLE_RULE.fullmatch(line) is not None


def is_table_row(line: str) -> bool:
    """A table's row on one line: Markdown's "| Adults | 25 mg |", or a saved page's "Weight | 6.8 kg"."""
    return "\n" not in line and (line.lstrip().startswith("|") or " | " in line)


def heads_a_table(text: str, end: int) -> bool:
    """Is the line ending at ``end`` a table's header row ("| | Harbour City | Vale Rovers |"),
    the next line its rule? It names the columns, and answers nothing."""
    if not text.startswith("\n", end):
        return False
    following = text[end + 1:].split("\n", 1)[0].strip()
    return is_table_rule(following)


# Markdown emphasis closing right after a sentence end: "**Is there a Docker image?** Yes." pysbd
# cuts after the "?", which left "** Yes." as the next sentence and "**" as one on a line of its own
_CLOSING_EMPHASIS = re.compile(r"[*_]+(?=\s|$)")


def emphasis_closed(text: str, spans: list[Span]) -> list[Span]:
    """Each sentence with the emphasis markers closing it, not the next one."""
    mended: list[Span] = []
    for span in spans:
        closing = _CLOSING_EMPHASIS.match(text, span.start, span.end) if mended else None
        if closing is not None and mended[-1].end == span.start:
            mended[-1] = Span(mended[-1].start, closing.end())
            rest = text[closing.end():span.end]
            if rest.strip():
                lead = len(rest) - len(rest.lstrip())
                mended.append(Span(closing.end() + lead, closing.end() + len(rest.rstrip())))
        else:
            mended.append(span)
    return mended
