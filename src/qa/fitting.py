"""``qa verdict fit``: fit the verdict model (verdict.py) on real questions, judged on
articles held out of the fit.

Rows come from SQuAD 2.0 files (each article its own corpus and index, as ``qa eval``
does) and, optionally, JSONL question sets asked against a corpus of your own:

* answerable questions, label 1 when the first passage holds a gold answer, else 0;
* SQuAD's unanswerable questions (adversarial near-misses), label 0;
* other-article questions: answerable questions of article A asked against article B's
  index (realistic off-topic questions), label 0;
* lookups: short names and numbers from the gold answers asked alone, against their own
  article (label: the first passage holds them) and against another that lacks them (0).

Cross-validation is grouped by article: a held-out fold's rows touch no article the model
was fitted on. The operating points come from the held-out confidences: ``answer_at`` so
that ``TARGET_ANSWERED`` of the answerable questions count as answered (a question the
corpus answers is flagged unanswered as rarely as that), ``not_found_below`` so that only
``TARGET_NOT_FOUND`` of them are called "not found".
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .questions import Article, Case
from .verdict import FEATURES, VerdictModel

TARGET_ANSWERED = 0.97
TARGET_NOT_FOUND = 0.003
OTHER_ARTICLES, OTHER_QUESTIONS, LOOKUPS = 3, 40, 30
FOLDS = 4


@dataclass(frozen=True)
class Row:
    kind: str
    group: int  # the article whose index answered
    source: int  # the article the question was written for
    answerable: bool
    label: int
    values: tuple[float, ...] | None  # None: no passage came back (confidence 0, not fitted on)


def lookups(article: Article) -> list[str]:
    """Short capitalised or numeric gold answers that occur verbatim: names asked alone."""
    found = set()
    for case in article.cases:
        for start, end in case.spans:
            answer = article.text[start:end].strip().strip(".,;:")
            if 1 <= len(answer.split()) <= 3 and len(answer) >= 3 and (answer[0].isupper() or answer[0].isdigit()) \
                    and re.search(r"[A-Za-z]", answer):
                found.add(answer)
    return sorted(found)


def derived_cases(articles: list[Article], seed: int) -> dict[int, list[tuple[int, Case]]]:
    """Per index article: (source article, case) for other-article questions and lookups."""
    rng = np.random.default_rng(seed)
    names = [lookups(a) for a in articles]
    extra: dict[int, list[tuple[int, Case]]] = {b: [] for b in range(len(articles))}
    for b, article in enumerate(articles):
        others = sorted(int(a) for a in rng.choice([a for a in range(len(articles)) if a != b],
                                                   size=min(OTHER_ARTICLES, len(articles) - 1), replace=False))
        for a in others:
            pool = [c for c in articles[a].cases if c.answerable]
            for i in sorted(rng.choice(len(pool), size=min(OTHER_QUESTIONS, len(pool)), replace=False)):
                extra[b].append((a, Case(pool[int(i)].question, False, kind="other-article")))
        for i in sorted(rng.choice(len(names[b]), size=min(LOOKUPS, len(names[b])), replace=False)):
            extra[b].append((b, Case(names[b][int(i)], True, evidence=names[b][int(i)], kind="lookup")))
        lowered = article.text.lower()
        absent = [(a, n) for a in range(len(articles)) if a != b for n in names[a] if n.lower() not in lowered]
        for i in sorted(rng.choice(len(absent), size=min(LOOKUPS, len(absent)), replace=False)):
            a, name = absent[int(i)]
            extra[b].append((a, Case(name, False, kind="lookup-absent")))
    return extra


def _label(case: Case, answer: Any) -> int:
    """1 when the first passage holds the answer."""
    if not answer.passages:
        return 0
    top = answer.passages[0]
    return int(case.answered_by(top.text, top.citation.start, top.citation.end))


def collect(articles: list[Article], embedder: Any, *, seed: int = 20261128, workdir: Path | None = None,
            limit: int | None = None) -> Iterator[Row]:
    """Ask every question of every article (and the derived ones) and yield its features."""
    from .chunking import ChunkingParams
    from .corpus import load_corpus
    from .embedding import TokenCounter
    from .index.build import build_index
    from .records import AskRequest
    from .service import QAService

    extra = derived_cases(articles, seed)
    with tempfile.TemporaryDirectory(prefix="qa-fit-", dir=workdir) as tmp:
        for b, article in enumerate(articles):
            corpus = article.write_corpus(Path(tmp) / f"corpus-{b}")
            index = Path(tmp) / f"index-{b}"
            build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(),
                        count_tokens=TokenCounter(embedder.spec.path), onnx=False)
            service = QAService(str(index), embedder=embedder, cache_size=0).load(strict=True)
            cases = [(b, c) for c in article.cases[:limit]] + extra[b]
            for source, case in cases:
                if case.kind == "lookup-absent" and _all_known(service, case.question):
                    continue  # "Americans" against a text with "American": a real lookup there
                answer = service.ask(AskRequest(case.question, 5, "hybrid"))
                known = answer.features and all(name in answer.features for name in FEATURES)
                values = tuple(answer.features[name] for name in FEATURES) if known else None  # not a fact alone
                yield Row(case.kind, b, source, case.answerable, _label(case, answer), values)


def _all_known(service: Any, question: str) -> bool:
    from .query import analyse

    index = service.index
    return all(index.lexical.knows(t) for t in analyse(question, index.speller).salient)


def folds_of(groups: int, folds: int, seed: int) -> np.ndarray:
    """Articles shuffled with the seed and dealt into folds."""
    order = np.random.default_rng(seed).permutation(groups)
    fold = np.empty(groups, dtype=int)
    fold[order] = np.arange(groups) % folds
    return fold


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    regression = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / std, y)
    return mean, std, regression.coef_[0], float(regression.intercept_[0])


def _predict(x: np.ndarray, mean: np.ndarray, std: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - mean) / std) @ coef + intercept)))


def held_out(rows: list[Row], folds: int, seed: int) -> np.ndarray:
    """Each row's confidence from a model fitted on rows that touch neither the fold of the
    article that answered it nor the fold of the article its question was written for (0
    where no passage came back, as the service answers)."""
    x = np.array([r.values or (0.0,) * len(FEATURES) for r in rows])
    y = np.array([r.label for r in rows])
    fitted = np.array([r.values is not None for r in rows])
    fold = folds_of(max(max(r.group, r.source) for r in rows) + 1, folds, seed)
    index_fold, source_fold = fold[[r.group for r in rows]], fold[[r.source for r in rows]]
    predicted = np.zeros(len(rows))
    for a, b in {(int(i), int(j)) for i, j in zip(index_fold, source_fold)}:
        test = (index_fold == a) & (source_fold == b) & fitted
        train = ~np.isin(index_fold, (a, b)) & ~np.isin(source_fold, (a, b)) & fitted
        if test.any():
            predicted[test] = _predict(x[test], *_fit(x[train], y[train]))
    return predicted


def fit(rows: list[Row], *, folds: int = FOLDS, seed: int = 20261128) -> VerdictModel:
    """The model on every row, with operating points and a report from held-out confidences."""
    from .calibration import operating_points, report

    predicted = held_out(rows, folds, seed)
    answer_at, not_found_below = operating_points(rows, predicted, TARGET_ANSWERED, TARGET_NOT_FOUND)
    usable = [r for r in rows if r.values is not None]
    mean, std, coef, intercept = _fit(np.array([r.values for r in usable]), np.array([r.label for r in usable]))
    return VerdictModel(FEATURES, tuple(mean.round(6)), tuple(std.round(6)), tuple(coef.round(6)), round(intercept, 6),
                        round(answer_at, 6), round(not_found_below, 6),
                        report(rows, predicted, answer_at, not_found_below, folds))
