"""The question, analysed once.

``analyse`` is the only place that analyses the question (``normalize`` makes the cache key,
looked up before any analysis, and is the form ``analyse`` reads): it corrects its spelling,
tokenizes and stems it for BM25, picks its salient terms and names, its phrases and the kind
of answer it expects. Ranking, the verdict and the highlight read
the resulting ``Query`` (with the one question vector) and never re-tokenize.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .answer_types import Shape, answer_shape, expected_answer_type
from .lexical import FUNCTION_WORDS, QUESTION_STOPWORD_LIST, QUESTION_STOPWORDS, fold, tokenize
from .places import as_countries
from .spelling import QUESTION_WORDS as WH_WORDS, Speller

_QUOTED = re.compile(r'["“”]([^"“”]+)["“”]')
_WORD = re.compile(r"[^\W_][\w'’.-]*", re.UNICODE)
_LETTERS = re.compile(r"[^\W_]+")
_QUESTION_WORDS = WH_WORDS | frozenset("is are was were do does did can could would should will".split())
_OPENERS = _QUESTION_WORDS | frozenset("has have had am may might shall must".split())  # "Has Seoul talked…"
_END = r"\s*[?!.]*$"
# "the article", "this piece", "the tram story", "the story about the tram"; not "the story of
# Cinderella" (a work, not this document) nor "the report" (one the article may cite)
# and the kinds of document a text is rarely about: "Who wrote the Tessera release notes?" was
# answered by the notes' opening line ("guide" or "tutorial" may be a work an article is about;
# "policy" or "report" alone may be what it is about: "the Sunshine Policy")
_DOCUMENT_NOUN = (r"(?:article|story|piece|post|essay|column|editorial|text|document|page|release\s+notes|changelog|"
                  r"faq|manual|handbook|readme|documentation|recipes?|cookbook|(?:privacy|cookie)\s+policy|"
                  r"terms\s+(?:of\s+(?:service|use)|and\s+conditions)|minutes|notice|newsletter|press\s+release|memo|"
                  r"(?:match|game|race)\s+report|e-?mail|thread|transcript|paper|review|(?:live\s*)?blog(?:\s+post)?|"
                  r"leaflet|judge?ment|ruling|episode|podcast|show\s+notes|interview|q\s*&\s*a)")
# a life's account names its subject with "of": "Who wrote the biography of Astrid Lunde?" (and
# "the biography" names which document, of several, as "the FAQ" does); "a biography of" is one it may mention
_LIFE_NOUN = r"(?:biography|profile|obituary)"
_NAMED_DOCUMENT = (rf"(?:the|this|that|these|those)\s+(?:(?:[\w'’-]+\s+){{0,3}}?{_DOCUMENT_NOUN}\b(?!\s+of\b)"
                   rf"|{_LIFE_NOUN}\b(?:\s+of\s+[^?]+?)?)"  # no word before it: "the AppArmor profile" is a file
                   r"(?:\s+(?:about|on|regarding|concerning)\s+[^?]+?)?")
_THE_DOCUMENT = rf"(?:{_NAMED_DOCUMENT}|it|this)"  # "it" and "this" alone only where nothing else can be meant
_ABOUT_AUTHOR = re.compile(
    rf"\b(?:who|which (?:journalist|reporter|writer))\s+(?:wrote|writes|has written|authored|penned|reported|sent)\s+"
    rf"(?:{_NAMED_DOCUMENT}|(?:the|this)\s+report\b|(?:it|this){_END})"
    rf"|\b(?:author|writer|byline)\s+of\s+{_THE_DOCUMENT}{_END}"
    rf"|\bwho(?:\s+is|['’]s)\s+the\s+(?:author|writer){_END}"
    rf"|^\s*who\s+(?:wrote|authored)\s*\??\s*$", re.IGNORECASE)
_ABOUT_PUBLISHED = re.compile(
    rf"\bwhen\s+(?:was|is)\s+(?:{_NAMED_DOCUMENT}\s+(?:first\s+|originally\s+)?"
    rf"(?:published|written|posted|released|printed|dated|from|sent|issued|(?:last\s+)?updated)"
    rf"|(?:it|this)\s+(?:first\s+)?(?:published|posted|sent))\b"
    rf"|\bwhen\s+did\s+(?:{_NAMED_DOCUMENT}\s+(?:first\s+)?(?:come\s+out|appear|run|go\s+online)|"
    rf"{_THE_DOCUMENT}\s+get\s+published)\b"
    rf"|\bwhat\s+(?:date|day|year)\s+(?:was|is)\s+(?:{_NAMED_DOCUMENT}\s+(?:published|written|posted|from|dated)|"
    rf"(?:it|this)\s+(?:published|posted))\b"
    rf"|\bhow\s+old\s+is\s+{_NAMED_DOCUMENT}{_END}"
    rf"|\b(?:publication|publishing|posting)\s+date(?:\s+of\s+{_THE_DOCUMENT})?{_END}"
    rf"|\bdate\s+of\s+publication(?:\s+of\s+{_THE_DOCUMENT})?{_END}", re.IGNORECASE)
_ABOUT_PUBLISHER = re.compile(
    rf"\bwho\s+(?:published|publishes|ran|printed)\s+{_THE_DOCUMENT}{_END}"
    rf"|\b(?:which|what)\s+(?:publication|newspaper|magazine|outlet|paper|site|website|publisher)\s+"
    rf"(?:published|ran|printed|posted|is|was)\s+{_THE_DOCUMENT}(?:\s+(?:from|in))?{_END}"
    rf"|\bwhere\s+was\s+{_THE_DOCUMENT}\s+(?:published|printed|posted){_END}"
    rf"|\b(?:publisher|source)\s+of\s+{_THE_DOCUMENT}{_END}|\bwho\s+is\s+the\s+publisher{_END}", re.IGNORECASE)
# words that only ask for the document's fact: what remains of the salient terms is its topic
_FACT_WORDS = frozenset("publish published publishes publication publishing publisher date dated posted posting "
                        "released printed appear run online old first originally newspaper magazine outlet paper site "
                        "website source author authors authored writer writers reporter journalist byline penned "
                        "wrote written writes reported article story piece post essay column editorial text document "
                        "page blog news opinion sent send updated last show notes issued".split())
_TOPIC_CLAUSE = re.compile(r"\b(?:about|regarding|concerning)\s+(.+?)\s*[?!.]*$", re.IGNORECASE)
_TRAILING_VERB = re.compile(r"(?:\s+(?:first|originally|published|written|posted|released|printed|dated|run|sent|"
                            r"appear(?:ed)?|come\s+out|from))+$", re.IGNORECASE)  # "…about the sewers published?"


def about_document(question: str) -> str | None:
    """Which fact of the document itself the question asks: ``author`` ("Who wrote the
    article?"), ``published`` ("When was it published?") or ``publisher`` ("Who published the
    story about X?"); None when it asks about what the document says ("Who is the author of
    Hamlet?")."""
    question = " ".join(question.split())  # one space between words: the patterns assume it
    for field, pattern in (("author", _ABOUT_AUTHOR), ("published", _ABOUT_PUBLISHED),
                           ("publisher", _ABOUT_PUBLISHER)):
        if pattern.search(question):
            return field
    return None


_WRITING = r"(?:the |this )?(?:article|story|piece|text|passage)\b"  # "the report" may be one it cites
_SOURCE = r"(?:the |this )?(?:article|story|piece|text|passage|page|document|author|writer)\b"
_TOPIC = r"(?:about|of|regarding|concerning)\s+(?P<topic>.+?)"  # not "on": "What was said on July 27?"
_IN_IT = rf"(?:\s+(?:in|from)\s+{_WRITING})?"
_END = r"\s*[?!.]*$"
_ASKS = rf"(?:{'|'.join(sorted(_OPENERS))})\b"  # a question opens here ("… according to the article, why …")
# A request for what the document says of a topic is a lookup of the topic; a question about
# the document's own words ("according to the article") is the question alone. Only these
# framings: "What does Armstrong say about the summit?" is a question about Armstrong, and
# "According to the text of the armistice, who signed?" a question about the armistice's text.
_FRAMES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    rf"^what\s+(?:does|did|do)\s+{_SOURCE}\s+(?:say|tell\s+(?:us|me)|write|report|mention|state|claim|note)\s+"
    rf"{_TOPIC}{_IN_IT}{_END}",
    rf"^what\s+(?:is|was|are|were)\s+(?:said|written|reported|mentioned)\s+(?:in\s+{_WRITING}\s+)?{_TOPIC}"
    rf"{_IN_IT}{_END}",
    rf"^what\s+(?:do|can|did|does)\s+(?:we|i|you|one)\s+(?:learn|know|find\s+out|read)\s+{_TOPIC}{_IN_IT}{_END}",
    rf"^(?:please\s+)?(?:tell\s+(?:me|us)|talk|give\s+me\s+(?:some\s+)?(?:information|info|details))"
    rf"(?:\s+(?:more|something))?\s+{_TOPIC}{_IN_IT}{_END}",
    rf"^(?:according\s+to|in)\s+{_WRITING}\s*[,:]\s*(?P<topic>.+)$",
    rf"^according\s+to\s+{_WRITING}\s+(?P<topic>{_ASKS}.+)$",
    rf"^(?P<topic>{_ASKS}.+?)\s*,?\s+(?:in|according\s+to)\s+{_WRITING}\s*(?P<mark>[?.!]*)$",
))


