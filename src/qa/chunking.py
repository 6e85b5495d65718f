"""Split canonical text into paragraphs, sentences and indexable chunks, offsets exact.

Sentences come from sentences.py (pysbd, found in the text with their offsets).

Chunks are *sentence-anchored windows* (the sentence-window idea of LlamaIndex's
SentenceWindowNodeParser and of search-engine highlight fragments): every sentence is the
anchor of one window made of the ``context_before`` sentence(s) before it (the antecedent:
"That means...", "They're meeting at..."; none for a sentence opening a list item) and the sentences after it (answers tend to
follow the sentence that matches a question), all within one paragraph (a short one
ending in a question opens its answer's first window: chunk_document), up to
``max_chars`` characters and ``max_tokens`` word pieces. Windows overlap; search returns
non-overlapping ones. Anchors whose windows come out identical (a short paragraph) share
one chunk, which lists all of them in ``anchors``. Measured with ``qa eval`` against
disjoint packed chunks (README, "Evaluate").

A fenced code block (Markdown's ``` or ~~~) is one block and one "sentence", whatever
blank lines or line breaks it holds, and it belongs to the paragraph introducing it when
that paragraph ends in ":" (markdown.py): a command answers "How do I make a backup?"
only with the sentence saying what it does.

Sentences repeated verbatim ``boilerplate_min_repeats`` times or more in a document
(photo-gallery captions and credit lines) are boilerplate: they break windows and never
become part of one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, replace
from typing import Callable, Iterator

from .furniture import is_question, names_not_answers
from .markdown import LIST_ITEM, code_blocks, is_table_row, is_table_rule, join_code_blocks, join_list_lead_ins
from .records import Chunk, Document, Span
from .sections import is_heading_passage
from .sentences import sentence_spans, trimmed
from .settings import default

TokenCounter = Callable[[str], int]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkingParams:
    """Recorded in the manifest: an index chunked another way is stale."""

    max_chars: int = default("max_chars")
    max_tokens: int = default("max_tokens")  # the model reads 256 word pieces
    context_before: int = default("context_before")
    boilerplate_min_repeats: int = default("boilerplate_repeats")
    splitter: str = "pysbd"
    # a change here makes every index built before it stale (``qa index build --if-stale`` rebuilds)
    layout: str = ("sentence-windows; code blocks whole (CommonMark fences), with their lead-in; no table rules; "
                   "bylines read; a page's author without its byline's separators; a page's headings recorded; "
                   "passages embedded after their section path; emphasis closing a sentence kept with it; "
                   "a page's figure captions as paragraphs; a list item's window opens with it, a nested one's "
                   "with the item above; hard-wrapped lines and quoted mail's lines one sentence; a short "
                   "paragraph ending in a question opens the next one's first window; a lead-in ending in ':' "
                   "joins its list; numbered section headings in plain text; a word hyphenated at a line's end one term; "
                   "bold lines alone are headings, a transcript's turns never; a 'Date:' field and a credit after a "
                   "date read; a heading the title opens with is the title; a table row's window opens with its header; "
                   "a page's heading buttons read, its ordered lists numbered; dot leaders end no sentence, nor 'approx.' before a figure; "
                   "a short paragraph all in bold opens the next one's first window")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based
    start: int
    end: int
    sentences: tuple[Span, ...]


def paragraph_spans(text: str, code: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Blocks separated by blank lines, trimmed of surrounding whitespace; but a fenced code
    block (Markdown's ``` or ~~~) is one block whatever blank lines it holds, and it joins
    the paragraph that introduces it ("You can also make a local backup file:"), as a
    command alone says nothing of what it does; so does a list (markdown.join_list_lead_ins).
    ``code``: the text's code_blocks, if known."""
    blocks = join_code_blocks(text, list(_blank_line_blocks(text)), code_blocks(text) if code is None else code)
    return join_list_lead_ins(text, blocks)


def _blank_line_blocks(text: str) -> Iterator[tuple[int, int]]:
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from trimmed(text, position, match.start())
        position = match.end()
    yield from trimmed(text, position, len(text))


