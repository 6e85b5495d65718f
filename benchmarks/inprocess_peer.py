"""qa's in-process ``QAService.ask`` beside an established peer doing the same job in-process.

    python benchmarks/inprocess_peer.py INDEX_DIR QUESTIONS.json   -> one JSON line

The peer is Haystack: ``SentenceTransformersTextEmbedder`` (same local model folder) and
``InMemoryEmbeddingRetriever`` over an ``InMemoryDocumentStore`` holding qa's own
passages (chunks.jsonl of the same index), embedded by
``SentenceTransformersDocumentEmbedder``. If haystack-ai or its sentence-transformers
integration is missing, the peer falls back to plain sentence-transformers + a FAISS
IndexFlatIP, and says so in ``peer``.

Both run in one process, each with one intra-op thread (qa's encoder default in-process;
torch set to 1 for the peer, its fastest setting for one short question and the one that
does not collapse when another process busies a core; ``QA_PEER_TORCH_THREADS`` changes
it). Questions alternate between the two so that background noise hits both alike.
qa's cache is off (``cache_size=0``).
QUESTIONS.json: a list of {"question", "answers", "source", "start", "end"}; a hit is a top-5
passage that contains an answer text (SQuAD) or overlaps the evidence span (article).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from common import is_hit

for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                   "TOKENIZERS_PARALLELISM": "false", "HAYSTACK_TELEMETRY_ENABLED": "False"}.items():
    os.environ.setdefault(key, value)

K = 5


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"n": len(times), "median_ms": statistics.median(times), "mean_ms": statistics.fmean(times),
            "p99_ms": ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered) + 0.4999)) - 1)]}


class HaystackPeer:
    name = "Haystack {version}: SentenceTransformersTextEmbedder + InMemoryEmbeddingRetriever"

    def __init__(self, model_path: str, chunks: list[dict]):
        from haystack import Document
        from haystack import __version__ as haystack_version
        from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        try:  # haystack-ai 3: the embedders live in sentence-transformers-haystack
            from haystack_integrations.components.embedders.sentence_transformers import (
                SentenceTransformersDocumentEmbedder,
                SentenceTransformersTextEmbedder,
            )
        except ImportError:  # haystack-ai 2.x ships them itself
            from haystack.components.embedders import (
                SentenceTransformersDocumentEmbedder,
                SentenceTransformersTextEmbedder,
            )

        self.name = self.name.format(version=haystack_version)
        common = {"model": model_path, "local_files_only": True, "progress_bar": False, "normalize_embeddings": True}
        documents = [Document(content=c["text"], meta={"doc_id": c["doc_id"], "start": c["start"], "end": c["end"]})
                     for c in chunks]
        embedder = SentenceTransformersDocumentEmbedder(**common)
        embedder.warm_up()
        store = InMemoryDocumentStore(embedding_similarity_function="dot_product")
        store.write_documents(embedder.run(documents=documents)["documents"])
        self.text_embedder = SentenceTransformersTextEmbedder(**common)
        self.text_embedder.warm_up()
        self.retriever = InMemoryEmbeddingRetriever(document_store=store, top_k=K)

    def ask(self, question: str) -> list[tuple[str, int, int, str]]:
        embedding = self.text_embedder.run(text=question)["embedding"]
        found = self.retriever.run(query_embedding=embedding)["documents"]
        return [(d.meta["doc_id"], d.meta["start"], d.meta["end"], d.content) for d in found]


class PlainPeer:
    name = "plain sentence-transformers + FAISS IndexFlatIP (Haystack unavailable: {reason})"

    def __init__(self, model_path: str, chunks: list[dict], reason: str):
        import faiss
        from sentence_transformers import SentenceTransformer

        self.name = self.name.format(reason=reason)
        self.model = SentenceTransformer(model_path, device="cpu")
        self.chunks = chunks
        vectors = self.model.encode([c["text"] for c in chunks], normalize_embeddings=True, show_progress_bar=False)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def ask(self, question: str) -> list[tuple[str, int, int, str]]:
        vector = self.model.encode([question], normalize_embeddings=True, show_progress_bar=False)
        _scores, ids = self.index.search(vector, K)
        return [(self.chunks[i]["doc_id"], self.chunks[i]["start"], self.chunks[i]["end"], self.chunks[i]["text"])
                for i in ids[0] if i >= 0]


def _backend(service) -> str:
    """Which question encoder qa's service answers with."""
    name = type(service.embedder).__name__
    return {"OnnxEncoder": "ONNX (onnxruntime)", "Embedder": "torch (sentence-transformers)"}.get(name, name)


def main() -> None:
    index_dir, questions_file = sys.argv[1], sys.argv[2]
    rows = json.loads(Path(questions_file).read_text(encoding="utf-8"))
    from qa.records import AskRequest
    from qa.service import QAService

    started = time.perf_counter()
    service = QAService(index_dir, cache_size=0).load()
    qa_load_s = time.perf_counter() - started
    folder = Path(index_dir) / os.readlink(Path(index_dir) / "current")
    chunks = [json.loads(line) for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line]
    model_path = service.spec.path
    import torch

    torch.set_num_threads(int(os.environ.get("QA_PEER_TORCH_THREADS", "1")))

    started = time.perf_counter()
    try:
        peer = HaystackPeer(model_path, chunks)
    except ImportError as exc:
        peer = PlainPeer(model_path, chunks, f"{type(exc).__name__}: {exc}")
    peer_load_s = time.perf_counter() - started

    def qa_ask(question: str) -> list[tuple[str, int, int, str]]:
        answer = service.ask(AskRequest(question, K, "hybrid"))
        return [(p.citation.doc_id, p.citation.start, p.citation.end, p.text) for p in answer.passages]

    for row in rows[:5]:  # warm-up
        qa_ask(row["question"] + " (warm-up)")
        peer.ask(row["question"] + " (warm-up)")
    times = {"qa": [], "peer": []}
    hits = {"qa": 0, "peer": 0}
    answerable = 0
    for number, row in enumerate(rows):
        order = (("qa", qa_ask), ("peer", peer.ask)) if number % 2 == 0 else (("peer", peer.ask), ("qa", qa_ask))
        for name, function in order:
            t = time.perf_counter()
            passages = function(row["question"])
            times[name].append((time.perf_counter() - t) * 1000)
            if row["answers"] and is_hit(row, passages):
                hits[name] += 1
        answerable += bool(row["answers"])
    print(json.dumps({
        "peer": peer.name,
        "torch_threads": torch.get_num_threads(),
        "qa_backend": _backend(service),
        "passages": len(chunks),
        "qa": {**summary(times["qa"]), "load_s": qa_load_s, "hits": hits["qa"]},
        "peer_stats": {**summary(times["peer"]), "load_s": peer_load_s, "hits": hits["peer"]},
        "answerable": answerable,
        "k": K,
    }))


if __name__ == "__main__":
    main()
