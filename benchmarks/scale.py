"""FAISS at scale: exact IndexFlatIP vs HNSW (qa's settings) and IVF-PQ, on clustered 384-d vectors.

    python benchmarks/scale.py INDEX_DIR [--vectors 200000] [--queries 1000]  -> one JSON line

The vectors are real embeddings replicated with noise, in two levels so that the data has
clusters inside clusters like text embeddings do: the chunk and sentence vectors of
INDEX_DIR (the public articles) are the seeds; 4,000 sub-centres are seeds plus Gaussian
noise (sigma 0.04 per dimension), and every vector is a sub-centre plus noise (sigma
0.025), normalized. Queries are drawn the same way and are not in the base.

Query times are single-query searches (``nq=1``) on one thread, as a gunicorn worker with
one torch thread issues them; builds use every core. Recall@10 is against the exact
IndexFlatIP result. Memory per vector is the serialized index size / vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from qa.settings import default  # noqa: E402

HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = (default("hnsw_m"), default("hnsw_ef_construction"),
                                                default("hnsw_ef_search"))  # qa's own (settings.py)


def seeds(index_dir: str) -> np.ndarray:
    import faiss

    folder = Path(index_dir) / os.readlink(Path(index_dir) / "current")
    sentence_vectors = np.load(folder / "sentences.npy").astype(np.float32)
    flat = faiss.read_index(str(folder / "vectors.faiss"))
    chunk_vectors = flat.reconstruct_n(0, flat.ntotal)
    return np.concatenate([chunk_vectors, sentence_vectors])


def generate(base: np.ndarray, count: int, rng: np.random.Generator, *, subcentres: int = 4000,
             sigma_sub: float = 0.04, sigma: float = 0.025) -> tuple[np.ndarray, np.ndarray]:
    dimension = base.shape[1]
    centres = base[rng.integers(0, len(base), subcentres)] + sigma_sub * rng.standard_normal(
        (subcentres, dimension), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def draw(n: int) -> np.ndarray:
        out = np.empty((n, dimension), dtype=np.float32)
        for start in range(0, n, 50_000):
            m = min(50_000, n - start)
            x = centres[rng.integers(0, subcentres, m)] + sigma * rng.standard_normal((m, dimension), dtype=np.float32)
            out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    return draw(count), draw(1000)


def single_queries(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, float, float]:
    ids = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for i in range(len(queries)):
        started = time.perf_counter()
        _d, found = index.search(queries[i : i + 1], k)
        times.append(time.perf_counter() - started)
        ids[i] = found[0]
    return ids, float(np.median(times) * 1000), float(np.percentile(times, 99) * 1000)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def size_mb(index) -> float:
    import faiss

    return faiss.serialize_index(index).size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir")
    parser.add_argument("--vectors", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--flat-queries", type=int, default=300, help="single-query timings of the exact index")
    parser.add_argument("--ivfpq", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    import faiss

    cores = os.cpu_count() or 1
    rng = np.random.default_rng(20261127)
    base = seeds(args.index_dir)
    started = time.perf_counter()
    vectors, queries = generate(base, args.vectors, rng)
    queries = queries[: args.queries]
    generate_s = time.perf_counter() - started
    dimension = vectors.shape[1]
    k = 10
    result: dict = {"vectors": len(vectors), "dimension": dimension, "queries": len(queries), "seeds": len(base),
                    "generate_s": generate_s, "k": k, "cores": cores}

    faiss.omp_set_num_threads(cores)
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dimension)
    flat.add(vectors)
    flat_build = time.perf_counter() - started
    _d, truth = flat.search(queries, k)  # batched ground truth
    top = _d[:, 0].mean(), _d[:, k - 1].mean()
    faiss.omp_set_num_threads(1)
    _ids, flat_p50, flat_p99 = single_queries(flat, queries[: args.flat_queries], k)
    result["flat"] = {"build_s": flat_build, "query_p50_ms": flat_p50, "query_p99_ms": flat_p99,
                      "size_mb": size_mb(flat), "timed_queries": min(args.flat_queries, len(queries))}
    result["similarity"] = {"top1_mean": float(top[0]), "top10_mean": float(top[1])}

    faiss.omp_set_num_threads(cores)
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    hnsw_build = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    sweep = []
    for ef in (32, 64, HNSW_EF_SEARCH, 256):
        hnsw.hnsw.efSearch = ef
        ids, p50, p99 = single_queries(hnsw, queries, k)
        sweep.append({"efSearch": ef, "recall_at_10": recall(ids, truth), "query_p50_ms": p50, "query_p99_ms": p99})
    chosen = next(s for s in sweep if s["efSearch"] == HNSW_EF_SEARCH)
    result["hnsw"] = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH,
                      "build_s": hnsw_build, "size_mb": size_mb(hnsw), **{k_: chosen[k_] for k_ in chosen},
                      "sweep": sweep}
    del hnsw

    if args.ivfpq:
        nlist, m = 1024, 48
        faiss.omp_set_num_threads(cores)
        started = time.perf_counter()
        quantizer = faiss.IndexFlatIP(dimension)
        ivfpq = faiss.IndexIVFPQ(quantizer, dimension, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        training = vectors[rng.choice(len(vectors), min(len(vectors), 60_000), replace=False)]
        ivfpq.train(training)
        ivfpq.add(vectors)
        ivfpq_build = time.perf_counter() - started
        refine = faiss.IndexRefineFlat(ivfpq, faiss.swig_ptr(vectors))
        refine.k_factor = 10
        faiss.omp_set_num_threads(1)
        rows = []
        for nprobe in (16, 64):
            ivfpq.nprobe = nprobe
            ids, p50, p99 = single_queries(ivfpq, queries, k)
            rows.append({"nprobe": nprobe, "refine": False, "recall_at_10": recall(ids, truth),
                         "query_p50_ms": p50, "query_p99_ms": p99})
            ids, p50, p99 = single_queries(refine, queries, k)
            rows.append({"nprobe": nprobe, "refine": True, "recall_at_10": recall(ids, truth),
                         "query_p50_ms": p50, "query_p99_ms": p99})
        result["ivfpq"] = {"nlist": nlist, "m": m, "bits": 8, "build_s": ivfpq_build, "size_mb": size_mb(ivfpq),
                           "code_bytes": ivfpq.code_size, "refine_k_factor": 10, "rows": rows}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
