"""The fitted verdict: confidence in range and calibrated, the operating points on our own
question sets, names asked alone, and the fitting command on a small slice of SQuAD."""

import json
import math

import pytest

from qa.calibration import brier, operating_points, reliability
from qa.verdict import (BYLINE_ANSWER, DESCRIPTION_ANSWER, FEATURES, METADATA_ANSWER, NO_BYLINE, VerdictModel,
                        load_model)

from conftest import ROOT, ask

EVAL = ROOT / "eval"


def _questions(name):
    return [json.loads(line)["question"] for line in (EVAL / name).read_text().splitlines() if line.strip()]


def test_confidence_is_a_probability_and_moves_with_the_evidence():
    model = load_model()
    base = dict(zip(model.features, model.mean))
    assert 0 < model.confidence(base) < 1
    closer = {**base, "s1": base["s1"] + 0.3, "d1": base["d1"] + 0.3}
    unknown = {**base, "n_unknown_names": 2.0}
    assert model.confidence(closer) > model.confidence(base) > model.confidence(unknown)
    extreme = {name: (50.0 if name != "n_unknown_names" else 0.0) for name in model.features}
    assert 0.0 <= model.confidence(extreme) <= 1.0 and not math.isnan(model.confidence(extreme))
    assert 0 < model.not_found_below < model.answer_at < 1
    assert [model.verdict(p) for p in (model.answer_at, model.not_found_below, model.not_found_below / 2)] == [
        "answered", "uncertain", "not_found"]


@pytest.mark.parametrize("rule", [BYLINE_ANSWER, DESCRIPTION_ANSWER, METADATA_ANSWER])
def test_a_byline_a_description_or_the_metadata_that_answers_counts_as_answered_whatever_the_fit_says(rule):
    model = load_model()
    weak = {**dict(zip(model.features, model.mean)), "s1": 0.0, "d1": 0.0, "idf_cov_top": 0.0}
    assert model.verdict(model.confidence(weak)) != "answered"
    assert model.verdict(model.confidence({**weak, rule: 1.0})) == "answered"
    assert model.confidence({**weak, rule: 0.0}) == model.confidence(weak)


def test_who_wrote_it_answered_by_anything_but_a_byline_is_never_answered():
    model = load_model()
    strong = {**dict(zip(model.features, model.mean)), "s1": 0.9, "d1": 0.9, "idf_cov_top": 1.0}
    assert model.verdict(model.confidence(strong)) == "answered"
    capped = model.confidence({**strong, NO_BYLINE: 1.0})
    assert model.verdict(capped) == "uncertain" and capped < model.answer_at
    weak = {**strong, "s1": 0.0, "d1": 0.0, "idf_cov_top": 0.0, NO_BYLINE: 1.0}
    assert model.confidence(weak) == model.confidence({**weak, NO_BYLINE: 0.0})  # a weak one keeps its own


def test_the_documents_metadata_answers_who_wrote_it_without_a_byline_and_without_any_passage():
    """"Who wrote the article about the honeybees?": no byline in the text, but its meta tags say."""
    model = load_model()
    weak = {**dict(zip(model.features, model.mean)), "s1": 0.0, "d1": 0.0, "idf_cov_top": 0.0, NO_BYLINE: 1.0}
    assert model.verdict(model.confidence({**weak, METADATA_ANSWER: 1.0})) == "answered"
    assert model.confidence({METADATA_ANSWER: 1.0}) == model.answer_at  # no passage at all: the fact alone


def test_the_shipped_models_report_records_held_out_articles_and_calibration():
    """Reads the report that `qa verdict fit` wrote into the shipped model (the fit itself is
    tested on a small slice below)."""
    model = load_model()
    report = model.report
    assert "grouped by article" in report["held_out"] and report["rows"] > 5000
    assert report["by_kind"]["answerable"]["answered"] >= 0.97
    populated = [row for row in report["reliability"] if row["n"] >= 100]
    assert len(populated) >= 5
    for row in populated:  # predicted probabilities match observed frequencies, bin by bin
        assert abs(row["predicted"] - row["observed"]) <= 0.1, row
    observed = [row["observed"] for row in populated]
    assert observed == sorted(observed), "a higher confidence must mean a higher observed rate"


def test_our_answerable_sets_are_answered_and_off_topic_ones_rejected(service, article_questions):
    answerable = _questions("on_topic.jsonl") + [row["question"] for row in article_questions]
    answered = [ask(service, q).answered for q in answerable]
    far = [ask(service, q) for q in _questions("far.jsonl")]
    near = [ask(service, q).answered for q in _questions("near.jsonl")]
    assert sum(answered) / len(answered) >= 0.96, [q for q, a in zip(answerable, answered) if not a]
    assert not any(a.answered for a in far)
    assert sum(a.verdict == "not_found" for a in far) / len(far) >= 0.9
    assert 1 - sum(near) / len(near) >= 0.6


