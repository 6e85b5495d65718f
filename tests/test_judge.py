"""'Not in the article': our own question sets, real model, real index."""

import json
from pathlib import Path

from qa.judge import judge
from qa.query import analyse

from conftest import ask

EVAL = Path(__file__).resolve().parents[1] / "eval"


def _questions(name):
    return [json.loads(line)["question"] for line in (EVAL / name).read_text().splitlines() if line.strip()]


def _answered(service, question):
    return ask(service, question, 5).answered


def test_salient_terms_drop_question_words_and_stem():
    assert analyse("How many sailors did the article say died?").salient == ("sailor", "die")


def test_name_terms_are_capitalised_words_and_numbers():
    assert analyse("What happened at the 2018 Singapore summit?").names == ("2018", "singapor")
    assert analyse("Why did it happen?").names == ()


def test_targets_on_our_sets(service):
    on_topic = [_answered(service, q) for q in _questions("on_topic.jsonl")]
    far = [_answered(service, q) for q in _questions("far.jsonl")]
    near = [_answered(service, q) for q in _questions("near.jsonl")]
    assert sum(on_topic) / len(on_topic) >= 0.95
    assert 1 - sum(far) / len(far) >= 0.95
    assert 1 - sum(near) / len(near) >= 0.75


def test_a_question_about_someone_never_named_is_not_answered_but_passages_still_come(service):
    answer = ask(service, "What role did General Douglas MacArthur play in the war?", 3)
    assert answer.answered is False and len(answer.passages) == 3


def test_metonym_with_strong_evidence_is_still_answered(service):
    assert ask(service, "When did Pyongyang declare the armistice invalid?", 3).answered


def test_judge_explains_itself(service):
    verdict = judge(service.index, analyse("Who was Otto Warmbier?"), 0.3)
    assert verdict["answered"] is False and verdict["unknown_names"] == ["otto", "warmbier"]
