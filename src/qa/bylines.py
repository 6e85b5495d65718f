"""Reading a byline that opens a text: "By Tomas Vennegaard, Lindenport Herald, 3 March 2024"
gives the author, the publisher and the date a text file has nowhere else (a Markdown file's
front matter wins, key by key: documents.py). Recognising a byline is furniture.py's.

Only a line that reads as one is taken: a name (capitalised words, initials, "de", "van"…),
then parts that are a date, a role ("Staff Writer", skipped), a suffix ("Jr.", kept with
the name) or a publisher (capitalised words). "By Christmas Eve the trams had stopped." or
"By Late Summer, the Tram Company had laid new tracks." are sentences, not bylines.
"""

from __future__ import annotations

import re

from .furniture import BYLINE_DATE, is_byline

BYLINE_BLOCKS = 4  # a byline opens an article: looked for in its first blocks only
_PREFIX = re.compile(r"^(?:By|Written by|Reported by|Reporting by)\s+", re.IGNORECASE)
_PARTS = re.compile(r",|\s[|—–]\s")
_CONNECTORS = frozenset("and of the de van von der den da di du le la bin al y & for".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv phd ph.d ph.d. md m.d.".split())
_ROLES = re.compile(r"\b(?:writer|reporter|correspondent|editor|columnist|contributor|staff|intern|producer|"
                    r"photographer|analyst|critic)s?\b", re.IGNORECASE)


def byline_metadata(body: str) -> dict[str, str]:
    """``author``, ``publisher`` and ``published`` (YYYY-MM-DD) from the first byline line among
    the text's first blocks, as far as it says them; {} when there is none."""
    from .chunking import paragraph_spans

    for start, end in list(paragraph_spans(body))[:BYLINE_BLOCKS]:
        line = body[start:end]
        if "\n" not in line and len(line) <= 200 and _PREFIX.match(line) and is_byline(line):
            return _read(_PREFIX.sub("", line))
    return {}


def _read(rest: str) -> dict[str, str]:
    found: dict[str, str] = {}
    date = BYLINE_DATE.search(rest)
    if date:
        from dateutil.parser import ParserError, parse

        try:
            found["published"] = parse(date.group()).date().isoformat()
            rest = rest[:date.start()] + rest[date.end():]
        except (ParserError, ValueError, OverflowError):
            return {}
    parts = [p.strip() for p in _PARTS.split(rest) if p.strip(" .")]
    if parts and parts[0].lower().startswith("the "):
        parts[0] = parts[0][4:]  # "By the Associated Press"
    if not parts or not _capitalised(parts[0].rstrip(".")):
        return {}
    author = parts[0].rstrip(".") if not parts[0].endswith((" Jr.", " Sr.")) else parts[0]
    for part in parts[1:]:
        if part.lower().replace(" ", "") in _SUFFIXES:
            author += ", " + part
        elif _ROLES.search(part):
            continue
        elif _capitalised(part.rstrip(".")) and "publisher" not in found:
            found["publisher"] = part.rstrip(".")
        else:
            return {}  # a part that is neither: a sentence opening with "By", not a byline
    found["author"] = author
    return found


def _capitalised(text: str) -> bool:
    """Capitalised words, initials and connectors only, at most six words, no digits:
    "Tomas Vennegaard", "Ann Lee and Bo Kim", "The Science Desk"."""
    words = text.split()
    return (0 < len(words) <= 6 and not any(c.isdigit() for c in text) and words[0][:1].isupper()
            and all(w[:1].isupper() or w.lower() in _CONNECTORS for w in words))