@pytest.mark.parametrize("name, passage", [
    ("Rhee", "Syngman Rhee"), ("Yeonpyeong", "Yeonpyeong"), ("Dwight Martin", "Dwight Martin"),
    ("Cheonan", "Cheonan"), ("Zhou Enlai", "Zhou Enlai"),
])
def test_a_name_in_the_corpus_asked_alone_is_answered_with_its_passage_first(service, name, passage):
    answer = ask(service, name)
    assert answer.answered and passage in answer.passages[0].text


@pytest.mark.parametrize("question", [
    "What gesture symbolized America's refusal to recognize Communist China?",
    "What does Armstrong expect from the summit?",
    "Why did progress stall after the 1991 agreement?",
])
def test_paraphrases_answered_by_the_first_passage_are_not_flagged(service, question):
    answer = ask(service, question)
    assert answer.verdict != "not_found" and answer.passages


@pytest.mark.parametrize("question", ["Has Seoul talked about a peace treaty with Pyongyang?", "Rhee",
                                      "Who wrote the article?", "What is the capital of France?"])
def test_the_confidence_does_not_depend_on_how_many_passages_are_asked_for(service, question):
    """The margin over the second passage is a feature: with k=1 there must still be a second."""
    one, five = ask(service, question, 1), ask(service, question, 5)
    assert len(one.passages) <= 1
    assert one.confidence == pytest.approx(five.confidence) and one.verdict == five.verdict


def test_names_the_corpus_never_mentions_are_not_answered(service):
    for name in ("Otto Warmbier", "MacArthur", "Pompeo"):
        assert not ask(service, name).answered, name


def test_reliability_and_brier_are_plain_arithmetic():
    table = reliability([0.05, 0.05, 0.95, 0.95], [0, 1, 1, 1], bins=10)
    assert table == [{"bin": "0.0-0.1", "n": 2, "predicted": 0.05, "observed": 0.5},
                     {"bin": "0.9-1.0", "n": 2, "predicted": 0.95, "observed": 1.0}]
    assert brier([1.0, 0.0], [1, 0]) == 0.0 and brier([0.5, 0.5], [1, 0]) == 0.25


def test_operating_points_let_the_target_share_of_every_answerable_kind_through():
    from types import SimpleNamespace as Row
    import numpy as np

    rows = [Row(kind="answerable", answerable=True)] * 100 + [Row(kind="lookup", answerable=True)] * 10 + \
           [Row(kind="other-article", answerable=False)] * 50
    predicted = np.concatenate([np.linspace(0.2, 1.0, 100), np.linspace(0.05, 1.0, 10), np.full(50, 0.01)])
    answer_at, not_found = operating_points(rows, predicted, 0.97, 0.005)
    assert (predicted[:100] >= answer_at).mean() >= 0.97 and (predicted[100:110] >= answer_at).mean() >= 0.97
    assert (predicted[110:] < answer_at).all() and not_found <= answer_at


@pytest.mark.slow  # builds four indexes
def test_fitting_on_a_small_slice_writes_a_model_the_service_can_use(tmp_path, embedder, service):
    from qa.fitting import collect, fit
    from qa.questions import read_sets

    articles = read_sets(ROOT / "tests" / "fixtures" / "squad2_dev_slice.json")
    assert len(articles) == 4 and all(a.text for a in articles)
    rows = list(collect(articles, embedder, limit=12))
    kinds = {r.kind for r in rows}
    assert {"answerable", "unanswerable", "other-article", "lookup"} <= kinds
    assert all((r.values is None or len(r.values) == len(FEATURES)) and r.label in (0, 1) for r in rows)
    answerable = [r for r in rows if r.kind == "answerable"]
    assert sum(r.values is not None for r in answerable) > 0.9 * len(answerable)  # off-topic ones may get none
    model = fit(rows, folds=4)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model.to_json()))
    loaded = VerdictModel.from_json(json.loads(path.read_text()))
    assert loaded == model and loaded.not_found_below <= loaded.answer_at
    assert model.report["by_kind"]["answerable"]["answered"] >= 0.95
    assert model.report["by_kind"]["other-article"]["rejected"] > model.report["by_kind"]["answerable"]["rejected"]
    from qa.service import QAService

    custom = QAService(str(service.index_dir), embedder=service.embedder, verdict_model=str(path)).load()
    assert custom.verdict_model == model and 0 <= ask(custom, "Rhee").confidence <= 1
