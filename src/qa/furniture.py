"""Page furniture: text a saved article carries that never answers a question.

By rule, so that it carries over to any article (no list of one page's strings), search
never returns a passage made only of:

* questions ("So why wasn't a permanent peace treaty signed back then?"): they echo the
  words of many questions and answer none;
* a short heading or label list without final punctuation ("• History / • conflict", the
  headline alone, "See Photos from the Early Days of the Korean War");
* furniture lines: a photo credit alone ("Photo: Jane Doe/Reuters", "Carl Mydans—The LIFE
  Picture Collection/Getty Images", "(AP Photo/Ahn Young-joon)"), reading time ("5 minute
  read"), ad, share and "Read more:" labels.

A caption stays an answer even with the credit glued to it ("…without getting feet
wet.Carl Mydans—The LIFE Picture Collection/Getty Images" says who photographed what). A
byline ("By Jane Doe", "Write to Olivia B. Waxman at …") is not furniture: it answers "Who
wrote the article?" (query.py marks such questions; search.py ranks bylines first).
"""

from __future__ import annotations

import re
from typing import Sequence

from .markdown import LIST_ITEM, is_fence_line

_AGENCIES = (r"Getty Images|AFP|AP|Reuters|Bloomberg|Shutterstock|Alamy|Corbis|EPA|Sipa|Redux|Xinhua|"
             r"Associated Press|Picture Collection|Contributor|Staff")
