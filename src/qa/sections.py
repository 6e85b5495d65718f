"""The section a passage is in: the headings above it ("Installation › Linux"), as
documentation search shows where in a page a hit is (Algolia DocSearch's hierarchy,
LlamaIndex's Markdown header metadata).

Passages stay within a paragraph (or a question's and its answer's), and a heading is a
paragraph of its own: a changelog's bullet says what changed, and only its heading ("## 2.4.0
— 2025-05-20") says in which version and when, so no answer could say either. The citation
carries the section.

Markdown: ATX ("## Setup") and setext headings outside code blocks, nested by level; the
heading that repeats the title is left out. A saved page: its ``<h1>``…``<h6>``, as
recorded at extraction (html_documents.py). Other text (a text file, a page indexed before
headings were recorded): a block of one short line without final punctuation, followed by
a paragraph that is a sentence, is a heading (all at one level): "Businesses hope for a
revival" over its paragraph.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from functools import lru_cache

from cachetools import LRUCache

from .furniture import ends_sentence, is_byline, is_furniture_line
from .lexical import SPEAKER_LABEL
from .markdown import LIST_ITEM, code_blocks
from .records import Chunk, Document

SEPARATOR = " › "
# line-based, each line read once: "#", "##"… then a space or the end of the line (a regex with a lazy
# label and optional trailing "#"s was quadratic on a run of spaces)
_ATX_LINE = re.compile(r"^[ \t]{0,3}(#{1,6})(?:[ \t][^\n]*)?$", re.MULTILINE)
_SETEXT_UNDERLINE = re.compile(r"^[ \t]{0,3}(?:=+|-{2,})[ \t]*$", re.MULTILINE)
_BLOCK = re.compile(r"[^\n]+(?:\n[^\n]+)*")
MAX_HEADING_WORDS = 12
MAX_PATH_WORDS = 24  # of a section path put before a passage to embed it (embedding_text)


Heading = tuple[int, int, str, int]  # where it starts (its first visible character), level, label, where it ends
Outline = tuple[tuple[int, ...], tuple[str, ...], tuple[int, ...]]  # starts, section paths, ends


def outline(text: str, markdown: bool, recorded: list[Heading] | None = None) -> Outline:
    """Where each heading starts, the section path it opens ("Setup › Linux") and where the
    heading itself ends; ``recorded``: the headings as the source marked them (a web page's)."""
    found = recorded if recorded is not None else _markdown_headings(text) if markdown else _plain_headings(text)
    starts, paths, ends, open_levels = [], [], [], []  # open_levels: (level, label) of the enclosing headings
    for start, level, label, end in found:
        while open_levels and open_levels[-1][0] >= level:
            open_levels.pop()
        open_levels.append((level, label))
        starts.append(start)
        paths.append(SEPARATOR.join(label for _, label in open_levels))
        ends.append(end)
    return tuple(starts), tuple(paths), tuple(ends)


def section_at(text: str, markdown: bool, offset: int, title: str = "", made: Outline | None = None) -> str | None:
    """The section path of the text at ``offset`` (the headings at or before it: a heading's own
    passage is in its section); the heading that repeats the title is left out. ``made``: the
    text's outline, if already made."""
    starts, paths, _ = made if made is not None else outline(text, markdown)
    at = bisect_right(starts, offset) - 1
    path = paths[at] if at >= 0 else ""
    if title and _repeats(path.split(SEPARATOR, 1)[0], title):
        path = path.split(SEPARATOR, 1)[1] if SEPARATOR in path else ""
    return path or None


def _repeats(heading: str, title: str) -> bool:
    """The heading is the title, or the title's opening words ("Package leaflet: Information for
    the patient" under the title "Package leaflet: Information for the patient — Veltrazin 25 mg"),
    or the title the heading's: a front matter's title often adds a subtitle to the page's own."""
    heading, title = " ".join(heading.casefold().split()), " ".join(title.casefold().split())
    if heading == title:
        return True
    shorter, longer = sorted((heading, title), key=len)
    return (len(shorter.split()) >= 3 and longer.startswith(shorter)
            and not longer[len(shorter)].isalnum())  # whole words: "Notes on X" is not "Notes on Xylophones"


# (doc_id, fingerprint) -> outline: made once, the text not kept; every question's candidates read their
# documents' outlines (a Milvus view is made per question), so it holds the outlines of a large corpus
_OUTLINES: LRUCache = LRUCache(maxsize=16_384)
_OUTLINES_LOCK = threading.Lock()


def document_section(document: Document, offset: int) -> str | None:
    """The section of ``document`` at ``offset``."""
    return section_at(document.text, document.is_markdown, offset, document.title, _document_outline(document))


def is_heading_passage(document: Document, start: int, end: int) -> bool:
    """A passage within one heading ("### The app says a firmware update failed. What now?",
    or a setext heading's lines and underline): it names the section of the passages under
    it, and answers nothing itself."""
    starts, _, ends = _document_outline(document)
    at = bisect_right(starts, start) - 1
    return at >= 0 and end <= ends[at]


def embedding_text(document: Document, chunk: Chunk) -> str:
    """What a passage's vector is made from: its section path, then its text (a "contextual
    chunk header"): a changelog's bullet alone names no version, its path does ("2.4.1 —
    2025-06-11 › Fixed"). The passage's text and offsets are unchanged."""
    section = document_section(document, chunk.start)
    if not section:
        return chunk.text
    words = section.split()  # the innermost headings, if long: the model reads 256 word pieces, the passage first
    return f"{' '.join(words[-MAX_PATH_WORDS:])}\n{chunk.text}"


# a page's apparatus: its list of sources and links, not its content ("- Brandqvist, A. (1937). …" answered
# "When did Brandqvist retire?"); the innermost heading names it, numbered or not ("7. References")
_APPARATUS = re.compile(r"(?:\d+(?:\.\d+)*\.?\s+)?(?:references|bibliography|sources|notes(?: and references)?|"
                        r"footnotes|citations|works cited|further reading|external links|see also)\s*", re.IGNORECASE)


def in_apparatus(document: Document, offset: int) -> bool:
    """Is the text at ``offset`` under a References, Further reading, External links… heading?"""
    section = document_section(document, offset)
    return section is not None and _APPARATUS.fullmatch(section.rsplit(SEPARATOR, 1)[-1].strip()) is not None


# a contents list's item: its list marker or number, and a page number after dot leaders ("4. Side effects ..... 7")
_ITEM_MARK = re.compile(r"^(?:[-*•+]\s+|\d{1,3}(?:\.\d{1,3})*[.)]?\s+)?(?:\[([^\]]+)\]\([^)]*\)|(.+?))(?:\s*\.{3,}\s*\d+)?$")
_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3})*[.)]?\s+")


