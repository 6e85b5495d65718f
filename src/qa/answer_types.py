"""Cheap, general cues about what kind of text can answer a question.

Two classic question-answering priors, applied to every corpus alike:

* Expected answer type: a "when" question is answered by a date or time, a "how many"
  question by a number, a "why" question by a cause ("because", "due to"...). A chunk
  that contains such an expression gets a boost.
* Questions and headings do not answer: a chunk made only of questions ("So why wasn't
  a treaty signed?") or a short heading or label list without final punctuation echoes
  the wording of many questions but never answers them, so it is pushed down.
"""

from __future__ import annotations

import re
from typing import Sequence

_CAUSE = re.compile(r"\b(because|since|due to|as a result|so that|in order to|reasons?|led to|caused?|owing to)\b", re.I)
_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2}|January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.|[0-9]{1,2}(st|nd|rd|th) centur(y|ies)|"
    r"dawn|dusk|noon|midnight|[0-9]{1,2}:[0-9]{2})\b"
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?|several)\b",
    re.I,
)
_TERMINAL = re.compile(r"[.!?…:;\"”’)\]]$")


ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {"cause": _CAUSE, "date": _DATE, "number": _NUMBER}
_ASKS_FOR = (
    ("cause", re.compile(r"\bwhy\b|\bfor what reason\b")),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|time|date|day|month|century|decade)\b|\bwhich (year|century|decade)\b")),
    ("number", re.compile(r"\bhow (many|much|long|old|far)\b|\bwhat (number|percentage|amount)\b")),
)


def expected_answer_type(question: str) -> str | None:
    """The kind of expression that answers the question (a key of ANSWER_PATTERNS), if any."""
    q = question.lower()
    return next((kind for kind, asks in _ASKS_FOR if asks.search(q)), None)


def is_question(sentence: str) -> bool:
    return sentence.rstrip("”\"’' )").endswith("?")


def is_non_answer(text: str, sentences: Sequence[tuple[int, int]]) -> bool:
    """Only questions, or a short heading or label list ("• History / • conflict"): at most
    15 words, no line ending in sentence punctuation."""
    if sentences and all(is_question(text[a:b]) for a, b in sentences):
        return True
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return bool(lines) and len(text.split()) <= 15 and not any(_TERMINAL.search(line) for line in lines)
