"""BM25 with bm25s: the passages' index and the distinct sentences' index, and the
analyzer both they and questions use (snowball stemmer over an irregular form's only lemma,
English stopwords, ASCII folding).

Saved by bm25s itself as JSON and ``.npy`` files (``allow_pickle=False``), so nothing
loaded back is a pickle.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG


@lru_cache(maxsize=1 << 16)
def only_lemma(word: str) -> str:
    """An inflected verb's or noun's lemma when it has only one ("sank" -> "sink", "children"
    -> "child", "wrote" -> "write": lemminflect's lexicon); else the word as written: a form that
    is also a word of its own ("found", "saw", "left", "rose"), an adjective's or adverb's degree
    ("hardest") or a word the lexicon lacks (a name)."""
    from lemminflect import getAllLemmas

    readings = getAllLemmas(word)
    if set(readings) - _INFLECTED:
        return word  # "hardest" is not "hard": a degree, unlike a tense or a plural, is part of the meaning
    lemmas = {lemma for forms in readings.values() for lemma in forms}
    return lemmas.pop() if len(lemmas) == 1 and not lemmas & _AUXILIARIES else word


# "did", "had", "was" stay as written: an auxiliary's forms carry no topic, and "When did it sink?"
# must not find every "We do not …" once "did" reads as "do"
_AUXILIARIES = frozenset({"be", "have", "do"})
_INFLECTED = frozenset({"VERB", "NOUN"})  # the parts of speech read as their lemma; not adjectives or adverbs


class _LemmaStemmer:
    """The analyzer's stemmer: snowball over the only lemma, so "When did the Corvina sink?"
    finds "She sank…", which no stemmer relates to "sink" (irregular forms)."""

    def __init__(self, snowball):
        self._snowball = snowball

    def stemWords(self, words: Sequence[str]) -> list[str]:
        return self._snowball.stemWords([only_lemma(w) for w in words])


@lru_cache(maxsize=1)
def analyzer_stemmer() -> _LemmaStemmer:
    return _LemmaStemmer(stemmer())


@lru_cache(maxsize=1)
def stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# Words that carry no subject matter in a question: auxiliaries, question words, and words
# about the document itself ("article", "quoted"). Used to find a question's salient terms.
FUNCTION_WORDS = frozenset("""
a an the and or but if of to in on at by for with from as into about over after before between
during under above than then so such that this these those there here it its it's they them their
he him his she her we us our you your i me my is are was were be been being am do does did done
doing have has had having can could would should will shall may might must ought how what which
who whom whose when where why whether many much any some every each all more most other another
also just only not no nor very too get got make made tell know known happen happened happens
""".split())
QUESTION_STOPWORDS = FUNCTION_WORDS | frozenset("""
article text document passage author mention mentioned mentions quote quoted quotes say says said
according write writes wrote written reported report story piece
""".split())


QUESTION_STOPWORD_LIST = sorted(QUESTION_STOPWORDS)  # as bm25s.tokenize takes them


def fold(text: str) -> str:
    """ASCII folding, as Elasticsearch's asciifolding filter: "fiancée" matches "fiancee",
    "Fécamp" matches "Fecamp", and the Latin letters no accent makes ("Ødegård", "Æsir",
    "Straße", "Łódź") fold as anyascii spells them: "Odegard", "AEsir", "Strasse", "Lodz".
    Other scripts stay as written. Only the terms are folded; passage text is never changed."""
    if text.isascii():
        return text
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return stripped if stripped.isascii() else "".join(map(_latin_ascii, stripped))


WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")  # a word of letters, "don't" one word: the vocabulary's


def vocabulary_words(text: str) -> list[str]:
    """The words of a text as the corpus vocabulary holds them: folded, lower-cased
    (spelling.vocabulary; places.py asks whether the corpus names a country)."""
    return WORD.findall(fold(text).lower())


def _latin_ascii(character: str) -> str:
    code = ord(character)  # Latin-1 Supplement to Latin Extended-B, and Latin Extended Additional: no name
    if code < 0xC0 or 0x24F < code < 0x1E00 or code > 0x1EFF:  # looked up for other scripts (4 times slower)
        return character
    if not unicodedata.name(character, "").startswith("LATIN "):
        return character
    from anyascii import anyascii  # a table lookup per letter

    return anyascii(character)


K1 = 1.2
PASSAGE_B = 0.75  # the usual length normalization for windows
SENTENCE_B = 0.0  # none for single sentences: a long answering sentence must not lose for its length
# Recorded in the manifest: an index whose terms were made another way is stale.
LEXICAL_ANALYZER = (f"bm25s; passages k1={K1} b={PASSAGE_B}, sentences k1={K1} b={SENTENCE_B:g}; "
                    "english stopwords; snowball english stemmer; ascii folding, Latin letters too (ø, æ, ß, ł); "
                    "dotted numbers whole (2.4.1, 1.6), apart from letters before them (v2.4.1); "
                    "units apart from numbers (200g, 1.6l), thousands unseparated (2,500); "
                    "an irregular verb or noun form's only lemma first, not an auxiliary's nor a degree's "
                    "(lemminflect: sank -> sink, did and hardest stay); a transcript's speaker labels no terms")
# bm25s's words of two characters or more, but a number with dots is one term, as Elasticsearch's
# standard tokenizer keeps it: "What was fixed in 2.4.1?" lost "2.4.1" to "2", "4" and "1", all too short
TOKEN_PATTERN = r"(?u)\b\d+(?:\.\d+)+\b|\b\w\w+\b"
# "v2.4.1" and "Python3.11" are version 2.4.1 and Python 3.11: the number is a term of its own (for
# tokenizing only: the text itself is never changed)
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_])(?=\d+(?:\.\d+)+\b)")
# "200g", "1.6l", "10km", "$1.2m" are 200 g, 1.6 l, 10 km, 1.2 m: a recipe writes "200 g" and its reader
# asks for "200g" (Elasticsearch's word_delimiter splits on letter-number changes too); not an ordinal or
# a decade ("21st", "1950s"). "2,500" is 2500, not "500": a thousands separator is dropped.
_NUMBER_UNIT = re.compile(r"(?<=\d)(?=(?!(?:st|nd|rd|th|s)\b)[^\W\d_]+\b)", re.IGNORECASE)
_THOUSANDS = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")


# a word hyphenated at a line's end, as text extracted from a PDF is: "pro-\ngramme" is "programme"
_LINE_END_HYPHEN = re.compile(r"(?<=[a-z])-[ \t]*\n[ \t>]*(?=[a-z])")


# a transcript's speaker label ("EDWIN: No, no."): who speaks, not what the turn is about; as a term it made
# every short turn of Edwin's the best match for "Who is Edwin Carraway?"
SPEAKER_LABEL = re.compile(r"^[ \t]*[A-Z][A-Z.'’ -]{0,30}:(?=[ \t])", re.MULTILINE)


def _number_terms(text: str) -> str:
    """``text`` with its numbers spaced and joined as they are terms, its words hyphenated at a
    line's end whole, and no speaker labels (tokenizing only: the text itself is never changed)."""
    text = _LINE_END_HYPHEN.sub("", text) if "-\n" in text or "- \n" in text else text
    text = SPEAKER_LABEL.sub(" ", text) if ":" in text else text
    spaced = _NUMBER_UNIT.sub(" ", _GLUED_NUMBER.sub(" ", text))
    return _THOUSANDS.sub(lambda m: m[0].replace(",", ""), spaced) if "," in spaced else spaced


def contains_phrase(text: str, phrases: Sequence[str]) -> bool:
    """Does ``text`` hold one of the (folded, lower-cased) phrases, words in that order?"""
    folded = " ".join(fold(text).lower().split())
    return any(p in folded for p in phrases)


def content_terms(text: str) -> frozenset[str]:
    """Stemmed content words of a passage, as a question's salient terms are made."""
    return frozenset(tokenize([text], stopwords=QUESTION_STOPWORD_LIST)[0])


def tokenize(texts: Sequence[str], stopwords: Sequence[str] | str = "en") -> list[list[str]]:
    """Folded, stemmed terms of each text: the analyzer of both indexes and of questions."""
    import bm25s

    return bm25s.tokenize([_number_terms(fold(t)) for t in texts], token_pattern=TOKEN_PATTERN,
                          stopwords=stopwords, stemmer=analyzer_stemmer(), return_ids=False, show_progress=False)


def bm25_idf(df: int, documents: int) -> float:
    """Lucene's BM25 inverse document frequency (bm25s's default)."""
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


class LexicalIndex:
    def __init__(self, retriever, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], *, b: float = PASSAGE_B) -> "LexicalIndex":
        """``b`` is BM25's length normalization: PASSAGE_B for windows, SENTENCE_B for sentences."""
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=b)
        tokens = tokenize(texts)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25.load(str(folder), allow_pickle=False, load_corpus=False)
        return cls(retriever, size)

    @property
    def documents(self) -> int:
        """How many texts bm25s indexed (checked against the passages at load)."""
        return int(self._retriever.scores["num_docs"])

    def knows(self, term: str) -> bool:
        """Is this stemmed term anywhere in the indexed passages?"""
        return term in self._retriever.vocab_dict

    def idf(self, term: str) -> float:
        """BM25's (Lucene) inverse document frequency; a term no text holds gets the largest."""
        column = self._retriever.vocab_dict.get(term)
        indptr = self._retriever.scores["indptr"]
        return bm25_idf(int(indptr[column + 1] - indptr[column]) if column is not None else 0, self.documents)

    @property
    def b(self) -> float:
        return float(self._retriever.b)

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 of every indexed text for the (analysed) question terms."""
        known = [t for t in terms if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def term_matches(self, terms: Sequence[str]) -> np.ndarray:
        """How many of the distinct ``terms`` each indexed text contains (read off the
        BM25 matrix, whose entries are non-zero exactly where a term occurs)."""
        counts = np.zeros(self.size, dtype=np.int32)
        matrix = self._retriever.scores
        for term in set(terms):
            column = self._retriever.vocab_dict.get(term)
            if column is not None:
                counts[matrix["indices"][matrix["indptr"][column] : matrix["indptr"][column + 1]]] += 1
        return counts