def unframed(text: str) -> str:
    """The question without the words that only point at the document: "What does the
    article say about Syngman Rhee?" asks what "Syngman Rhee" asks, "According to the
    article, why …?" what "Why …?" asks. Those words are in no passage, yet BM25 and the
    sentence model read them ("says" matches every quotation): the framed question found
    another passage first, and a lower confidence, than the lookup it stands for."""
    for frame in _FRAMES:
        match = frame.match(text)
        if match is None or about_document(text):
            continue
        topic = match.group("topic").strip()
        if re.search(r"(?:^|[\s.])[A-Z]$", topic) and text[match.end("topic"):].startswith("."):
            topic += "."  # "the U.S.": the abbreviation keeps its last period
        if not tokenize([topic], stopwords=QUESTION_STOPWORD_LIST)[0]:
            continue  # nothing left to search: "Tell me about it", "the U.S"
        mark = match.groupdict().get("mark") or ""
        return topic[:1].upper() + topic[1:] + mark if _opens_question(topic) else topic + mark
    return text


@dataclass(frozen=True)
class Query:
    text: str  # the question as asked, in NFKC with its runs of whitespace made one space (normalize)
    corrected: str | None  # as searched, if misspelled words were corrected (spelling.py) or capitals named (places.py)
    search_text: str  # what is embedded and searched: the corrected text, else the question (with its "?")
    terms: tuple[str, ...]  # BM25 terms: folded, stemmed, English stopwords removed
    salient: tuple[str, ...]  # content terms: question words and words about the document removed too
    names: tuple[str, ...]  # stemmed terms of capitalised words and numbers ("Singapore", "2019")
    phrases: tuple[str, ...]  # quoted phrases of two words or more, folded and lower-cased
    answer_type: str | None  # "cause", "date", "number", "money", a measure ("speed"...), "person" or None
    shape: Shape | None  # a sentence shape that answers it ("signed by <Name>"; answer_types.py)
    about: str | None  # a fact of the document itself it asks: "author", "published", "publisher" (about_document)
    topic: tuple[str, ...]  # with ``about``: the salient terms naming which document ("tram"), if any
    keyword: bool  # a lookup ("Dwight Martin", "Yeonpyeong"): at most four words, no question word, a content word
    words: frozenset[str]  # its words, folded and lower-cased (a name it already holds is no answer)

    @property
    def looks_up_nothing(self) -> bool:
        """No word but function words, no quoted phrase, not about the document: "?", "Who are
        they?" ("What is C?" looks up C, which BM25 cannot, the embedding can)."""
        return not (self.salient or self.phrases or self.about or self.words - FUNCTION_WORDS)


