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


@pytest.mark.parametrize("text, expected", [
    ("• History\n  • conflict", True),
    ("Why North Korea and South Korea Are Technically Still at War", True),
    ("So why wasn’t a permanent peace treaty signed back then? And why wasn’t South Korea on board?", True),
    ("The armistice was signed on July 27, 1953.", False),
    ("5 minute read", True),
    ("Casualties\n• 2.5 million civilians died in the war.", False),
])
def test_questions_headings_and_label_lists_are_non_answers(text, expected):
    from qa.answer_types import is_non_answer
    from qa.chunking import sentence_spans

    sentences = tuple((s.start, s.end) for s in sentence_spans(text))
    assert is_non_answer(text, sentences) is expected


def test_returned_passages_never_overlap(service):
    for question in ("Why are the two Koreas technically still at war?", "armistice", "Who is Syngman Rhee?"):
        passages = service.ask(question, 10).passages
        spans = sorted((p.citation.doc_id, p.citation.start, p.citation.end) for p in passages)
        for (doc_a, _, end_a), (doc_b, start_b, _) in zip(spans, spans[1:]):
            assert doc_a != doc_b or end_a <= start_b
