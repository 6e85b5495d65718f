"""In-process cost of one answer as the index grows, and what the loaded index weighs.

    python benchmarks/ask_latency.py INDEX_DIR QUESTIONS.json [--n 100]   -> one JSON line

Loads ``QAService`` (cache off, encoder on one thread as in a worker), records the resident memory
before loading, after loading (encoder and index) and after five warm-up answers, then times ``ask`` and its O(passages) parts separately (the question
encode, FAISS search for 200 candidates, BM25 scores over every passage).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                   "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(key, value)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir")
    parser.add_argument("questions")
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    questions = json.loads(Path(args.questions).read_text(encoding="utf-8"))[: args.n]
    from qa.query import analyse
    from qa.records import AskRequest
    from qa.service import QAService

    import faiss
    import numpy  # noqa: F401

    service = QAService(args.index_dir, cache_size=0, threads=1)
    before_rss = rss_mb()
    started = time.perf_counter()
    service.load()
    load_s = time.perf_counter() - started
    loaded_rss = rss_mb()
    index = service.index
    for question in questions[:5]:
        service.ask(AskRequest(question + " (warm-up)", 5, "hybrid"))
    warm_rss = rss_mb()
    ask, encode, dense, lexical = [], [], [], []
    for question in questions:
        t = time.perf_counter()
        service.ask(AskRequest(question, 5, "hybrid"))
        ask.append(time.perf_counter() - t)
        t = time.perf_counter()
        vector = service.embedder.encode_one(question)
        encode.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.search_dense(vector, 200)
        dense.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.lexical.scores(analyse(question).terms)
        lexical.append(time.perf_counter() - t)
    print(json.dumps({
        "passages": len(index.chunks), "sentences": int(index.sentence_vectors.shape[0]),
        "faiss_index": type(index.vectors).__name__, "faiss_threads": faiss.omp_get_max_threads(),
        "encoder": type(service.embedder).__name__, "n": len(questions), "load_s": load_s,
        "rss_before_load_mb": before_rss, "rss_loaded_mb": loaded_rss, "rss_warm_mb": warm_rss, "ask_p50_ms": p50(ask), "encode_p50_ms": p50(encode),
        "faiss_search_p50_ms": p50(dense), "bm25_scores_p50_ms": p50(lexical),
    }))


if __name__ == "__main__":
    main()
