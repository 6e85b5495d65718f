"""``qa eval``: run a question set through the same service the API uses and score it.

Two formats:

* JSONL with ``question`` and ``evidence`` (the exact answering substring): a hit is a
  returned passage that contains the evidence;
* SQuAD JSON: each article becomes its own corpus (paragraphs joined by a blank line,
  indexed in a temporary folder); a hit is a passage whose [start, end) covers a gold
  answer span. Unanswerable questions are left out.

Highlight accuracy: among questions whose evidence was found, the share where the
evidence lies inside the highlight of the first passage that contains it.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunking import ChunkingParams
from .corpus import load_corpus
from .embedding import Embedder, TokenCounter
from .errors import QAError
from .index.build import build_index
from .records import AskRequest
from .service import QAService


@dataclass
class Case:
    question: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # gold offsets (SQuAD)
    evidence: str | None = None  # exact substring (JSONL)
    answerable: bool = True  # JSONL rows with "answerable": false test the "not in the article" signal


@dataclass
class Suite:
    name: str
    cases: list[Case]
    corpus_dir: str | None = None  # None: use the given index / corpus


def load_suites(path: str, workdir: Path) -> list[Suite]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".jsonl"):
        cases = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if row.get("answerable", True) is False:
                    cases.append(Case(question=row["question"], answerable=False))
                else:
                    cases.append(Case(question=row["question"], evidence=row["evidence"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                raise QAError(f"{path}:{number}: expected a JSON object with question and evidence "
                              "(or \"answerable\": false)", code="bad_eval_file") from None
        return [Suite(Path(path).stem, cases)]
    try:
        data = json.loads(text)["data"]
    except (ValueError, KeyError, TypeError):
        raise QAError(f"{path}: neither JSONL (question, evidence) nor SQuAD JSON", code="bad_eval_file") from None
    suites = []
    for number, article in enumerate(data):
        folder = workdir / f"corpus-{number}"
        folder.mkdir(parents=True)
        body, cases = "", []
        for paragraph in article["paragraphs"]:
            if body:
                body += "\n\n"
            base = len(body)
            body += paragraph["context"]
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa.get("answers"):
                    continue
                spans = [(base + a["answer_start"], base + a["answer_start"] + len(a["text"])) for a in qa["answers"]]
                cases.append(Case(question=qa["question"], spans=spans))
        (folder / "article.txt").write_text(body, encoding="utf-8")
        suites.append(Suite(article.get("title", f"article {number}"), cases, str(folder)))
    return suites


def evaluate(
    questions_path: str,
    *,
    index_dir: str | None,
    corpus_dir: str | None,
    embedder: Embedder,
    k: int = 5,
    mode: str = "hybrid",
    params: ChunkingParams | None = None,
    backend: str = "auto",
) -> dict[str, Any]:
    params = params or ChunkingParams()
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        workdir = Path(tmp)
        rows: list[dict[str, Any]] = []
        for suite_number, suite in enumerate(load_suites(questions_path, workdir)):
            source = suite.corpus_dir or corpus_dir
            folder = index_dir
            if source is not None:
                folder = str(workdir / f"index-{suite_number}")
                corpus = load_corpus(source)
                build_index(corpus, source, folder, embedder, params, count_tokens=TokenCounter(embedder.spec.path),
                            encoder_dir=workdir / "encoders")
            if folder is None:
                raise QAError("give --index or --corpus", code="bad_eval_args")
            # questions are answered as the server answers them (ONNX when the index has it)
            service = QAService(folder, model=model_path(embedder), cache_size=0, backend=backend).load(strict=True)
            for case in suite.cases:
                rows.append(_score(service, suite.name, case, k, mode))
    return _summary(rows, k, mode, questions_path)


def model_path(embedder: Embedder) -> str | None:
    from .embedding import DEFAULT_MODEL_ID

    return None if embedder.spec.model_id == DEFAULT_MODEL_ID else embedder.spec.path


def _score(service: QAService, suite: str, case: Case, k: int, mode: str) -> dict[str, Any]:
    answer = service.ask(AskRequest(case.question, k, mode))
    rank, highlight_ok = 0, False
    for passage in answer.passages if case.answerable else []:
        c = passage.citation
        if case.evidence is not None:
            position = passage.text.find(case.evidence)
            found = position >= 0
            spans = [(position, position + len(case.evidence))] if found else []
        else:
            spans = [(a - c.start, b - c.start) for a, b in case.spans if c.start <= a and b <= c.end]
            found = bool(spans)
        if found:
            rank = passage.rank
            h = passage.highlight or {"start": 0, "end": len(passage.text)}
            highlight_ok = any(h["start"] <= a and b <= h["end"] for a, b in spans)
            break
    top = answer.passages[0] if answer.passages else None
    return {
        "suite": suite, "question": case.question, "rank": rank, "answerable": case.answerable, "highlight_ok": highlight_ok,
        "answered": answer.answered, "took_ms": answer.took_ms,
        "lengths": [len(p.text) for p in answer.passages],
        "top": top.text if top else "",
    }


def _summary(all_rows: list[dict[str, Any]], k: int, mode: str, path: str) -> dict[str, Any]:
    unanswerable = [r for r in all_rows if not r["answerable"]]
    rows = [r for r in all_rows if r["answerable"]]
    n = len(rows) or 1
    ranks = [r["rank"] for r in rows]
    found = [r for r in rows if r["rank"]]
    lengths = [length for r in rows for length in r["lengths"]]
    return {
        "questions_file": path,
        "mode": mode,
        "k": k,
        "questions": len(rows),
        "unanswerable_questions": len(unanswerable),
        "rejected_rate": (sum(1 for r in unanswerable if not r["answered"]) / len(unanswerable)) if unanswerable else None,
        "hit@1": sum(1 for x in ranks if x == 1) / n,
        "hit@3": sum(1 for x in ranks if 1 <= x <= 3) / n,
        "hit@5": sum(1 for x in ranks if 1 <= x <= 5) / n,
        f"mrr@{k}": sum(1 / x for x in ranks if x) / n,
        "mean_passage_chars": statistics.fmean(lengths) if lengths else 0.0,
        "highlight_accuracy": (sum(1 for r in found if r["highlight_ok"]) / len(found)) if found else 0.0,
        "answered_rate": sum(1 for r in rows if r["answered"]) / n,
        "latency_ms_median": statistics.median(r["took_ms"] for r in all_rows) if all_rows else 0.0,
        "misses": [
            {"suite": r["suite"], "question": r["question"], "rank": r["rank"] or None, "top": r["top"][:160]}
            for r in rows if r["rank"] != 1
        ],
        "wrongly_answered": [r["question"] for r in unanswerable if r["answered"]],
        "wrongly_rejected": [r["question"] for r in rows if not r["answered"]],
    }


def format_report(report: dict[str, Any]) -> str:
    k = report["k"]
    if report["questions"] == 0:  # a set of unanswerable questions only
        lines = [f"{report['questions_file']}  mode={report['mode']}  unanswerable questions={report['unanswerable_questions']}",
                 f"rejected (answered=false) {report['rejected_rate']:.3f}   latency median {report['latency_ms_median']:.1f} ms"]
        if report["wrongly_answered"]:
            lines.append(f"answered although unanswerable ({len(report['wrongly_answered'])}):")
            lines += [f"  {q}" for q in report["wrongly_answered"]]
        return "\n".join(lines)
    lines = [
        f"{report['questions_file']}  mode={report['mode']}  k={k}  questions={report['questions']}",
        f"hit@1 {report['hit@1']:.3f}   hit@3 {report['hit@3']:.3f}   hit@5 {report['hit@5']:.3f}   "
        f"MRR@{k} {report[f'mrr@{k}']:.3f}",
        f"mean passage {report['mean_passage_chars']:.0f} chars   highlight accuracy {report['highlight_accuracy']:.3f}   "
        f"answered {report['answered_rate']:.3f}   latency median {report['latency_ms_median']:.1f} ms",
    ]
    if report["wrongly_rejected"]:
        lines.append(f"answered=false although answerable ({len(report['wrongly_rejected'])}): "
                     + "; ".join(report["wrongly_rejected"][:10]))
    misses = report["misses"]
    if misses:
        lines.append(f"not at rank 1 ({len(misses)}):")
        for m in misses:
            rank = m["rank"] if m["rank"] else f">{k}"
            lines.append(f"  [{rank}] {m['question']}\n        top: {m['top'][:110]}")
    return "\n".join(lines)
