"""`qa eval` on the real model and FAISS: one corpus per SQuAD article, or (``--together``)
all the articles in one corpus, where a hit must come from the question's own article."""

import json

from qa.corpus import load_corpus
from qa.evaluation import evaluate, format_report
import pytest

from qa.errors import QAError
from qa.questions import Article, Case, read_sets

SIGNED = "The armistice was signed at Panmunjom on July 27, 1953, ending three years of fighting."
TALKS = "Talks about an armistice went on for two years."


def _squad(tmp_path, *articles):
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"data": list(articles)}))
    return str(path)


def _article(title, text, question, answer):
    return {"title": title, "paragraphs": [{"context": text, "qas": [
        {"question": question, "is_impossible": False, "answers": [{"text": answer, "answer_start": text.index(answer)}]},
        {"question": "What did the referee eat?", "is_impossible": True, "answers": []}]}]}


def test_a_hit_in_a_shared_corpus_must_come_from_the_questions_own_article():
    case = Case("q", True, [(0, 10)], doc_id="article-1")
    assert case.answered_by("x" * 40, 0, 40, "article-1")
    assert not case.answered_by("x" * 40, 0, 40, "article-0")  # same offsets, another article
    assert Case("q", True, [(0, 10)]).answered_by("x" * 40, 0, 40, "any")  # one article per corpus: no check


def test_each_article_together_is_a_document_whose_text_is_the_article_exactly(tmp_path):
    """The gold offsets are into the article's text, so the document's canonical text (after
    the front matter that names it) must be that text to the character."""
    tricky = Article('A "quoted" title: with colon', "Line one.\n\nLine two — ünïcode.\n", [Case("q", False)])
    plain = Article("Plain", "Another text.", [Case("r", True, [(0, 7)])])
    tricky.add_to_corpus(tmp_path / "corpus", "article-0")
    plain.add_to_corpus(tmp_path / "corpus", "article-1")
    documents = {d.doc_id: d for d in load_corpus(str(tmp_path / "corpus")).documents}
    assert {i: (d.title, d.text) for i, d in documents.items()} == {
        "article-0": (tricky.name, tricky.text), "article-1": (plain.name, plain.text)}
    assert [c.doc_id for c in tricky.cases + plain.cases] == ["article-0", "article-1"]


def test_together_a_passage_of_another_article_at_the_gold_offsets_is_not_a_hit(tmp_path, embedder):
    """Asked alone, the talks article answers its own question (its one passage); together,
    the signing article's passage comes first and covers the same offsets, but is not the
    question's article: a miss at rank 1, counted as "first passage from another article"."""
    questions = _squad(tmp_path,
                       _article("Signed", SIGNED, "When was the armistice signed?", "July 27, 1953"),
                       _article("Talks", TALKS, "When was the armistice signed at Panmunjom?", "two years"))
    alone = evaluate(questions, index_dir=None, corpus_dir=None, embedder=embedder)
    together = evaluate(questions, index_dir=None, corpus_dir=None, embedder=embedder, together=True)
    assert (alone["hit@1"], alone["other_document_first"], alone["together"]) == (1.0, None, False)
    assert (together["hit@1"], together["hit@3"], together["other_document_first"]) == (0.5, 1.0, 0.5)
    assert (together["questions"], together["unanswerable_questions"], together["together"]) == (2, 2, True)
    [miss] = together["misses"]
    assert (miss["question"], miss["doc_id"], miss["top_doc_id"], miss["rank"]) == (
        "When was the armistice signed at Panmunjom?", "article-1", "article-0", 2)
    report = format_report(together)
    assert "(articles together)" in report.splitlines()[0]
    assert "first passage from another article 0.500" in report