_CREDIT_ONLY = re.compile(
    r"^(?:(?:Photo(?:graph)?s?|Image|Picture|Credit|Illustration|Video)(?:\s+(?:by|credit))?\s*[:—–]\s*\S.{0,100}"
    r"|\((?:AP|AFP|Reuters|EPA)\s+Photo\b[^)]*\)"
    r"|(?:[\w.'’&-]+\s+){0,4}[\w.'’&-]+\s*[—–/]\s*(?:[\w.'’&-]+\s+){0,5}(?:" + _AGENCIES + r")\b[^.!?]{0,40}"
    r"|(?:" + _AGENCIES + r")(?:\s*/\s*(?:" + _AGENCIES + r"))*"
    r"|©\s*\S.{0,80})$"
)
_FURNITURE_LINE = re.compile(
    r"^(?:\d+\s*-?\s*min(?:ute)?s?\.?\s+read|advertisement|sponsored(?: content)?|share(?: this(?: article| story)?)?"
    r"|(?:read|see) (?:more|also)\s*:.*|related(?: stories| articles)?\s*:?.*|sign up for .*newsletter.*"
    r"|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—])$",  # a page's footer: "Page 3 of 9"
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:(?P<credit>By|Written by|Write to|Reporting by|Reported by|Issued by|Published by|Posted by"
                     r"|Hosted by|Presented by|From:)"
                     r"|Contact the author|Author:?)\s+\w",
                     re.I)
HANDLE = re.compile(r"@?[\w.-]*[_\d][\w.-]*,?$")  # a forum's user name: "Posted by tealeaf_tomas on 12 March 2024"
MONTH_NAME = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
              r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
# a full date, as a byline gives it: "3 March 2024", "March 3, 2024", "Sept. 3, 2024", "2024-03-03", or a
# magazine issue's month ("July 2024", its month's name in full or abbreviated) (not "April" alone, a first
# name as often as a month, nor a bare year)
BYLINE_DATE = re.compile(rf"\b(?:\d{{1,2}}\s+{MONTH_NAME},?\s+[12]\d{{3}}|{MONTH_NAME}\s+\d{{1,2}},?\s+[12]\d{{3}}"
                         rf"|[12]\d{{3}}-\d{{2}}-\d{{2}}|{MONTH_NAME}\s+[12]\d{{3}})\b")
# "…end.)" ends a sentence; "Thomas Galbraith (engineer)" not; nor does a legal list's clause, but it is
# part of one: "(c) your consent, for marketing emails; and"
_TERMINAL = re.compile(r"(?:[.!?…:;][\"”’)\]]*|[;,]\s+(?:and|or|but))$")
_TABLE_DATA = re.compile(r"\S\s*\|.*\d|\d.*\|\s*\S")  # a table row with a number in it, as written or extracted
# a field and its value: "**Date:** Tuesday 29 April 2025", "Apologies: Sandra Mbeki, Keiko Aoyama"
_FIELD = re.compile(r"^[*_]{0,2}[A-Z][\w ()/&'’-]{0,40}:[*_]{0,2}[ \t]+[*_\[(\"“]{0,2}[\w£$€¥₹#+-]")
# who did it, named: "Signed for and on behalf of Halvorsen Data Systems AS by Eirik Tvedt, Managing Director"
_AGENT = re.compile(r"\b\w+\s+by\s+(?:[A-Z][\w.'’-]*\s+){1,3}[A-Z][\w'’-]+")
# a line of data: a figure among words ("Replacement filters cost £64", "Kestrel Biologics Ltd, Unit 7, …
# Norwich", "- One man, aged in his 70s, was rescued"), read without its list marker or its leading time
# ("**17:48**", "[02:15]", "44:10 Listener questions" stay labels), or a star rating ("★★★★☆ 4/5")
_LEADING_MARK = re.compile(r"^(?:[-*•+]\s+|\d{1,3}[.)]\s+)?(?:[*_\[(]*\d{1,2}:\d{2}(?::\d{2})?[*_\])]*\s*[—–-]?\s*)?")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_STARS = re.compile(r"[★☆]")
# a bold label over its value: "**Manufacturer**" then "Kestrel Biologics Ltd, …" (not over a list: "**Key points**")
_LABEL_LINE = re.compile(r"^(\*\*|__)[^*_\n]+\1:?$")
# a person named with a title and their role, as a letter is signed: "Mrs Helen Okonkwo-Price, Headteacher"
_SIGNED = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Cllr|Rev|Revd)\.?\s+(?:[A-Z][\w'’-]*\.?\s+){0,3}"
                     r"[A-Z][\w'’-]+,\s+\w")
_SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*(?:\s|(?=[A-Z]))")  # "Koreans.Carl Mydans—…" holds a sentence


def ends_sentence(text: str) -> bool:
    """Ends in sentence punctuation ("…end.)", "…so:"), as a heading or a label does not."""
    return bool(_TERMINAL.search(text.rstrip()))


def is_furniture_line(line: str) -> bool:
    """A photo credit alone, a reading time or a page label, as a whole line."""
    stripped = line.strip()
    return bool(stripped) and bool(_FURNITURE_LINE.match(stripped) or _CREDIT_ONLY.match(stripped))


def is_byline(sentence: str) -> bool:
    """"By Jane Doe", "Write to Olivia B. Waxman at …", "By Reuters", "Author: …", a mail's
    "From: Harriet Molloy <…>", a forum's "Posted by tealeaf_tomas on …", a podcast's "Released
    3 April 2024 · 52 min · Hosted by Tamsin Okafor-Reid" (credit_in_line); not a sentence that
    merely opens with "By" ("By contrast, …", "By 1858 …", "By night, …"): after "By" come two
    capitalised words, or one that ends the line."""
    return _is_credit(sentence) or credit_in_line(sentence) is not None


# a byline's parts apart from its credit: a date, with what it marks ("Released 3 April 2024"), or a length
_BYLINE_SEPARATOR = re.compile(r"\s[|·•]\s")
_DATED_PART = re.compile(r"^(?:(?:first\s+)?(?:released|published|posted|updated|aired|recorded)(?:\s+on)?\s+)?(?:[A-Z][a-z]+,?\s+)?$",
                         re.IGNORECASE)
_LENGTH_PART = re.compile(r"^\d{1,3}\s*(?:min(?:ute)?s?|hrs?|hours?)\.?(?:\s+read)?$", re.IGNORECASE)


def credit_in_line(line: str) -> str | None:
    """The credit of a byline that does not open with it: "Released 3 April 2024 · 52 min ·
    Hosted by Tamsin Okafor-Reid" (parts between " · " or " | ": one credit, the others dates
    or lengths); None for any other line."""
    parts = [p.strip() for p in _BYLINE_SEPARATOR.split(line.strip().strip("*_").strip())]
    if len(parts) < 2:
        return None
    credits = [p for p in parts if _is_credit(p)]
    others = [p for p in parts if p not in credits]
    if len(credits) != 1 or not all(_LENGTH_PART.match(p) or _dated(p) for p in others):
        return None
    return credits[0]


def _dated(part: str) -> bool:
    """A date, alone or with what it marks: "Released 3 April 2024", "Updated Friday 4 May 2025"."""
    date = BYLINE_DATE.search(part)
    return date is not None and _DATED_PART.match(part[:date.start()]) is not None and not part[date.end():].strip()


def _is_credit(sentence: str) -> bool:
    stripped = sentence.strip().strip("*_").strip()  # "*By Helena Duarte · Atlantic Wire · 4 May 2025*"
    match = _BYLINE.match(stripped)
    if match is None or match.group("credit") is None:
        return match is not None
    words = stripped[match.end() - 1:].split()
    if words and words[0] == "the":  # "By the Associated Press"
        words = words[1:]
    capitalised = 0
    for word in words:
        if not word[0].isupper():
            break
        capitalised += 1
    handle = match.group("credit").lower() == "posted by" and bool(words) and HANDLE.match(words[0]) is not None
    return capitalised >= 2 or capitalised == len(words) == 1 or handle


def is_dated_byline(sentence: str) -> bool:
    """A byline with its full date ("By Tomas Vennegaard, Lindenport Herald, 3 March 2024"):
    it says when the article was published, as a byline says who wrote it."""
    return is_byline(sentence) and BYLINE_DATE.search(sentence) is not None


# "**Lines appear twice.**" opening a paragraph, "5. **Name the hub.**" opening a step
_RUN_IN_HEADING = re.compile(r"^(?:\d{1,3}[.)]\s+)?(\*\*|__)(?!\s).*\S\1$", re.DOTALL)


def names_not_answers(sentence: str) -> bool:
    """A sentence that asks, or labels what follows in bold (an FAQ's "**Is there a Docker
    image?**", a troubleshooting list's "**Lines appear twice.**"): the closest to the
    question asked, and it answers nothing."""
    return is_question(sentence) or bool(_RUN_IN_HEADING.match(sentence))


def is_field_line(line: str) -> bool:
    """A field and its value: "**Date:** Tuesday 29 April 2025", "Cc: Devon Achterberg <…>"."""
    return _FIELD.match(line) is not None


def holds_data(line: str) -> bool:
    """A figure among three words or more, or a star rating: what a label or a heading seldom
    holds, a price, an address, a count or a time in a list item often does."""
    if _STARS.search(line):
        return True
    rest = line[_LEADING_MARK.match(line).end():]
    return any(c.isdigit() for c in rest) and len(_WORDS.findall(rest)) >= 3


def is_question(sentence: str) -> bool:
    return sentence.rstrip("”\"’' )*_").endswith("?")  # "**Is there a Docker image?**" too


def is_non_answer(text: str, sentences: Sequence[tuple[int, int]]) -> bool:
    """Only questions, or a short heading or label list ("• History / • conflict", a "See
    also" list of links): at most 15 words, no line ending in sentence punctuation. A byline
    or a code block is not one."""
    if sentences and all(is_question(text[a:b]) for a, b in sentences):
        return True
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if any(_TABLE_DATA.search(line) for line in lines):
        return False  # a table's rows hold data, not labels: "Speed | 14.5 knots" ends no sentence either
    fences = sum(is_fence_line(line) for line in lines)
    if any(is_byline(line) for line in lines) or 0 < fences < len(lines):
        return False  # a byline, or a code block with code in it: a one-line command has no full stop either
    if lines and all(is_furniture_line(line) for line in lines):
        return True
    if any(is_field_line(line) or _AGENT.search(line) for line in lines) or lines[:1] in (["--"], ["—"]):
        return False  # a field, a line naming who did it, a mail's signature ("Devon Achterberg | Treasurer"): facts
    if any(holds_data(line) or _SIGNED.match(line) for line in lines) or (
            len(lines) > 1 and _LABEL_LINE.match(lines[0]) and not LIST_ITEM.match(lines[1])):
        return False  # figures among words, a rating, a bold label over its value, a signature with a role: facts
    words = [w for w in text.split() if any(c.isalnum() for c in w)]  # not the list's "-" or "•"
    return bool(lines) and len(words) <= 15 and not any(
        _TERMINAL.search(line) or _SENTENCE_END.search(line) for line in lines)
