"""Reading a byline that opens a text: "By Tomas Vennegaard, Lindenport Herald, 3 March 2024"
gives the author, the publisher and the date a text file has nowhere else (a Markdown file's
front matter wins, key by key: documents.py). Recognising a byline is furniture.py's. A saved
mail's header block ("From: …", "Date: …", "Subject: …") gives its sender, date and subject.

Only a line that reads as one is taken: a name (capitalised words, initials, "de", "van"…),
then parts that are a date, a role ("Staff Writer", skipped), a suffix ("Jr.", kept with
the name) or a publisher (capitalised words). "By Christmas Eve the trams had stopped." or
"By Late Summer, the Tram Company had laid new tracks." are sentences, not bylines.
"""

from __future__ import annotations

import re

from .furniture import BYLINE_DATE, HANDLE, MONTH_NAME, credit_in_line, is_byline

BYLINE_BLOCKS = 4  # a byline opens an article: looked for in its first blocks only
_PREFIX = re.compile(r"^(?:By|Written by|Reported by|Reporting by|Issued by|Published by|Posted by|Hosted by|"
                     r"Presented by)\s+", re.IGNORECASE)
_PARTS = re.compile(r",|\s[|—–·•]\s")
_DATE_LEAD = re.compile(r"\s+(?:on|at)$")  # what led to the date taken out: "tealeaf_tomas on [12 March 2024]"
_CONNECTORS = frozenset("and of the de van von der den da di du le la bin al y & for".split())
_WEEKDAYS = frozenset("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv phd ph.d ph.d. md m.d.".split())
_ROLES = re.compile(r"\b(?:writer|reporter|correspondent|editor|columnist|contributor|staff|intern|producer|"
                    r"photographer|analyst|critic)s?\b", re.IGNORECASE)


def byline_metadata(body: str) -> dict[str, str]:
    """``author``, ``publisher`` and ``published`` (YYYY-MM-DD) from the first byline line among
    the text's first blocks, as far as it says them; {} when there is none."""
    from .chunking import paragraph_spans

    opening = body[:4000]  # the first blocks are near the top: a long text is not cut in blocks for this
    for start, end in list(paragraph_spans(opening))[:BYLINE_BLOCKS]:
        line = opening[start:end].strip("*_ ")  # a Markdown byline in emphasis: "*By Helena Duarte · …*"
        if "\n" in line or len(line) > 200:
            continue
        if _PREFIX.match(line) and is_byline(line):
            return _read(_PREFIX.sub("", line))
        credit = credit_in_line(line)  # "Released 3 April 2024 · 52 min · Hosted by Tamsin Okafor-Reid"
        if credit is not None and _PREFIX.match(credit):
            found = _read(_PREFIX.sub("", credit))
            date = BYLINE_DATE.search(line)
            return {**found, "published": _iso(date.group())} if found and date and _iso(date.group()) else found
    return {}


_MONTH_YEAR = re.compile(rf"{MONTH_NAME}\s+[12]\d{{3}}")
FIELD_BLOCKS = 6  # a "Date:" field is looked for in the text's first blocks only
# a dated field: a judgment's "Date: 17 November 2023", minutes' "**Date:** Tuesday 29 April 2025"
_DATE_FIELD = re.compile(r"^[*_]{0,2}(?:date|dated|date of (?:publication|issue)|published|issued|(?:last\s+)?updated)"
                         r"[*_]{0,2}:[*_]{0,2}[ \t]+(?P<value>[^\n]{1,80})$", re.IGNORECASE | re.MULTILINE)


# an issue's dateline: a newsletter's "**Issue 14 · Friday 21 March 2025**", "Vol. 3, No. 2 | May 2024"
_DATELINE = re.compile(r"^[*_]{0,2}(?:(?:issue|vol(?:ume)?\.?|no\.?|number|edition)\s+\d+,?\s*(?:[·|•–—-]\s*)?)+"
                       r"(?P<value>[^\n*_]{1,60})[*_]{0,2}$", re.IGNORECASE | re.MULTILINE)


def field_metadata(body: str) -> dict[str, str]:
    """``published`` from a "Date:" field or an issue's dateline among the text's first blocks,
    where a judgment, a notice, minutes or a newsletter date themselves; {} when there is none."""
    from .chunking import paragraph_spans

    opening = body[:3000]
    for start, end in list(paragraph_spans(opening))[:FIELD_BLOCKS]:
        for field in [*_DATE_FIELD.finditer(opening[start:end]), *_DATELINE.finditer(opening[start:end])]:
            date = BYLINE_DATE.search(field.group("value"))
            if date and _iso(date.group()):
                return {"published": _iso(date.group())}
    return {}


