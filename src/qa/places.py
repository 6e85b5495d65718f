"""A capital that stands for its country's government, as news writes it ("Has Seoul
talked about a treaty with Pyongyang?", "What did Washington suspect?").

An article about the two Koreas may never write "Seoul": the question then names something
the corpus lacks, BM25 finds nothing for it and the verdict counts it as a missing name.
When the corpus never mentions the capital but does name its country, the question searches
for the country instead, as a search engine's synonym list maps one name onto another; the
answer says what was searched ("Searched for …"), as it does for a corrected typo.

The gazetteer is countryinfo's: the capitals of 250 countries and territories, each country
with its name and its other spellings (not its initials: "S.A." is Saudi Arabia's and a
company's, "P.R." Puerto Rico's and public relations', so "U.S." is not read either). A
capital of two countries ("Jerusalem") names neither. A capital inside a longer name ("the
Lisbon Treaty", "Mexico City"), a capital as a place ("in Warsaw", "the mayor of Warsaw",
"Where is Seoul?", "Is Seoul the capital?"), or one the corpus mentions, stays as asked.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping

from .lexical import vocabulary_words

_CODE = re.compile(r"^[A-Z]{2,3}$")  # "KR", "PRK": ISO codes, not names anyone writes
_TRAILING_INITIALS = re.compile(r",?\s+(?:[A-Z]\.){2,}$")  # "Washington D.C." is written "Washington"
_WORDS = re.compile(r"[\w'’.-]+")
_PLACE_WORDS = frozenset("in of at near around outside inside across within".split())  # before a city, not a state
# a question with one of these asks about the city as a place: "Where is Seoul?", "Is Seoul the capital?"
_ABOUT_A_PLACE = re.compile(r"\b(?:where|capital|city|cities|located|population|live|lived|lives|visit|visited|"
                            r"travel|travelled|traveled|mayor|district|streets?)\b", re.I)


@lru_cache(maxsize=1)
def capitals() -> dict[str, tuple[str, ...]]:
    """Capital (as written) -> the names of its country, most formal first. Loaded once per
    process (about 30 ms)."""
    from countryinfo import CountryInfo

    seen: dict[str, list[tuple[str, ...]]] = {}
    for country in CountryInfo.all().values():
        capital = country.get("capital")
        if not isinstance(capital, str) or not capital or "/" in capital:
            continue
        names = [country["name"], *(s for s in country.get("altSpellings") or ()
                                    if s.isascii() and not _CODE.match(s) and "," not in s)]
        seen.setdefault(_TRAILING_INITIALS.sub("", capital), []).append(tuple(dict.fromkeys(names)))
    return {capital: names[0] for capital, names in seen.items() if len(names) == 1}


def mentioned(name: str, words: Mapping[str, int]) -> bool:
    """Whether the corpus (its vocabulary, spelling.vocabulary) holds every word of ``name``."""
    parts = vocabulary_words(name)
    return bool(parts) and all(p in words for p in parts)


@lru_cache(maxsize=1)
def capital_pattern() -> re.Pattern[str]:
    """Every capital, longest first; made once per process (with the gazetteer, about 0.12 s),
    at index load (spelling.Speller), not on a first question."""
    names = sorted(capitals(), key=len, reverse=True)
    return re.compile(rf"(?<![\w'’.-])(?:{'|'.join(map(re.escape, names))})(?![\w-])")


def _not_a_government(text: str, start: int, end: int) -> bool:
    """The city, not its country's government: inside a longer name ("the Lisbon Treaty",
    "Kuwait City", "Greater London": a capitalised word right after, or right before, the
    question's first word aside) or a place ("lived in Amsterdam", "the mayor of Warsaw")."""
    after = _WORDS.findall(text[end:])[:1]
    before = _WORDS.findall(text[:start])
    if after and after[0][:1].isupper():
        return True
    if len(before) >= 2 and before[-1][:1].isupper():
        return True
    return bool(before) and before[-1].lower() in _PLACE_WORDS


def as_countries(text: str, words: Mapping[str, int]) -> str | None:
    """The question with each capital the corpus lacks replaced by its country as the corpus
    names it, or None when there is none."""
    def country(match: re.Match[str]) -> str:
        capital = match.group()
        if mentioned(capital, words) or _not_a_government(text, match.start(), match.end()):
            return capital
        return next((name for name in capitals()[capital] if mentioned(name, words)), capital)

    if _ABOUT_A_PLACE.search(text):
        return None
    replaced = capital_pattern().sub(country, text)
    return replaced if replaced != text else None