def _opens_item(text: str, start: int) -> bool:
    """Does the sentence at ``start`` open a list item of the outermost level? It needs no
    antecedent: the sentence before it ends another item ("Default: `1GiB`." before "- `--workers
    N` — … Default: 4."), misread as the answer. A nested one ("  - **Owner:** Priya — due 12 May")
    belongs to the item above it, its antecedent."""
    return LIST_ITEM.match(text, start) is not None and (start == 0 or text[start - 1] == "\n")


def paragraphs(text: str) -> list[Paragraph]:
    """Each block with its sentences; a Markdown table's rule line ("|---|:---:|") is none:
    it answered nothing, and a window opened with it."""
    result = []
    code = code_blocks(text)
    for number, (start, end) in enumerate(paragraph_spans(text, code), start=1):
        sentences = [s for s in _sentences(text, start, end, code) if not is_table_rule(text[s.start:s.end])]
        result.append(Paragraph(number, start, end, tuple(sentences)))
    return result


def _sentences(text: str, start: int, end: int, code: list[tuple[int, int]]) -> list[Span]:
    """pysbd's sentences, but a fenced code block is one "sentence", fences and all: pysbd
    would make every line one, and the fence lines alone windows and highlights."""
    spans: list[Span] = []
    position = start
    first = bisect.bisect_right(code, (start, len(text) + 1)) - 1  # the code blocks are in text order
    for code_start, code_end in code[max(first, 0):]:
        if code_start >= end:
            break
        if code_end <= start:
            continue
        code_start, code_end = max(code_start, start), min(code_end, end)
        spans += sentence_spans(text, position, code_start)
        spans.append(Span(code_start, code_end))
        position = code_end
    return spans + sentence_spans(text, position, end)


def boilerplate_sentences(text: str, paras: list[Paragraph], min_repeats: int) -> set[str]:
    counts: dict[str, int] = {}
    for paragraph in paras:
        for s in paragraph.sentences:
            key = text[s.start : s.end]
            counts[key] = counts.get(key, 0) + 1
    return {sentence for sentence, n in counts.items() if n >= min_repeats}


def chunk_document(
    document: Document, params: ChunkingParams, count_tokens: TokenCounter | None = None
) -> list[Chunk]:
    """Windows of one document, in text order (``chunk_id`` = -1 until the index numbers them).

    A short paragraph ending in a question (an interviewer's turn, "Q: …?") opens the first
    window of the paragraph after it, which answers it, and has no window of its own: alone it
    echoed the words of questions about the answer, ranked first, and hid the answer's window."""
    text = document.text
    count = count_tokens or _approximate_tokens
    paras = paragraphs(text)
    boilerplate = boilerplate_sentences(text, paras, params.boilerplate_min_repeats)
    chunks: list[Chunk] = []
    asking: Paragraph | None = None  # the paragraph before, if it asks what this one answers
    held: list[Chunk] = []  # its windows: dropped when this paragraph's first window takes it
    for paragraph in paras:
        runs: list[list[Span]] = [[]]  # sentences (or pieces of overlong ones) between boilerplate lines
        for sentence in paragraph.sentences:
            if text[sentence.start : sentence.end] in boilerplate:
                runs.append([])
            else:
                runs[-1].extend(_fit_sentence(text, sentence, params, count))
        asked = list(asking.sentences) if asking is not None else []
        windows = [window for i, run in enumerate(runs)
                   for window in _windows(document, paragraph.number, run, params, count, asked if i == 0 else [])]
        took = bool(asked) and bool(windows) and windows[0].start == asked[0].start
        if not took:
            chunks.extend(held)
        asking = paragraph if not took and _asks(document, paragraph, runs, params) else None
        held = windows if asking is not None else []
        if asking is None:
            chunks.extend(windows)
    return chunks + held


def _asks(document: Document, paragraph: Paragraph, runs: list[list[Span]], params: ChunkingParams) -> bool:
    """A short paragraph ending in a question, or all in bold (an interview's prompt, "**Tell me
    about the *Morwenna*.**"), whole (no boilerplate in it), not a heading: the heading's own
    passage names its section (sections.py)."""
    text = document.text
    last = paragraph.sentences[-1] if paragraph.sentences else None
    return (last is not None and runs == [list(paragraph.sentences)]
            and (is_question(text[last.start : last.end]) or names_not_answers(text[paragraph.start : paragraph.end]))
            and paragraph.end - paragraph.start <= params.max_chars // 2
            and not is_heading_passage(document, paragraph.start, paragraph.end))