def normalize(question: str) -> str:
    """Questions that differ only in width or spacing share one cache entry, and ``analyse``
    reads this form, so they share one analysis too ("How  long" once missed the "how long"
    answer type). Not in case: the analysis reads it (a capitalised word is a name; "Turabi"
    is spelled as a name, "turabi" as a word)."""
    return " ".join(unicodedata.normalize("NFKC", question).split())


def lookup_phrase(text: str) -> tuple[str, ...]:
    """A lookup of two words or more ("conflict without hostilities", "Hobart R. Gay") is also
    a phrase, as Lucene's edismax boosts the query's words found together (``pf``): the
    passage that holds them in that order comes first, not one that has them scattered."""
    phrase = _phrase(text.strip(" \"'“”‘’?!.,;:"))
    return (phrase,) if " " in phrase else ()


def as_question(text: str) -> str:
    """A question typed without its question mark gets one. The sentence model reads the
    mark (ranks moved with it: "when was the armistice signed" found another passage first
    than "When was the armistice signed?"), and people often leave it out; case it ignores."""
    body = text.rstrip("?! ")
    if "?" in text[len(body):]:
        text = body + "?"  # "??", "?!" and " ?" read as one "?"
    return text + "?" if _opens_question(text) and text[-1:].isalnum() else text


