"""Ranking on the real model and index: the seed question and the public article questions."""

import pytest

from qa.search import MODES

SEED = "why didn't South Korea sign?"


def test_seed_question_returns_the_syngman_rhee_passage_first(service):
    answer = service.ask(SEED, 5)
    top = answer.passages[0]
    assert "Syngman Rhee" in top.text
    document = service.document(top.citation.doc_id)
    assert document["text"][top.citation.start:top.citation.end] == top.text
    assert answer.answered


def test_every_public_article_question_finds_its_evidence_in_the_top_3(service, article_questions):
    for row in article_questions:
        passages = service.ask(row["question"], 3).passages
        assert any(row["evidence"] in p.text for p in passages), row["question"]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_returns_k_passages_best_first_with_exact_citations(service, mode):
    answer = service.ask("Which warship sank in 2010?", 4, mode)
    assert [p.rank for p in answer.passages] == [1, 2, 3, 4]
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    assert "Cheonan" in answer.passages[0].text
    for passage in answer.passages:
        text = service.document(passage.citation.doc_id)["text"]
        assert text[passage.citation.start:passage.citation.end] == passage.text
        h = passage.highlight
        assert 0 <= h["start"] < h["end"] <= len(passage.text)


def test_names_dates_and_numbers_are_found(service):
    for question, expected in [("Yeonpyeong", "Yeonpyeong"), ("What happened in 1991?", "Dec. 1991"),
                               ("46 sailors", "46 sailors")]:
        assert expected in service.ask(question, 1).passages[0].text, question


def test_paraphrase_is_found(service):
    passages = service.ask("Why did Seoul refuse to sign?", 3).passages
    assert any("Syngman Rhee" in p.text for p in passages)


def test_highlight_marks_the_answering_sentence(service):
    passage = service.ask("Which warship sank in 2010?", 1).passages[0]
    marked = passage.text[passage.highlight["start"]:passage.highlight["end"]]
    assert "Cheonan" in marked
