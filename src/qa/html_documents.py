"""Saved web pages as documents: the article's main text and metadata, by trafilatura.

trafilatura (made for news pages; readability-lxml, justext and goose3 were compared on a
saved news page and kept more furniture or lost the headings or the metadata) drops the
navigation, cookie banner, share buttons, related stories, ads, scripts and footer. The
canonical text is the extracted article, one block per paragraph, blocks joined by a blank
line — the form the chunker reads paragraphs from; every citation offset refers to it.
Metadata comes from JSON-LD, OpenGraph/meta tags or the byline: the headline (not the
``<title>`` with its " | Site" suffix), author, date (``YYYY-MM-DD``), site name, and the
canonical URL. A page with less than MIN_TEXT_CHARS of article text is a bad file. Its
figure captions are paragraphs where the figure was. Its
headings (``<h1>``…``<h6>``) are recorded as the page marks them, in the metadata's
``headings`` (``[offset, level, label]``), for the section a passage is in (sections.py):
the text alone cannot tell "How do I reset my password?" from a paragraph.

trafilatura only parses here: it is given the page's text, never a URL, so it makes no
network request.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .bylines import author_name

MIN_TEXT_CHARS = 200  # a navigation-only page yields a few words ("Home News Sport")
# trafilatura's default guesses a date from any year on the page ("© 2019" -> 2019-01-01)
_DATES = {"extensive_search": False, "original_date": True}
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_HEADING_LEVEL = re.compile(r"h([1-6])")  # trafilatura's <head rend="h2">; a heading of no level is a level 2
# browsers read these labels as windows-1252 (WHATWG); Python's latin-1 would drop curly quotes
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "cp819", "ascii", "us-ascii"}

for _noisy in ("trafilatura", "htmldate", "courlan", "charset_normalizer", "justext"):
    logging.getLogger(_noisy).setLevel(logging.CRITICAL)  # bad pages are reported by us, in one line


@dataclass
class Page:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def decode(raw: bytes) -> str | bytes:
    """The page as a browser would read it where that is certain (a BOM, valid UTF-8, a
    declared charset); otherwise the bytes, for trafilatura to guess."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(raw[:4096])
    if declared:
        label = declared.group(1).decode("ascii", "ignore").lower()
        try:
            return raw.decode("cp1252" if label in _AS_CP1252 else label, errors="replace")
        except LookupError:
            pass
    return raw


def extract(raw: bytes) -> Page | None:
    """The article of a saved page, or None when it has none (a bad file)."""
    import trafilatura
    from trafilatura.utils import load_html

    try:
        tree = load_html(decode(raw))
        if tree is None:
            return None
        _captions_as_paragraphs(tree)
        _heading_controls_as_text(tree)
        found = trafilatura.bare_extraction(
            tree, with_metadata=True, include_comments=False, include_tables=True, include_images=False,
            include_links=False, include_formatting=False, deduplicate=False, date_extraction_params=_DATES)
    except Exception:  # noqa: BLE001 - trafilatura reports bad input as None; be safe against the rest
        return None
    if found is None or found.body is None:
        return None
    blocks, headings, at = [], [], 0
    for element in found.body:
        text = _block_text(element)
        if text:
            if element.tag == "head":
                level = _HEADING_LEVEL.fullmatch(element.get("rend", ""))
                headings.append([at, int(level.group(1)) if level else 2, text])
            blocks.append(text)
            at += len(text) + 2  # blocks are joined by a blank line
    if sum(len(b) for b in blocks) < MIN_TEXT_CHARS:
        return None
    return Page("\n\n".join(blocks), {**_metadata(found), "headings": headings})


def _captions_as_paragraphs(tree: Any) -> None:
    """A figure's caption as a paragraph after it: trafilatura drops ``<figure>`` whole, and
    "The ship's bell, recovered in 2001 and now in the Eskerby Museum." is often the only
    place a fact is written (a credit alone is furniture, as in a text file: furniture.py)."""
    from lxml.html import Element

    for figure in list(tree.iter("figure")):
        caption = figure.find(".//figcaption")
        text = " ".join(caption.text_content().split()) if caption is not None else ""
        if text:
            paragraph = Element("p")
            paragraph.text = text
            figure.addnext(paragraph)


def _heading_controls_as_text(tree: Any) -> None:
    """A heading's button as its text: an accordion's "<h2><button>Fees</button></h2>" (a
    government guide's sections, an FAQ's questions) lost its heading, since trafilatura drops
    buttons as page furniture."""
    for control in list(tree.xpath("//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
                                   "//*[self::button or self::a]")):
        control.drop_tag()


def _metadata(found: Any) -> dict[str, Any]:
    published = found.date
    try:
        published = date.fromisoformat(published).isoformat() if published else None
    except ValueError:
        published = None
    metadata = {"title": found.title, "author": author_name(found.author) if found.author else None,
                "published": published,
                "publisher": found.sitename, "source": found.url, "format": "html"}
    return {key: value for key, value in metadata.items() if value}


def _block_text(element: Any) -> str:
    """One block of trafilatura's output tree as one paragraph of text."""
    if element.tag == "graphic":
        return ""
    if element.tag == "list":  # an ordered list keeps its numbers: "2. Pay the fee" is a step, and the second
        items = [item for item in (_inline(i) for i in element.iter("item")) if item]
        ordered = element.get("rend") == "ol"
        return "\n".join(f"{n}. {item}" if ordered else f"- {item}" for n, item in enumerate(items, start=1))
    if element.tag == "table":
        rows = [" | ".join(_inline(cell) for cell in row.iter("cell")).rstrip(" |") for row in element.iter("row")]
        return "\n".join(row for row in rows if row)  # a caption's row has no empty cells after it
    return _inline(element)


def _inline(element: Any) -> str:
    """Text of an element on one line; a line break (<lb/>, from <br>) is a space."""
    return " ".join("".join(_pieces(element)).split())


def _pieces(element: Any):
    if element.tag in _BLOCKS:
        yield " "  # trafilatura makes a cell's <br> lines paragraphs: "Aurelia Brandqvist" "14 February 1903", not glued
    yield " " if element.tag == "lb" else (element.text or "")
    for child in element:
        yield from _pieces(child)
        yield child.tail or ""
    if element.tag in _BLOCKS:
        yield " "


_BLOCKS = frozenset({"p", "item", "cell", "row", "head"})
