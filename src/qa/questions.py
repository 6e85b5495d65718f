"""Question sets, read once for ``qa eval`` and ``qa verdict fit``.

* JSONL: one object per line, ``question`` and ``evidence`` (the exact answering
  substring), or ``"answerable": false`` for a question the corpus does not answer; asked
  against the corpus or index you give. ``doc_id`` (optional) names the document the
  evidence must come from, in a corpus of several (as SQuAD's ``--together`` does).
* SQuAD 2.0 JSON: each article becomes its own corpus (paragraphs joined by a blank line);
  answerable questions carry their gold answer offsets, ``is_impossible`` ones are
  unanswerable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QAError


@dataclass
class Case:
    question: str
    answerable: bool
    spans: list[tuple[int, int]] = field(default_factory=list)  # gold offsets in the document text (SQuAD)
    evidence: str | None = None  # or an exact answering substring (JSONL)
    kind: str = "answerable"  # answerable, unanswerable, other-article, lookup, lookup-absent
    doc_id: str | None = None  # in a corpus of several articles: the one whose offsets ``spans`` are

    def answered_by(self, text: str, start: int, end: int, doc_id: str | None = None) -> bool:
        """Does a passage (its text, its [start, end) and its document) hold the answer?"""
        if not self.answerable or (self.doc_id is not None and doc_id != self.doc_id):
            return False
        if self.evidence is not None:
            return self.evidence in text
        return any(start <= a and b <= end for a, b in self.spans)


@dataclass
class Article:
    name: str
    text: str | None  # the corpus to write (SQuAD), or None: ask the corpus or index given
    cases: list[Case]

    def write_corpus(self, folder: Path) -> Path:
        """A corpus folder holding this article alone (``qa eval`` and ``qa verdict fit``)."""
        folder.mkdir()
        (folder / "article.txt").write_text(self.text or "", encoding="utf-8")
        return folder

    def add_to_corpus(self, folder: Path, doc_id: str) -> None:
        """This article as one document of a shared corpus (``qa eval --together``): its
        questions then count a passage only from this document."""
        folder.mkdir(exist_ok=True)
        front_matter = f"---\nid: {json.dumps(doc_id)}\ntitle: {json.dumps(self.name)}\n---\n"  # JSON is YAML
        (folder / f"{doc_id}.txt").write_text(front_matter + (self.text or ""), encoding="utf-8")
        for case in self.cases:
            case.doc_id = doc_id


def read_sets(path: str | Path) -> list[Article]:
    """A JSONL set (one Article without text) or a SQuAD file (one Article per article)."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".jsonl"):
        return [Article(Path(path).stem, None, _jsonl_cases(str(path), text))]
    try:
        data = json.loads(text)["data"]
        return [_squad_article(entry, number) for number, entry in enumerate(data)]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise QAError(f"{path}: neither JSONL (question, evidence) nor SQuAD JSON", code="bad_eval_file") from None


def _jsonl_cases(path: str, text: str) -> list[Case]:
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, evidence, doc_id = row["question"], row.get("evidence"), row.get("doc_id")
            if not isinstance(question, str) or not (doc_id is None or isinstance(doc_id, str) and doc_id):
                raise TypeError(question)
            if row.get("answerable", True) is False or ("evidence" in row and evidence is None):
                cases.append(Case(question, False, kind="unanswerable", doc_id=doc_id))  # "evidence": null
            elif isinstance(evidence, str) and evidence.strip():  # not str(None): "None" would be a hit somewhere
                cases.append(Case(question, True, evidence=evidence, doc_id=doc_id))
            else:
                raise TypeError(evidence)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise QAError(f"{path}:{number}: expected a JSON object with a question and its evidence, a text of the "
                          "document (null, or \"answerable\": false, for an unanswerable question), and optionally "
                          "the doc_id of the document holding it",
                          code="bad_eval_file") from None
    return cases


def _squad_article(entry: dict, number: int) -> Article:
    text, cases = "", []
    for paragraph in entry["paragraphs"]:
        text += "\n\n" if text else ""
        base = len(text)
        text += paragraph["context"]
        for qa in paragraph["qas"]:
            if qa.get("is_impossible") or not qa.get("answers"):
                cases.append(Case(qa["question"], False, kind="unanswerable"))
            else:
                spans = [(base + a["answer_start"], base + a["answer_start"] + len(a["text"])) for a in qa["answers"]]
                cases.append(Case(qa["question"], True, spans))
    return Article(entry.get("title", f"article {number}"), text, cases)
