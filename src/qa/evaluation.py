"""``qa eval``: run a question set through the same service the API uses and score it.

Sets are JSONL or SQuAD 2.0 JSON (questions.py). Ranking: a hit is a returned passage that
contains the evidence (JSONL) or whose [start, end) covers a gold answer (SQuAD), from the
question's document when it names one; hit@1/3/5 and MRR over the answerable questions. A
fact of the document's metadata that holds the evidence ("Who wrote it?") is a hit at rank
1: the page shows it above the passages. Highlight accuracy: among questions whose answer
was found in a passage, the share where it lies inside the highlight of the first passage
holding it.
The verdict: the share of answerable questions answered, of unanswerable ones rejected,
and the calibration of ``confidence`` against "the first passage holds the answer"
(reliability table, Brier score).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from .calibration import brier, reliability
from .chunking import ChunkingParams
from .corpus import load_corpus
from .embedding import Embedder, TokenCounter
from .errors import QAError
from .index.build import build_index
from .questions import Article, Case, read_sets
from .records import AskRequest
from .service import QAService


def evaluate(questions_path: str, *, index_dir: str | None, corpus_dir: str | None, embedder: Embedder,
             k: int = 5, mode: str = "hybrid", params: ChunkingParams | None = None,
             backend: str = "auto", milvus: Any = None, together: bool = False) -> dict[str, Any]:
    """``milvus``: build and answer in Milvus (a MilvusStore); each article of a SQuAD file
    gets its own alias there, removed afterwards. ``together``: a SQuAD file's articles are
    one corpus, as a user's folder of articles is; a hit must come from the question's own."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        workdir = Path(tmp)
        articles = read_sets(questions_path)
        together = together and any(article.text is not None for article in articles)  # JSONL: one corpus anyway
        if together:
            shared = workdir / "corpus"
            for number, article in enumerate(articles):
                article.add_to_corpus(shared, f"article-{number}")
            articles = [Article("all articles", None, [case for article in articles for case in article.cases])]
            corpus_dir = str(shared)
        for number, article in enumerate(articles):
            source = corpus_dir
            if article.text is not None:  # a SQuAD article: its own corpus
                source = str(article.write_corpus(workdir / f"corpus-{number}"))
            store = milvus
            if milvus is not None and source is not None:  # a temporary alias, removed even if the build fails
                from .milvus.store import MilvusStore

                store = MilvusStore(milvus.uri, token=milvus.token, alias=f"{milvus.alias}_eval{number}",
                                    timeout=milvus.timeout)
            try:
                service = _service(source, index_dir, workdir, number, embedder, params or ChunkingParams(),
                                   backend, store)
                _check_documents(questions_path, article, service)
                rows += [_score(service, article.name, case, k, mode) for case in article.cases]
            finally:
                if store is not milvus:
                    store.remove()
    return {**summary(rows, k, mode, questions_path), "together": together}


def _service(source: str | None, index_dir: str | None, workdir: Path, number: int, embedder: Embedder,
             params: ChunkingParams, backend: str, milvus: Any) -> QAService:
    """Answer as the server answers (ONNX when the index has it), from this suite's index."""
    if milvus is not None:
        if source is not None:
            from .milvus.build import build_milvus

            build_milvus(load_corpus(source), source, milvus, embedder, params,
                         count_tokens=TokenCounter(embedder.spec.path))
        return QAService("", embedder=embedder, cache_size=0, milvus=milvus).load(strict=True)
    folder = index_dir
    if source is not None:
        folder = str(workdir / f"index-{number}")
        build_index(load_corpus(source), source, folder, embedder, params,
                    count_tokens=TokenCounter(embedder.spec.path), encoder_dir=workdir / "encoders")
    if folder is None:
        raise QAError("give --index or --corpus", code="bad_eval_args")
    return QAService(folder, model=model_path(embedder), cache_size=0, backend=backend).load(strict=True)


def model_path(embedder: Embedder) -> str | None:
    from .embedding import DEFAULT_MODEL_ID

    return None if embedder.spec.model_id == DEFAULT_MODEL_ID else embedder.spec.path


def _check_documents(path: str, article: Article, service: QAService) -> None:
    """A ``doc_id`` the index lacks would make its question a miss whatever is answered."""
    documents = service.index.documents
    for case in article.cases:
        if case.doc_id is not None and case.doc_id not in documents:
            raise QAError(f"{path}: the question {case.question!r} names doc_id {case.doc_id!r}, which the index does "
                          f"not hold (`qa index info` lists its documents)", code="bad_eval_file")


