"""Expected answer type, a classic question-answering prior applied to every corpus alike:
a "when" question is answered by a date or time, a "how many" question by a number, "how
fast" or "how long" by a number with its unit ("14.5 knots", "6 minutes"), a "why" question
by a cause ("because", "due to"...), a "who" question by a name the question does not
already hold ("Who signed the armistice?" is answered by the sentence naming Harrison and
Nam Il, not by "the parties who signed the armistice…"). A passage
that contains such an expression gets a boost (search.py). What never answers is in
furniture.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import QUESTION_STOPWORDS, content_terms, fold, stemmer

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


# a sum of money: "$3.8 million", "£412m", "€20", "40 million dollars", "US$5bn"
_MONEY = re.compile(
    r"(?:(?<!\w)(?:US|A|C|NZ|HK|S)?[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|CHF)\s?)\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|bn|m|k)\b)?"
    # a digit run starts where no digit, comma or dot comes before: each run is read once (a long
    # "1.1.1…" row was read again from every digit, quadratic)
    r"|(?<![\d,.])\d[\d,.]*(?:\s(?:million|billion|trillion)|\s?(?:m|bn))?\s(?:dollars|euros|pounds|yen|yuan|"
    r"rupees|francs|pesos|crowns|kronor|kroner|roubles|rubles|USD|EUR|GBP|JPY|CHF)\b",
    re.I,
)


# a quantity with its unit: "14.5 knots", "200°C", "6 minutes", "58.4 m", "two hours"
_SPELLED = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|" \
           r"hundred|few|several)"
_UNITS = {
    "duration": r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?|decades?|centuries)",
    "length": r"(?:mm|cm|m|km|metres?|meters?|kilometres?|kilometers?|miles?|feet|foot|ft|inch(?:es)?|yards?|"
              r"nautical\s+miles?)",
    "speed": r"(?:knots?|mph|km/h|kph|m/s|miles\s+(?:an|per)\s+hour|kilometres\s+(?:an|per)\s+hour)",
    "mass": r"(?:mg|g|kg|grams?|kilograms?|tonnes?|tons?|pounds?|lbs?|oz|ounces?|GRT)",
    "temperature": r"(?:°\s?[CF]|degrees?(?:\s+(?:Celsius|Fahrenheit|C|F))?)",
}


def _measure(*units: str) -> re.Pattern[str]:
    unit = "|".join(_UNITS[u] for u in units)
    return re.compile(rf"(?<![\w.])(?:\d[\d,.]*(?:\s?[-–]\s?\d[\d,.]*)?[\s-]?|{_SPELLED}[\s-])(?:{unit})(?!-?\w)", re.I)


ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {
    "cause": _CAUSE, "date": _DATE, "number": _NUMBER, "money": _MONEY,
    "duration": _measure("duration"), "length": _measure("length"), "speed": _measure("speed"),
    "mass": _measure("mass"), "temperature": _measure("temperature"),
    "extent": _measure("duration", "length"),  # "How long is the ship?" or "How long was the war?"
}
_ASKS_FOR = (
    ("cause", re.compile(r"\bwhy\b|\bfor what reason\b")),
    # "How much will the lanes cost?": a sum of money, not any number ("6–3", "2.4-kilometre")
    # "how much" then a verb (not "how much time", "how much land"), and a word of money
    ("money", re.compile(r"\bhow much\s+(?:money\b|(?:did|does|do|will|would|is|was|are|were|has|had|can|could|"
                         r"should|must)\b[^?]*\b(?:cost|costs|costing|spend|spent|pay|paid|price|priced|worth|budget|"
                         r"charge|charged|fund|funded|owe|owed|earn|earned)\b)"
                         r"|\bwhat (?:is|was|will be|would be) the (?:cost|price|budget|fee|fine)\b"
                         r"|\bwhat did [^?]* cost\b")),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|time|date|day|month|century|decade)\b|\bwhich (year|century|decade)\b")),
    # a measure asks for its unit: "How fast was the steamer?" is "14.5 knots", not the year it was built
    ("duration", re.compile(r"\bhow long\s+(?:do|does|did|will|would|should|must|can|could|has|have|had)\b"
                            r"|\bfor how long\b|\bhow many (?:minutes|hours|days|weeks|months|years)\b")),
    ("extent", re.compile(r"\bhow long\b")),
    ("length", re.compile(r"\bhow (?:far|tall|high|wide|deep)\b|\bwhat (?:is|was) the (?:length|distance|height|depth)\b")),
    ("speed", re.compile(r"\bhow fast\b|\bwhat (?:is|was) the (?:top |maximum |average )?speed\b")),
    ("mass", re.compile(r"\bhow heavy\b|\bhow much (?:does|did) [^?]* weigh\b|\bwhat (?:is|was) the weight\b")),
    ("temperature", re.compile(r"\bhow (?:hot|cold|warm)\b|\b(?:what|which) (?:\w+ )?temperature\b")),
    ("number", re.compile(r"\bhow (many|much|old|big|large)\b"
                          r"|\bwhat (number|percentage|amount|share|proportion)\b")),
    ("person", re.compile(r"^\s*(who|whom)\b(?!\s+(is|was|are|were)\s+\S+\s*\??\s*$)")),
)
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|of|de|van|von|al|bin|da|del))*")
_WORDS = re.compile(r"[^\W_]+")


def names_in(sentence: str) -> frozenset[str]:
    """Lower-cased words of the capitalised runs of a sentence ("Nam Il", "U.S. Army"), but a
    single capitalised word that merely opens the sentence ("Even so, …")."""
    words: set[str] = set()
    for match in _CAPITALISED_RUN.finditer(sentence):
        run = match.group()
        if match.start() == len(sentence) - len(sentence.lstrip(" “\"'‘(")) and " " not in run:
            continue
        words.update(w.lower() for w in _WORDS.findall(fold(run)))  # folded, as the question's words are
    return frozenset(words - _JOINERS)


_JOINERS = frozenset({"of", "de", "van", "von", "al", "bin", "da", "del"})


def expected_answer_type(question: str) -> str | None:
    """The kind of expression that answers the question (a key of ANSWER_PATTERNS), if any."""
    q = question.lower()
    return next((kind for kind, asks in _ASKS_FOR if asks.search(q)), None)


_REPORTING = frozenset("says said say adds added add told tells writes wrote according notes noted explains explained "
                       "argues argued asks asked".split())
_COPULAS = frozenset("is was are were".split())  # "Who is X?" asks for a description of X
_AUXILIARIES = frozenset("is was are were be been has have had did does do was will would can could may might".split())
# before the verb of an active question: "Who will lead the review?" is answered by "led by <Name>"
_MODALS = frozenset("will would can could may might shall should must has have had".split())


def _looks_like_a_name(word: str) -> bool:
    """Capitalised, or not a common English word ("armstrong" yes, "son" no)."""
    from .spelling import COMMON_WORD, english_frequencies

    return word[:1].isupper() or (word.isalpha() and english_frequencies().get(word.lower(), 0) < COMMON_WORD)


def verb_forms(verb: str) -> str | None:
    """A pattern of the forms of ``verb`` ("wrote": write|writes|writing|written|wrote, from
    lemminflect's lexicon: "Who wrote it?" is answered by "written by"); else its stem and any
    ending ("signed" -> "sign…"); None for a stem too short to say anything."""
    from lemminflect import getAllInflections, getAllLemmas

    forms = {form for lemma in getAllLemmas(verb.lower()).get("VERB", ())
             for inflected in getAllInflections(lemma, upos="VERB").values() for form in inflected}
    if forms:
        return "|".join(re.escape(f) for f in sorted(forms | {verb.lower()}, key=len, reverse=True))
    stem = stemmer().stemWord(verb.lower())
    return rf"{re.escape(stem)}\w*" if len(stem) >= 3 else None


def _active_verb(words: list[str]) -> str | None:
    """The verb a "who" question asks the agent of: "Who signed …" (signed), "Who will lead …"
    and "Who has led …" (lead, led: a modal or perfect's verb, when lemminflect knows it as one);
    None for "Who is …", "Who did Rollo …" (the object is asked, not the agent)."""
    from lemminflect import getAllLemmas

    second = words[1].lower()
    if second not in _AUXILIARIES:
        return second if second.isalpha() else None
    if second in _MODALS and len(words) >= 3 and words[2].isalpha() and words[2].islower():
        return words[2] if "VERB" in getAllLemmas(words[2]) else None
    return None


@dataclass(frozen=True)
class Shape:
    """A sentence shape that answers the question: ``agent`` ("signed … by <Name>") or
    ``description`` ("<X>, a …"; "historian … <X>")."""

    kind: str
    pattern: re.Pattern[str]  # ranks: a sentence of this shape gets the kind's boost (search.py)
    decisive: re.Pattern[str] | None = None  # answers outright, whatever the fitted verdict says
    place: tuple[str, ...] = ()  # holder: the terms of the names the role is of ("the mayor of Kenmore")

    def search(self, sentence: str) -> bool:
        """Folded as the question's words are: "Who is Zoe Odegard?" is answered by "Zoë Ødegård, …"."""
        return self.pattern.search(fold(sentence)) is not None

    def decides(self, text: str) -> bool:
        """An apposition ("Armstrong, a Korean Studies specialist") or a role after an article
        ("the biologist Anton Stabentheiner") says who X is for sure: a bare word before the
        name ranks ("historian Armstrong") but may be a verb ("fined Armstrong")."""
        return self.decisive is not None and self.decisive.search(fold(text)) is not None


_NOT_A_TITLE = "|".join(sorted(_REPORTING | QUESTION_STOPWORDS))  # not "says", "with" or "and" Armstrong
# not a name's word: "On Tuesday, the mayor …", "In April, the mayor …"
_NOT_A_NAME = "|".join(sorted(QUESTION_STOPWORDS | {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december", "last", "next"}))


# "Who is the mayor of Kenmore?", "Who was the chief engineer?": the role's last word is its head
_ROLE_QUESTION = re.compile(r"^\s*who\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(?:[a-z][\w'’-]*\s+){0,2}?"
                            r"(?P<head>[a-z][\w'’-]{2,})(?:\s+(?:of|for|at|in|on)\s+(?P<place>[^?]+?))?\s*\??\s*$", re.I)


def _place_names(place: str) -> tuple[str, ...]:
    """The terms of the names in what a role is of: "the city of Kenmore now" is Kenmore."""
    names = " ".join(word for word in place.split() if word[:1].isupper())
    return tuple(sorted(content_terms(names))) if names else ()


def answer_shape(question: str) -> Shape | None:
    """A sentence shape that answers three kinds of "who" question, in any corpus:

    * "Who V-ed …?" is answered by "… V-ed by <Name>" (the agent of a passive: "an armistice
      was signed — by U.S. Army Lt. Gen. William K. Harrison Jr.");
    * "Who is <X>?" by a description of X: an apposition ("Armstrong, a Korean Studies
      specialist") or a title before the name ("historian Charles K. Armstrong"), not a
      reporting verb ("Armstrong adds");
    * "Who is the <role> (of Y)?" by the holder of the role named: "Mayor Annelie Strandberg",
      "Joseph Bazalgette, the board's chief engineer", "The mayor, Paulo Fernandes, said".
    """
    words = question.strip().rstrip("?").split()
    if len(words) < 2 or words[0].lower() not in ("who", "whom"):
        return None
    role = _ROLE_QUESTION.match(" ".join(question.split()))  # one space between words: its regex stays linear
    if role:
        head = f"(?i:{re.escape(fold(role.group('head')))})"
        name = rf"(?!(?i:{_NOT_A_NAME})\b)[A-Z][\w'’-]+\s+(?!(?i:{_NOT_A_NAME})\b)[A-Z][\w'’-]+"  # two words
        return Shape("holder", re.compile(rf"\b{head}\s+[A-Z][\w'’-]+"  # "Mayor Annelie Strandberg"
                                          rf"|{name},\s+(?:the|a|an|its|their|[\w'’-]+['’]s)\s+(?:[\w'’-]+\s+){{0,2}}?"
                                          rf"{head}\b"  # "Annelie Strandberg, the city's mayor"
                                          rf"|\b(?i:the)\s+{head},\s+[A-Z]"),  # "The mayor, Paulo Fernandes,"
                     place=_place_names(role.group("place") or ""))
    second = words[1].lower()
    if second in _COPULAS and 3 <= len(words) <= 5 and _looks_like_a_name(words[-1]):
        name = f"(?i:{re.escape(fold(words[-1]))})"
        apposition = rf"\b{name}\b,\s+(?:a|an|the|who|whose|one)\b"
        role = rf"(?!(?:{_NOT_A_TITLE})\b)[a-z]{{3,}}\s+(?:[A-Z][\w.'’-]*\s+){{0,3}}{name}\b"
        title = rf"(?<![\w]){role}"
        # after an article, the word before the name is a role, not a verb: "the biologist Anton X"
        described_role = rf"\b(?:[Tt]he|[Aa]n?)\s+{role}"
        return Shape("description", re.compile(f"{apposition}|{title}"), re.compile(f"{apposition}|{described_role}"))
    verb = _active_verb(words)
    if verb:
        forms = verb_forms(verb)
        if forms is None:
            return None
        return Shape("agent", re.compile(
            rf"\b(?:{forms})\b[^.;?!]{{0,40}}?\bby\s+(?:[\w.'’-]+\s+){{0,6}}?[A-Z]"))
    return None
