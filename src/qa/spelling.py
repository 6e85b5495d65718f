"""Typo tolerance, as search engines' "did you mean": a question word that the corpus does
not contain is replaced by a corpus word one or two edits away (symspellpy's SymSpell over
the corpus vocabulary), so "wen was the armistise sined" searches for "when was the
armistice signed". English words one edit away compete too: "guage" is closest to
"gauge", which the corpus lacks, so it stays as asked rather than become the corpus's
"game", two edits away.

A real English word the corpus lacks is left alone ("summit" is never turned into
"submit", "flee" never into "free"): a word is only replaced when it is unknown to English
(symspellpy's bundled frequency list), or when it is a rare word one edit from a question
word a hundred times more common ("wen" -> "when"). A capitalised word unknown to English
is a name: it may become a corpus word one edit away ("Yeonpyong" -> "Yeonpyeong"), never a
common English word ("Turing" stays, it does not become "During") and never one two edits away: a
name the corpus lacks is as likely as a typo, and "Turabi" turned into "Turban" or "Savery"
into "Severe" would search for, and answer, another question. Acronyms and words with
digits stay. Of equally close words: the only one English puts between the words around it
(symspellpy's bundled bigram counts: "hwo wrote" is "who wrote"), else one the typed word only
lacks letters of ("wher is" is "where is", not the commoner "when is"; "how mny" is "how
many", not "may"), else the one English most often puts there.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from importlib import resources

from .lexical import WORD, fold, vocabulary_words
from .places import capital_pattern

MUCH_MORE_COMMON = 100  # a valid but rare word yields to a question word this many times more frequent
COMMON_WORD = 20_000_000  # English words this frequent are not names ("wars", "during"; "Armstrong" is 7 M)
QUESTION_WORDS = frozenset("what when where which who whom whose why how".split())
# words that make the question, not its topic: a correction into one needs no corpus match ("how mny" -> "how
# many", "wen was it publishd" -> "when was it published")
_QUESTION_FORM = QUESTION_WORDS | frozenset("many much long often far old published written article author".split())


@lru_cache(maxsize=1)
def english_speller():
    """symspellpy's bundled English dictionary (82,765 words with their counts), one edit
    deep: the English words next to a typo. Loaded once per process (about 0.9 s)."""
    from symspellpy import SymSpell

    speller = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
    speller.load_dictionary(str(resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt")),
                            term_index=0, count_index=1)
    return speller


@lru_cache(maxsize=1)
def bigram_frequencies() -> dict[str, int]:
    """How often English puts two words together ("how many": 811 M, "how may": 8.6 M;
    symspellpy's bundled bigram counts), to choose between equally close corrections."""
    counts: dict[str, int] = {}
    path = resources.files("symspellpy").joinpath("frequency_bigramdictionary_en_243_342.txt")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            pair, _, count = line.rpartition(" ")
            counts[pair] = int(count)
    return counts


def english_frequencies() -> dict[str, int]:
    """How common each English word is (symspellpy's bundled unigram counts)."""
    return english_speller().words


def vocabulary(texts: list[str]) -> dict[str, int]:
    """Folded, lower-cased words of the corpus with their counts (stored in the index)."""
    return dict(Counter(word for text in texts for word in vocabulary_words(text)))


class Speller:
    def __init__(self, corpus_words: dict[str, int]):
        from symspellpy import SymSpell

        self.words = corpus_words
        english_speller()  # loaded now, at load (before a server forks its workers), not on a first typo
        bigram_frequencies()
        capital_pattern()  # and the capitals a question may name for its country (places.py)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in corpus_words.items():
            self._symspell.create_dictionary_entry(word, count)

    def correct(self, text: str) -> str | None:
        """The text with its misspelled words replaced, or None when nothing changed."""
        parts, position, changed, previous = [], 0, False, None
        matches = list(WORD.finditer(text))
        for number, match in enumerate(matches):
            before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
            if before.isdigit() or after.isdigit():
                previous = None
                continue  # part of "1oth", "8n2", "10kms": not a word to spell
            following = self._as_corrected(matches[number + 1].group()) if number + 1 < len(matches) else None
            replacement = self._replacement(match.group(), previous, following)
            if replacement is not None:
                parts += [text[position : match.start()], replacement]
                position, changed = match.end(), True
            previous = fold(replacement or match.group()).lower()
        return "".join(parts) + text[position:] if changed else None

    def _as_corrected(self, word: str) -> str:
        """The word after, as it reads once corrected on its own ("hwo wrot the…": "wrote" tells "who")."""
        return fold(self._replacement(word) or word).lower()

    def _replacement(self, word: str, previous: str | None = None, following: str | None = None) -> str | None:
        folded = fold(word).lower()
        if len(folded) < 3 or folded in self.words or "'" in folded or "’" in folded or not word[1:].islower():
            return None  # short, known to the corpus, a contraction, an acronym or CamelCase
        english = english_frequencies()
        known = english.get(folded, 0)
        candidates = self._candidates(folded, english, names_only=word[0].isupper() and not known)
        if known:  # a real word: only a rare one, and only into a question word ("wen" -> "when")
            candidates = [c for c in candidates if c[3] in QUESTION_WORDS]
        if not candidates:
            return None
        # fewest edits; then the only word English puts between the words around it ("hwo wrote"
        # is "who wrote", never "how wrote"; "they mny" is "they may"); then a word the typed one
        # only lacks letters of (a dropped letter is the commonest slip: "wher is" is "where is",
        # not the commoner "when is"; "whn did" is "when did"); then the word English most often
        # puts there; then the same first letter (rarely the mistyped one); then the most common
        distance, _, minus_frequency, term = min(candidates)
        usable = [c for c in candidates if c[0] == distance and (c[3] in self.words or c[3] in _QUESTION_FORM)]
        chosen = (self._likeliest_between(previous, following, usable, alone=True)
                  or min((c for c in usable if _lacks_letters(folded, c[3])), default=None)
                  or self._likeliest_between(previous, following, usable))
        if chosen is not None:
            distance, _, minus_frequency, term = chosen
        if term not in self.words and term not in _QUESTION_FORM:
            return None  # the closest word is one the corpus lacks: nothing to match, leave it as asked
        if word[0].isupper() and not known and english.get(term, 0) >= COMMON_WORD and term not in QUESTION_WORDS:
            return None  # a name does not become a common word ("Warsz" is not "Wars"; "Whn" is "When")
        if known and not (distance == 1 and -minus_frequency >= MUCH_MORE_COMMON * known):
            return None
        return term.capitalize() if word[:1].isupper() else term

    @staticmethod
    def _likeliest_between(previous: str | None, following: str | None, tied: list[tuple[int, bool, int, str]],
                           alone: bool = False) -> tuple[int, bool, int, str] | None:
        """Of equally close words, the one English most often puts after ``previous`` and
        before ``following``, if any; ``alone``: only if English puts none of the others there."""
        counts = bigram_frequencies()
        scored = sorted(((counts.get(f"{previous} {c[3]}", 0) + counts.get(f"{c[3]} {following}", 0), c)
                         for c in tied), reverse=True)
        if not scored or not scored[0][0] or (alone and len(scored) > 1 and scored[1][0]):
            return None
        return scored[0][1]

    def _candidates(self, folded: str, english: dict[str, int], names_only: bool) -> list[tuple[int, bool, int, str]]:
        """Corpus words within two edits (one for short words and names), and English words one
        edit away: "guage" means "gauge" even when only "game" is in the corpus (for names, only
        question words)."""
        from symspellpy import Verbosity

        reach = 1 if names_only or len(folded) <= 4 else 2
        found = {s.term: s.distance for s in self._symspell.lookup(folded, Verbosity.ALL, max_edit_distance=reach)
                 if len(s.term) >= 3}
        for suggestion in english_speller().lookup(folded, Verbosity.ALL, max_edit_distance=1):
            # a capitalised word may only be a question word's typo ("Wheer"): it opens the question
            if len(suggestion.term) >= 3 and (not names_only or suggestion.term in QUESTION_WORDS):
                found[suggestion.term] = min(found.get(suggestion.term, 1), 1)
        return [(distance, term[0] != folded[0], -english.get(term, self.words.get(term, 0)), term)
                for term, distance in found.items()]


def _lacks_letters(typed: str, word: str) -> bool:
    """``typed`` is ``word`` with letters left out ("wher", "where")."""
    letters = iter(word)
    return len(typed) < len(word) and all(letter in letters for letter in typed)