def _document_topic(text: str, salient: list[str]) -> tuple[str, ...]:
    """What names the document a question about the document means: its "about X" clause,
    whatever words X holds ("the article about the journalist"); else the salient words that
    do not just ask for the fact ("When was the **tram** story published?")."""
    clause = _TOPIC_CLAUSE.search(text)
    if clause:
        words = tokenize([_TRAILING_VERB.sub("", clause.group(1))], stopwords=QUESTION_STOPWORD_LIST)[0]
        return tuple(words)
    return tuple(t for t in salient if t not in _fact_terms())


@lru_cache(maxsize=1)
def _fact_terms() -> frozenset[str]:
    return frozenset(tokenize([" ".join(sorted(_FACT_WORDS))], stopwords=[])[0])


def _opens_question(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)[:2]]
    return bool(words) and (words[0] in _OPENERS or words[-1] in WH_WORDS)  # "At what time…"


def _shouted(text: str) -> bool:
    """Three words or more and not one lowercase letter: the case tells nothing of names."""
    return len(_LETTERS.findall(text)) >= 3 and not any(c.islower() for c in text) and any(c.isupper() for c in text)


def quoted_phrases(question: str) -> tuple[str, ...]:
    """A phrase query, as in Elasticsearch's query_string: "On the Computational Complexity
    of Algorithms" asks for those words in that order."""
    return tuple(_phrase(p) for p in _QUOTED.findall(question) if len(p.split()) >= 2)


def _phrase(text: str) -> str:
    """Folded, lower-cased, one space between words: as contains_phrase reads passages."""
    return " ".join(fold(text).lower().split())


def _name_words(question: str) -> list[str]:
    names = []
    for word in _WORD.findall(question):
        word = word.strip(".'’-")
        if word and word.lower() not in QUESTION_STOPWORDS and (word[0].isupper() or word[0].isdigit()):
            names.append(word)
    return names


def analyse(question: str, speller: Speller | None = None) -> Query:
    """Everything the ranking, the verdict and the highlight need from the question's text;
    with a ``speller`` (the index's), misspelled words are corrected first."""
    asked = normalize(question)  # what the answer cache is keyed by: so the key decides the analysis
    readable = asked.lower() if _shouted(asked) else asked  # "WHICH WARSHIP SANK?": not five names
    corrected = speller.correct(readable) if speller is not None else None
    if speller is not None:  # "Has Seoul talked…" of an article that writes "South Korea" (places.py)
        corrected = as_countries(corrected or readable, speller.words) or corrected
    about = about_document(corrected or readable)  # "Whi wrote the article?" too
    text = unframed(corrected or readable) if about is None else corrected or readable  # its framing is the question
    names = _name_words(text)
    [terms] = tokenize([text])
    salient, name_terms = tokenize([text, " ".join(names)], stopwords=QUESTION_STOPWORD_LIST)
    # a lookup names something: "Tell me about it" has nothing to look up (and its term coverage,
    # over no terms, would be full)
    keyword = (len(text.split()) <= 4 and not any(w.lower() in _QUESTION_WORDS for w in _WORD.findall(text))
               and bool(salient))
    return Query(
        text=asked,
        corrected=corrected,
        search_text=as_question(text),
        terms=tuple(terms),
        salient=tuple(salient),
        names=tuple(name_terms) if names else (),
        phrases=quoted_phrases(text) or (lookup_phrase(text) if keyword else ()),
        answer_type=expected_answer_type(text),
        shape=answer_shape(text),
        about=about,
        # "When was it published?" names no topic; "… the story about the tram" does
        topic=_document_topic(text, salient) if about is not None else (),
        keyword=keyword,
        words=frozenset(_LETTERS.findall(fold(text).lower())),
    )