def _score(service: QAService, suite: str, case: Case, k: int, mode: str) -> dict[str, Any]:
    answer = service.ask(AskRequest(case.question, k, mode))
    rank, highlight_ok = 0, False
    fact = answer.document_fact  # "Who wrote it?" answered from the metadata, shown above the passages
    from_fact = (case.answerable and case.evidence is not None and fact is not None and case.evidence in fact.value
                 and case.doc_id in (None, fact.doc_id))
    for passage in () if from_fact else answer.passages:
        c = passage.citation
        if case.answered_by(passage.text, c.start, c.end, c.doc_id):
            rank = passage.rank
            h = passage.highlight or (0, len(passage.text))
            spans = ([(passage.text.find(case.evidence), passage.text.find(case.evidence) + len(case.evidence))]
                     if case.evidence is not None else [(a - c.start, b - c.start) for a, b in case.spans])
            highlight_ok = any(h[0] <= a and b <= h[1] for a, b in spans)
            break
    top = answer.passages[0] if answer.passages else None
    return {
        "suite": suite, "question": case.question, "rank": 1 if from_fact else rank, "answerable": case.answerable,
        "from_fact": from_fact, "highlight_ok": highlight_ok, "answered": answer.answered,
        "confidence": answer.confidence,
        "verdict": answer.verdict, "took_ms": answer.took_ms, "lengths": [len(p.text) for p in answer.passages],
        "top": top.text if top else "",
        "doc_id": case.doc_id, "top_doc_id": top.citation.doc_id if top else None,
    }


def _share(rows: list[dict[str, Any]], test) -> float | None:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else None


def summary(all_rows: list[dict[str, Any]], k: int, mode: str, path: str) -> dict[str, Any]:
    rows = [r for r in all_rows if r["answerable"]]
    unanswerable = [r for r in all_rows if not r["answerable"]]
    ranks = [r["rank"] for r in rows]
    found = [r for r in rows if r["rank"]]
    lengths = [length for r in all_rows for length in r["lengths"]]
    confidence, labels = [r["confidence"] for r in all_rows], [int(r["rank"] == 1) for r in all_rows]
    return {
        "questions_file": path, "mode": mode, "k": k, "questions": len(rows),
        "unanswerable_questions": len(unanswerable),
        "hit@1": _share(rows, lambda r: r["rank"] == 1), "hit@3": _share(rows, lambda r: 1 <= r["rank"] <= 3),
        "hit@5": _share(rows, lambda r: 1 <= r["rank"] <= 5),
        f"mrr@{k}": sum(1 / x for x in ranks if x) / len(rows) if rows else None,
        "mean_passage_chars": statistics.fmean(lengths) if lengths else 0.0,
        "highlight_accuracy": _share([r for r in found if not r["from_fact"]], lambda r: r["highlight_ok"]),
        "answered_rate": _share(rows, lambda r: r["answered"]),
        "rejected_rate": _share(unanswerable, lambda r: not r["answered"]),
        "not_found_rate": _share(unanswerable, lambda r: r["verdict"] == "not_found"),
        "brier": brier(confidence, labels), "reliability": reliability(confidence, labels),
        "latency_ms_median": statistics.median(r["took_ms"] for r in all_rows) if all_rows else 0.0,
        "other_document_first": _share([r for r in rows if r["doc_id"] and r["top_doc_id"]],
                                       lambda r: r["top_doc_id"] != r["doc_id"]),
        "misses": [{"suite": r["suite"], "question": r["question"], "rank": r["rank"] or None, "top": r["top"][:160],
                    **({"doc_id": r["doc_id"], "top_doc_id": r["top_doc_id"]} if r["doc_id"] else {})}
                   for r in rows if r["rank"] != 1],
        "wrongly_answered": [r["question"] for r in unanswerable if r["answered"]],
        "wrongly_rejected": [r["question"] for r in rows if not r["answered"]],
    }


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_report(report: dict[str, Any]) -> str:
    k = report["k"]
    lines = [f"{report['questions_file']}  mode={report['mode']}  k={k}  answerable={report['questions']}  "
             f"unanswerable={report['unanswerable_questions']}" + ("  (articles together)" if report.get("together") else "")]
    if report["questions"]:
        lines += [
            f"hit@1 {_figure(report['hit@1'])}   hit@3 {_figure(report['hit@3'])}   hit@5 {_figure(report['hit@5'])}"
            f"   MRR@{k} {_figure(report[f'mrr@{k}'])}",
            f"mean passage {report['mean_passage_chars']:.0f} chars   highlight accuracy "
            f"{_figure(report['highlight_accuracy'])}   latency median {report['latency_ms_median']:.1f} ms",
        ]
        if report.get("other_document_first") is not None:
            lines.append(f"first passage from another article {_figure(report['other_document_first'])}")
    lines.append(f"answered (of answerable) {_figure(report['answered_rate'])}   rejected (of unanswerable) "
                 f"{_figure(report['rejected_rate'])}   not found (of unanswerable) {_figure(report['not_found_rate'])}"
                 f"   Brier {report['brier']:.3f}")
    lines.append("calibration, predicted -> observed (first passage answers): " + ", ".join(
        f"{row['predicted']:.2f}->{row['observed']:.2f} (n {row['n']})" for row in report["reliability"]))
    for label, questions in (("answered=false although answerable", report["wrongly_rejected"]),
                             ("answered=true although unanswerable", report["wrongly_answered"])):
        if questions:
            more = f"; … ({len(questions) - 10} more with --json)" if len(questions) > 10 else ""
            lines.append(f"{label} ({len(questions)}): " + "; ".join(questions[:10]) + more)
    if report["misses"]:
        lines.append(f"not at rank 1 ({len(report['misses'])}):")
        for m in report["misses"][:40]:
            lines.append(f"  [{m['rank'] or f'>{k}'}] {m['question']}\n        top: {m['top'][:110]}")
    return "\n".join(lines)