def _windows(
    document: Document, paragraph: int, run: list[Span], params: ChunkingParams, count: TokenCounter,
    asked: list[Span] = (),
) -> list[Chunk]:
    """One window per anchor sentence of ``run``; anchors with the same window share it. The
    paragraph ``asked`` before opens the first anchor's window, if the two fit in one."""
    text = document.text
    extents: dict[tuple[int, int], list[int]] = {}  # (first, last) sentence of a window -> its anchors
    opening = len(asked) if run else 0
    run = list(asked) + run if run else run
    headers = _table_headers(text, run, opening)
    for anchor in range(opening, len(run)):
        takes_the_question = anchor == opening and asked and _fits(text, run[0].start, run[anchor].end, params, count)
        header = headers[anchor]  # a table row's window opens with the header when they fit ("| Adults over 65 |
        # 25 mg | 50 mg |" alone does not say which 50 mg is the most a day)
        fits_header = header is not None and _fits(text, run[header].start, run[anchor].end, params, count)
        first = 0 if takes_the_question else header if fits_header else anchor
        while first > opening and anchor - first < params.context_before and not _opens_item(
            text, run[anchor].start) and _fits(text, run[first - 1].start, run[anchor].end, params, count):
            first -= 1
        last = anchor
        while last + 1 < len(run) and _fits(text, run[first].start, run[last + 1].end, params, count):
            last += 1
        extents.setdefault((first, last), []).append(anchor)
    windows = []
    for (first, last), anchors in extents.items():
        start, end = run[first].start, run[last].end
        windows.append(
            Chunk(
                chunk_id=-1,
                doc_id=document.doc_id,
                paragraph=paragraph,
                start=start,
                end=end,
                text=text[start:end],
                sentences=tuple(Span(s.start - start, s.end - start) for s in run[first : last + 1]),
                anchors=tuple(a - first for a in anchors),
            )
        )
    return windows


def _table_headers(text: str, run: list[Span], opening: int) -> list[int | None]:
    """Per sentence of ``run``, the first row of its table (its header) when it is a table row;
    found in one pass, however long the table."""
    headers: list[int | None] = [None] * len(run)
    for n in range(opening, len(run)):
        if is_table_row(text[run[n].start:run[n].end]):
            previous = headers[n - 1] if n > opening else None
            headers[n] = previous if previous is not None else n
    return headers


def _fits(text: str, start: int, end: int, params: ChunkingParams, count: TokenCounter) -> bool:
    return end - start <= params.max_chars and count(text[start:end]) <= params.max_tokens


def _fit_sentence(text: str, sentence: Span, params: ChunkingParams, count: TokenCounter) -> list[Span]:
    """A sentence too long for one chunk is cut at word boundaries into pieces that fit: as
    many words as the character limit allows, fewer while the word pieces are too many (one
    token count per piece in the common case, so a huge run-on costs linear time)."""
    if _fits(text, sentence.start, sentence.end, params, count):
        return [sentence]
    words = [m.span() for m in _WORD.finditer(text, sentence.start, sentence.end)]
    pieces: list[Span] = []
    first = 0
    while first < len(words):
        last = first + 1
        while last < len(words) and words[last][1] - words[first][0] <= params.max_chars:
            last += 1
        while last - first > 1 and count(text[words[first][0] : words[last - 1][1]]) > params.max_tokens:
            last = first + max(1, (last - first) * 3 // 4)
        pieces.append(Span(words[first][0], words[last - 1][1]))
        first = last
    return pieces


def _approximate_tokens(text: str) -> int:
    """Used only when no tokenizer is given (unit tests): about 1.3 word pieces a word."""
    return int(len(_WORD.findall(text)) * 1.3) + 2


def chunk_corpus(
    documents: list[Document], params: ChunkingParams, count_tokens: TokenCounter | None = None
) -> list[Chunk]:
    """All chunks, numbered in order; a window whose text and anchors were already indexed
    (the same paragraph in two documents) is dropped."""
    seen: set[tuple] = set()
    result: list[Chunk] = []
    for document in documents:
        for chunk in chunk_document(document, params, count_tokens):
            key = (chunk.text, chunk.sentences, chunk.anchors)
            if key in seen:
                continue
            seen.add(key)
            result.append(replace(chunk, chunk_id=len(result)))
    return result