def is_contents_list(document: Document, text: str) -> bool:
    """Lines that each name one of the document's own headings ("1. What Veltrazin is and what
    it is used for", "- [Eligibility](#eligibility)"), under a label or not: a table of
    contents, which points at the sections and answers nothing ("What is Veltrazin used
    for?" got the leaflet's contents first)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    labels = _labels(_document_outline(document)[1])
    if len(labels) < 2:
        return False
    named = [_bare(_item(line)) in labels for line in lines]
    return sum(named) >= 2 and all(named[1:])  # the first line may be its label ("Contents")


@lru_cache(maxsize=1024)
def _labels(paths: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_bare(path.rsplit(SEPARATOR, 1)[-1]) for path in paths)


def _item(line: str) -> str:
    match = _ITEM_MARK.match(line)
    return (match.group(1) or match.group(2)) if match else line


def _bare(label: str) -> str:
    return " ".join(_NUMBER.sub("", label.strip("*_ ")).casefold().split())


def heading_at(document: Document, offset: int) -> int | None:
    """Where the innermost heading above ``offset`` starts, when the text there is in a
    section (not before any heading, nor under the one repeating the title)."""
    if document_section(document, offset) is None:
        return None
    starts = _document_outline(document)[0]
    return starts[bisect_right(starts, offset) - 1]


def _document_outline(document: Document) -> Outline:
    """The outline of ``document``, made on its first use."""
    key = (document.doc_id, document.fingerprint or hash(document.text), document.is_markdown)  # a file, or a text made in code
    with _OUTLINES_LOCK:
        made = _OUTLINES.get(key)
    if made is None:
        made = outline(document.text, document.is_markdown, recorded_headings(document))
        with _OUTLINES_LOCK:
            _OUTLINES[key] = made
    return made


def recorded_headings(document: Document) -> list[Heading] | None:
    """A saved page's headings as recorded at extraction (metadata ``headings``; a page with
    none has none), the rows that are where they say; None for other documents (a front
    matter's ``headings`` is its author's own field) and pages indexed before they were recorded."""
    rows = document.metadata.get("headings") if document.path.lower().endswith((".html", ".htm")) else None
    if not isinstance(rows, list):
        return None
    found = []
    for row in rows:
        if (isinstance(row, list) and len(row) == 3 and all(isinstance(v, int) for v in row[:2])
                and isinstance(row[2], str) and row[2] and document.text.startswith(row[2], max(row[0], 0))):
            found.append((row[0], min(max(row[1], 1), 6), row[2], row[0] + len(row[2])))
    return sorted(found)


def _markdown_headings(text: str) -> list[Heading]:
    code = code_blocks(text)
    starts = [a for a, _ in code]

    def in_code(position: int) -> bool:
        at = bisect_right(starts, position) - 1
        return at >= 0 and position < code[at][1]

    found = []
    for line in _ATX_LINE.finditer(text):
        if not in_code(line.start()):
            label = line.group()[line.group().index("#") + len(line.group(1)):].strip()
            bare = label.rstrip("#")
            if not bare or bare[-1] in " \t":  # a closing sequence: "## Setup ##"
                label = bare.strip()
            found.append((line.start() + line.group().index("#"), len(line.group(1)), label, line.end()))
    previous = 0  # the end of the last underline: a paragraph starts after it or after a blank line
    for underline in _SETEXT_UNDERLINE.finditer(text):
        line_above = text.rfind("\n", 0, max(underline.start() - 1, 0)) + 1
        if underline.start() == 0 or in_code(underline.start()) or not text[line_above:underline.start()].strip():
            previous = underline.end()
            continue  # a rule, not an underline: no paragraph right above it
        blank = text.rfind("\n\n", previous, underline.start())
        start = blank + 2 if blank >= 0 else previous
        paragraph = text[start:underline.start()]  # all its lines, as CommonMark reads a setext heading
        previous = underline.end()
        if not paragraph.lstrip().startswith(("#", ">", "|", "-", "*", "+", "=")):
            level = 1 if underline.group().strip()[0] == "=" else 2
            found.append((start + len(paragraph) - len(paragraph.lstrip()), level, " ".join(paragraph.split()),
                          underline.end()))
    found += _bold_headings(text, in_code)
    return sorted(h for h in found if any(c.isalnum() for c in h[2]))


# a paragraph of one line in bold, perhaps with an emphasised note after a dash: a live blog's
# "**17:48**", "**16:50** — *Correction*", a leaflet's "**What is in this leaflet**"
_BOLD_LINE = re.compile(r"^(\*\*|__)(?=\S)([^*_\n]+?)(?<=\S)\1(?:[ \t]*[—–-][ \t]*(\*|_)(?=\S)([^*_\n]+?)(?<=\S)\3)?[ \t]*$")
BOLD_HEADING_LEVEL = 6  # under any "#" heading above it, and closed by the next


def _bold_headings(text: str, in_code) -> list[Heading]:
    """Bold lines standing alone as a heading would (a paragraph of their own, short, ending no
    sentence): where a writer marks sections without "#". "**Is there a Docker image?**" and
    "**Lines appear twice.**" open the answer they are run in with, as FAQ labels do: no heading."""
    found = []
    for block in _BLOCK.finditer(text):
        line = _BOLD_LINE.match(block.group())
        if line is None or in_code(block.start()):
            continue
        label = line.group(2) + (f" — {line.group(4)}" if line.group(4) else "")
        if len(label.split()) <= MAX_HEADING_WORDS and not ends_sentence(line.group(2)):
            found.append((block.start(), BOLD_HEADING_LEVEL, label, block.end()))
    return found


# a numbered section's heading: a contract's clause in capitals ("11. TERMINATION"), or a report's
# numbered subsection ("2.1 Our volunteers", "3.3 Food pantry and hydrotherapy")
_NUMBERED_HEADING = re.compile(r"\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z][A-Z0-9 ,&'’/()-]*[A-Z)]$"
                               r"|\d{1,3}(?:\.\d{1,3})+\s+[A-Z][^\n]*$")
# what a line of a letter or a transcript ends with, as a heading never does: a stage direction
# after a sentence ("A slimy one. [laughs]"), a salutation's comma ("Hi all,")
_ASIDE = re.compile(r"\s*[\[(][^\])]{1,40}[\])]$")
# a line broken off ("—", "…"), as a transcript's turn may be and a heading never is
_BROKEN_OFF = ("—", "–", "-", "…", "...")


def _plain_headings(text: str) -> list[Heading]:
    """A short line, capitalised, without final punctuation, over a block ending a sentence;
    not a byline, furniture, a list item, a salutation ("Morning,") or a sign-off over a
    signature ("Okonkwo" over "--"). A numbered section's heading ("11. TERMINATION", "2.1 Our
    volunteers") is one whatever follows, nested by its number's depth."""
    blocks = list(_BLOCK.finditer(text))
    found = []
    for block, following in zip(blocks, blocks[1:]):
        line = block.group().strip()
        numbered = _NUMBERED_HEADING.match(line) is not None
        if ("\n" not in line and len(line.split()) <= MAX_HEADING_WORDS and (line[:1].isupper() or numbered)
                and not ends_sentence(_ASIDE.sub("", line)) and not line.endswith((",",) + _BROKEN_OFF)
                and not SPEAKER_LABEL.match(line) and not is_byline(line)  # a turn: "TAMSIN: So if …"
                and not is_furniture_line(line) and not (LIST_ITEM.match(line) and not numbered)
                and not following.group().startswith("--")
                and (numbered or ends_sentence(following.group().strip()))):  # a section number says it alone
            level = 2 + line.split()[0].rstrip(".").count(".") if numbered else 2  # "2.1 …" is under "2 OUR PEOPLE"
            found.append((block.start() + len(block.group()) - len(block.group().lstrip()), level, line, block.end()))
    return found