# a mail's header block opens the text: "From: …", "To: …", "Date: …", "Subject: …" (RFC 5322)
_MAIL_HEADERS = re.compile(r"\A(?:[A-Za-z][\w-]{0,30}:[^\n]*\n(?:[ \t][^\n]*\n)*){2,20}\n")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv|antw)\s*(?:\[\d+\])?\s*:)+\s*", re.IGNORECASE)


def mail_metadata(body: str) -> dict[str, str]:
    """``author``, ``published`` and ``title`` of a saved mail (or a thread's first mail) whose
    header block opens the text: the sender's name, the Date header and the subject without
    its "Re:"/"Fwd:" prefixes, read by the standard library's mail parser; {} when the text
    does not open with a From header and a Date or Subject."""
    import email.parser
    import email.utils

    block = _MAIL_HEADERS.match(body)
    if block is None:
        return {}
    headers = email.parser.HeaderParser().parsestr(block.group())
    sender, subject, date = headers.get("From"), headers.get("Subject"), headers.get("Date")
    if not sender or not (subject or date):
        return {}
    name, address = email.utils.parseaddr(str(sender))  # "Ann Lee <ann@x.org>"; a bare name is no address
    author = (name or address) if "@" in str(sender) else " ".join(str(sender).split())
    found = {"author": author, "title": _REPLY_PREFIX.sub("", str(subject or "")).strip()}
    try:
        found["published"] = email.utils.parsedate_to_datetime(str(date)).date().isoformat() if date else ""
    except (TypeError, ValueError, IndexError):
        found["published"] = ""  # a Date header that is no date: the rest still read
    return {key: value for key, value in found.items() if value}


def author_name(text: str) -> str:
    """A page's author as its metadata gives it, without what its byline glued on:
    trafilatura reads "By Hélène Dubois-Ortega · 4 May 2025" as "Hélène Dubois-Ortega ·"."""
    bare = text.strip(" \t|—–·•,;:/")
    return _read(_PREFIX.sub("", bare)).get("author") or bare


def _read(rest: str) -> dict[str, str]:
    """The name first; then a date, more names ("Bo Kim and Cy Tan"), suffixes, roles and the
    publisher, in any order; a part read as none of them (a time, "Updated", "5 min read") is
    skipped, but a part that reads as a sentence makes the line no byline."""
    found: dict[str, str] = {}
    date = BYLINE_DATE.search(rest)  # before the split: "March 3, 2024" holds a comma
    if date:
        found["published"] = _iso(date.group())
        rest = rest[:date.start()] + rest[date.end():]
    parts = [_DATE_LEAD.sub("", p.strip()) for p in _PARTS.split(rest) if p.strip(" .")]
    if not parts or any(_sentence_like(p) for p in parts):
        return {}
    first = parts[0][4:] if parts[0].lower().startswith("the ") else parts[0]  # "By the Associated Press"
    if not (_capitalised(first.rstrip(".")) or HANDLE.match(first)):  # a forum's "Posted by tealeaf_tomas on …"
        return {}
    authors = [first if first.endswith((" Jr.", " Sr.")) else first.rstrip(".")]
    for part in parts[1:]:
        bare = part.rstrip(".")
        if part.lower().replace(" ", "") in _SUFFIXES:
            authors[-1] += ", " + part
        elif _ROLES.search(part) or bare in _WEEKDAYS or any(c.isdigit() for c in part):
            continue
        elif " and " in f" {bare} " and _capitalised(bare) and "publisher" not in found:
            authors.append(bare)  # more names, before the publisher
        elif _capitalised(bare[4:] if bare.lower().startswith("the ") else bare) and "publisher" not in found:
            found["publisher"] = bare
    found = {key: value for key, value in found.items() if value}
    return {"author": ", ".join(authors), **found}


def _iso(date: str) -> str:
    """YYYY-MM-DD, or YYYY-MM for a month alone ("July 2024": dateutil would fill in today's day)."""
    from dateutil.parser import ParserError, parse

    try:
        if _MONTH_YEAR.fullmatch(date.strip()):
            return parse(date).date().isoformat()[:7]
        return parse(date).date().isoformat()
    except (ParserError, ValueError, OverflowError):
        return ""  # "31 February 2024": no date, the rest of the byline still read


def _sentence_like(part: str) -> bool:
    """Three lowercase words or more ("the Tram Company had laid new tracks"): a sentence."""
    words = [w.strip(".,;:!?\"'") for w in part.split()]
    return sum(w.isalpha() and w.islower() and w not in _CONNECTORS for w in words) >= 3


def _capitalised(text: str) -> bool:
    """Capitalised words, initials and connectors only, at most six words, no digits:
    "Tomas Vennegaard", "Ann Lee and Bo Kim", "The Science Desk"."""
    words = text.split()
    return (0 < len(words) <= 6 and not any(c.isdigit() for c in text) and words[0][:1].isupper()
            and all(w[:1].isupper() or w.lower() in _CONNECTORS for w in words))
