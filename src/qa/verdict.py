"""Does the first passage answer the question? A confidence from a small fitted model.

A logistic regression over a handful of features of the question and its ranked passages
(``features``), fitted on data by ``qa verdict fit`` (fitting.py) and shipped as JSON
(``verdict_model.json``, no pickle). Why these features:

* ``s1`` / ``d1``: how close the first passage's best sentence / whole window is by meaning;
* ``s_margin``: how far it stands out from the second passage;
* ``idf_cov_top``: the share of the question's content terms found in the first passage,
  read with its section path and its document's title ("Her master … was Captain Elias
  Thornbury" answers "Who was the captain of the Corvina?" in "PS Corvina (1874)"), weighted
  by rarity (a rare name missing matters, a common word little);
* ``n_unknown_names``: names and numbers of the question that the corpus never mentions;
* ``keyword*``: a lookup ("Dwight Martin") has little meaning to compare, so for it term
  coverage speaks and the similarity less.

Some rules are not fitted, for want of data (SQuAD, the data the model is fitted on, never
asks about its documents and seldom "Who is X?"): when the question asks who wrote the
document (or when, with a dated byline) and the first passage is its byline, naming which
document when several are asked, or asks who X is and the first passage
describes X in an apposition ("Charles K. Armstrong, a Korean Studies specialist"), the
question counts as answered, as it does when the document's metadata holds the fact a
question about the document asks for ("When was it published?", facts.py); when it asks who
wrote the document, when or who published it, and neither a byline nor the metadata says, it
does not.

``confidence`` is the fitted probability that the first passage answers; ``answered`` is
``confidence >= answer_at`` and "not found" is ``confidence < not_found_below``, two
operating points chosen on held-out articles (README, "Not in the article").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from .errors import ModelError
from .index.load import LoadedIndex
from .lexical import content_terms
from .query import Query
from .sections import embedding_text

FEATURES = ("s1", "d1", "s_margin", "idf_cov_top", "n_unknown_names", "keyword*s1", "keyword*idf_cov_top")
BYLINE_ANSWER = "byline_answers_author_question"  # decisive, not fitted: SQuAD asks nothing about its documents
# (and "When was it published?" by a dated byline)
DESCRIPTION_ANSWER = "description_answers_who_is"  # decisive, not fitted: "Who is X?" and "X, a historian"
METADATA_ANSWER = "metadata_answers_document_question"  # decisive: "When was it published?" (facts.py)
DECISIVE = (BYLINE_ANSWER, DESCRIPTION_ANSWER, METADATA_ANSWER)
# decisive the other way: of the document itself only a byline (or its metadata) says who wrote it, when or where
NO_BYLINE = "document_question_without_byline"
VERDICT_DEPTH = 2  # passages the features look at (the first and its margin over the second), whatever k is


def features(index: LoadedIndex, query: Query, hits: Sequence[Any], subject: str | None = None) -> dict[str, float]:
    """The verdict's inputs; ``hits`` are search.Hit, best first (at least one). A byline
    answers a question about the document only when it is the byline of the document meant
    (``subject``, facts.subject_document): of several asked, "Who wrote it?" names none, and
    one byline is a guess."""
    top = hits[0]
    terms = list(dict.fromkeys(query.salient))
    weights = [index.lexical.idf(t) for t in terms]
    chunk = index.chunks[top.chunk_id]
    document = index.documents[chunk.doc_id]  # the passage read with its section path and its document's title:
    in_top = content_terms(f"{document.title}\n{embedding_text(document, chunk)}")  # "she" is the Corvina
    total = sum(weights)
    coverage = sum(w for t, w in zip(terms, weights) if t in in_top) / total if total else 1.0
    keyword = float(query.keyword)
    byline = bool(index.answering_bylines(query.about)[top.chunk_id])  # "Who wrote it?", "When was it published?"
    byline = byline and subject is not None and index.chunks[top.chunk_id].doc_id == subject
    describes = query.shape is not None and query.shape.decides(index.chunks[top.chunk_id].text)
    return {
        "s1": top.sentence,
        "d1": top.dense,
        "s_margin": top.sentence - (hits[1].sentence if len(hits) > 1 else 0.0),
        "idf_cov_top": coverage,
        "n_unknown_names": float(sum(not index.lexical.knows(t) for t in dict.fromkeys(query.names))),
        "keyword*s1": keyword * top.sentence,
        "keyword*idf_cov_top": keyword * coverage,
        BYLINE_ANSWER: float(byline),
        NO_BYLINE: float(query.about is not None and not byline),
        DESCRIPTION_ANSWER: float(describes),
    }


@dataclass(frozen=True)
class VerdictModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    answer_at: float  # confidence from which the question counts as answered
    not_found_below: float  # confidence under which the page says "not found"
    report: dict[str, Any]  # how it was fitted and what it scored on held-out articles

    def confidence(self, values: dict[str, float]) -> float:
        """The fitted probability; a byline that answers "Who wrote it?", a description that
        answers "Who is X?" or the document's metadata that answers "When was it published?" is
        answered at least; else "Who wrote it?" answered by anything but a byline (a passage
        that merely shares the topic) is at most uncertain."""
        fitted = 0.0  # no passage: only the metadata can answer
        if all(name in values for name in self.features):
            z = sum(c * (values[name] - m) / s for name, m, s, c in zip(self.features, self.mean, self.std, self.coef))
            fitted = 1.0 / (1.0 + math.exp(-(z + self.intercept)))
        if any(values.get(rule) for rule in DECISIVE):
            return max(fitted, self.answer_at)
        return min(fitted, math.nextafter(self.answer_at, 0.0)) if values.get(NO_BYLINE) else fitted

    def verdict(self, confidence: float) -> str:
        """``answered``, ``uncertain`` (the page adds a quiet note) or ``not_found``."""
        if confidence >= self.answer_at:
            return "answered"
        return "uncertain" if confidence >= self.not_found_below else "not_found"

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "std": list(self.std),
                "coef": list(self.coef), "intercept": self.intercept, "answer_at": self.answer_at,
                "not_found_below": self.not_found_below, "report": self.report}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VerdictModel":
        names = tuple(data["features"])
        if set(names) - set(FEATURES) or not len(names) == len(data["mean"]) == len(data["std"]) == len(data["coef"]):
            raise ValueError(f"unknown features or mismatched lengths: {names}")
        return cls(names, tuple(map(float, data["mean"])), tuple(map(float, data["std"])),
                   tuple(map(float, data["coef"])), float(data["intercept"]), float(data["answer_at"]),
                   float(data["not_found_below"]), dict(data.get("report", {})))


def load_model(path: str | Path | None = None) -> VerdictModel:
    """The shipped model (fitted by ``qa verdict fit`` on SQuAD 2.0 dev), or one of your own."""
    source = resources.files("qa").joinpath("verdict_model.json") if path is None else Path(path)
    try:
        return VerdictModel.from_json(json.loads(source.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{source}: not a usable verdict model ({type(exc).__name__}: {exc})") from None