def test_the_text_report_names_the_unanswerable_questions_it_answered():
    """Both kinds of verdict error are listed in the text report, not only under --json."""
    from qa.evaluation import summary

    def row(question, answerable, answered):
        return {"suite": "s", "question": question, "rank": 1 if answerable else 0, "answerable": answerable,
                "from_fact": False, "highlight_ok": True, "answered": answered, "confidence": 0.5, "verdict": "answered" if answered
                else "uncertain", "took_ms": 1.0, "lengths": [10], "top": "t", "doc_id": None, "top_doc_id": "d"}

    rows = ([row("fine", True, True), row("flagged", True, False)]
            + [row(f"near miss {n}", False, True) for n in range(12)] + [row("rejected", False, False)])
    report = format_report(summary(rows, 5, "hybrid", "set.jsonl")).splitlines()
    assert "answered=false although answerable (1): flagged" in report
    [line] = [line for line in report if line.startswith("answered=true although unanswerable (12): near miss 0;")]
    assert line.endswith("; near miss 9; … (2 more with --json)") and "rejected" not in line


def test_together_changes_nothing_for_a_jsonl_set_asked_of_one_corpus(tmp_path, embedder):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "signed.txt").write_text(SIGNED)
    questions = tmp_path / "set.jsonl"
    questions.write_text(json.dumps({"question": "When was the armistice signed?", "evidence": "July 27, 1953"}) + "\n")
    report = evaluate(str(questions), index_dir=None, corpus_dir=str(tmp_path / "corpus"), embedder=embedder,
                      together=True)
    assert (report["together"], report["hit@1"], report["other_document_first"]) == (False, 1.0, None)
    assert "(articles together)" not in format_report(report)


def test_a_jsonl_question_with_null_evidence_is_unanswerable_and_a_bad_evidence_is_refused(tmp_path):
    """``"evidence": null`` became the text "None": an unanswerable question counted as
    answerable, and a hit wherever a passage said "None"."""
    path = tmp_path / "set.jsonl"
    path.write_text('{"question": "Who won?", "evidence": "Lee"}\n{"question": "Capital of Mars?", "evidence": null}\n'
                    '{"question": "Price?", "answerable": false}\n')
    cases = read_sets(path)[0].cases
    assert [(c.question, c.answerable) for c in cases] == [("Who won?", True), ("Capital of Mars?", False),
                                                          ("Price?", False)]
    assert not cases[0].answered_by("None of them", 0, 12)
    for bad in ('{"question": "Q", "evidence": 5}', '{"question": "Q", "evidence": "  "}', '{"question": "Q"}',
                '{"question": null, "evidence": "x"}'):
        path.write_text(bad + "\n")
        with pytest.raises(QAError, match=r"set.jsonl:1: expected a JSON object with a question") as error:
            read_sets(path)
        assert error.value.code == "bad_eval_file"



def test_a_jsonl_question_naming_its_document_is_a_hit_only_there_and_a_metadata_fact_counts(tmp_path, embedder):
    """In a folder of articles "doc_id" says which one holds the evidence (it was read and
    ignored: an unknown one still scored hit@1 1.000); a fact of the metadata holding the
    evidence ("Who wrote it?") is the answer the page shows first."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "signed.md").write_text("---\nauthor: Jane Roe\n---\n" + SIGNED + "\n")
    (corpus / "talks.txt").write_text(TALKS + "\n")
    questions = tmp_path / "set.jsonl"
    rows = [{"question": "When was the armistice signed?", "evidence": "armistice"},
            {"question": "When was the armistice signed?", "evidence": "armistice", "doc_id": "talks"},
            {"question": "Who wrote the article about the signing at Panmunjom?", "evidence": "Jane Roe",
             "doc_id": "signed"}]
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    report = evaluate(str(questions), index_dir=None, corpus_dir=str(corpus), embedder=embedder)
    assert report["hit@1"] == 2 / 3 and report["hit@3"] == 1.0 and report["other_document_first"] == 0.5
    [miss] = report["misses"]
    assert (miss["doc_id"], miss["top_doc_id"], miss["rank"]) == ("talks", "signed", 2)
    questions.write_text(json.dumps({"question": "Who signed?", "evidence": "x", "doc_id": "no-such-doc"}) + "\n")
    with pytest.raises(QAError, match="names doc_id 'no-such-doc', which the index does not hold") as error:
        evaluate(str(questions), index_dir=None, corpus_dir=str(corpus), embedder=embedder)
    assert error.value.code == "bad_eval_file"
    questions.write_text(json.dumps({"question": "Who signed?", "evidence": "x", "doc_id": 7}) + "\n")
    with pytest.raises(QAError, match="set.jsonl:1: expected a JSON object"):
        read_sets(questions)
