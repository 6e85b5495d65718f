"""Run every benchmark and write docs/performance.md.

    .venv/bin/python benchmarks/run_all.py            # the full run, about 10 min on an idle 2-core machine
    .venv/bin/python benchmarks/run_all.py --quick    # smaller sizes, for checking the scripts

Every figure is measured against its floor in the same run (see the intro in
benchmarks/performance_intro.md, copied to the top of the report). Heavy work runs in
child processes; this process only orchestrates, sends HTTP requests and writes the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import (  # noqa: E402
    BENCH_DIR, PYTHON, QA, ROOT, Server, child_env, median, percentile, post_ask, run_json, run_with_rusage,
)

PACKAGES = ["torch", "sentence-transformers", "transformers", "faiss-cpu", "numpy", "flask", "apiflask", "gunicorn",
            "bm25s", "onnxruntime", "onnx", "haystack-ai", "sentence-transformers-haystack"]
TARGETS = {"latency_p50_ratio": 1.0, "throughput_c4_ratio": 1.0, "startup_ratio": 1.3, "hnsw_recall": 0.98,
           "cli_seconds": 1.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- sections ------------------------------------------------------------------------------
def section_machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu_model": common.cpu_model(),
        "avx512": "avx512f" in common.cpu_flags(),
        "avx2": "avx2" in common.cpu_flags(),
        "memory_gb": common.memory_total_gb(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "os": _os_name(),
        "packages": common.package_versions(PACKAGES),
        "wrk": common.tool_version(["wrk", "--version"]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def build_index(corpus: Path, index_dir: Path, label: str, timeout: float | None = None) -> dict[str, Any]:
    """``qa index build`` in a child process: wall time and that process's peak RSS."""
    run = run_with_rusage([QA, "index", "build", "--corpus", str(corpus), "--index", str(index_dir), "-q"],
                          timeout=timeout)
    if run["returncode"] != 0:
        raise RuntimeError(f"index build of {label} failed:\n{run['output'][-3000:]}")
    folder = index_dir / os.readlink(index_dir / "current")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sentences = sum(len(json.loads(line)["sentences"])
                    for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line)
    passages = manifest["passage_count"]
    return {
        "label": label,
        "documents": len(manifest["documents"]),
        "characters": sum(d["length"] for d in manifest["documents"]),
        "passages": passages,
        "sentences": sentences,
        "faiss_index": manifest["faiss_index"]["type"],
        "encoder": manifest.get("encoder"),
        "wall_s": run["wall_s"],
        "build_seconds_in_manifest": manifest.get("build_seconds"),
        "passages_per_s": passages / run["wall_s"],
        "texts_per_s": (passages + sentences) / run["wall_s"],
        "peak_rss_mb": run["peak_rss_mb"],
        "cpu_s": run["cpu_s"],
        "index_mb": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6,
    }


def section_floor(questions: list[str], work: Path) -> dict[str, Any]:
    path = work / "floor_questions.json"
    path.write_text(json.dumps(questions), encoding="utf-8")
    return run_json([PYTHON, str(BENCH_DIR / "bare_encode.py"), str(path), "--threads", "1"])


def scrape_cache_hits(port: int) -> float | None:
    """Sum of the cache-hit counters in /metrics (None when there is no /metrics)."""
    text = common.get_text(port, "/metrics")
    if text is None:
        return None
    total = 0.0
    found = False
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if line.startswith("#") or "cache" not in name or "hit" not in name or name.endswith("_created"):
            continue
        try:
            total += float(line.rsplit(" ", 1)[1])
            found = True
        except ValueError:
            pass
    return total if found else None


def section_latency(server: Server, rows: list[dict[str, Any]]) -> dict[str, Any]:
    for number in range(10):  # warm both workers (first requests pay lazy initialisation), not counted
        post_ask(server.port, f"{rows[number]['question']} (warm-up {number})")
    times, failures, hits, answerable, took = [], 0, 0, 0, []
    for row in rows:
        status, elapsed, body = post_ask(server.port, row["question"])
        times.append(elapsed)
        if status != 200 or body is None:
            failures += 1
            continue
        took.append(body.get("took_ms", float("nan")))
        if row["answers"]:
            answerable += 1
            passages = [(p["citation"]["doc_id"], p["citation"]["start"], p["citation"]["end"], p["text"])
                        for p in body["passages"]]
            hits += common.is_hit(row, passages)
    return {
        "n": len(times), "failures": failures, "median_ms": median(times), "p90_ms": percentile(times, 90),
        "p99_ms": percentile(times, 99), "max_ms": max(times), "server_took_median_ms": median(took) if took else None,
        "hits": hits, "answerable": answerable,
    }


def section_throughput(server: Server, questions: list[str], work: Path, seconds: int,
                       levels: tuple[int, ...] = (1, 4, 16)) -> list[dict[str, Any]]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    results = []
    for concurrency in levels:
        bodies = work / f"bodies-c{concurrency}.jsonl"
        count = max(6000, 300 * seconds * 2)
        with bodies.open("w", encoding="utf-8") as handle:
            for question in common.variants(questions, count, f"c{concurrency}"):
                handle.write(json.dumps({"question": question, "k": 5}) + "\n")
        threads = min(2, concurrency)
        env = dict(os.environ, QA_WRK_BODIES=str(bodies), QA_WRK_THREADS=str(threads))
        command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
                   "-s", str(BENCH_DIR / "wrk_post.lua"), f"http://127.0.0.1:{server.port}"]
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        if completed.returncode != 0:
            raise RuntimeError(f"wrk failed: {completed.stderr[-2000:]}")
        line = [ln for ln in completed.stdout.splitlines() if ln.startswith("{")][-1]
        data = json.loads(line)
        duration = data["duration_us"] / 1e6
        errors = data["errors"]
        results.append({
            "concurrency": concurrency, "wrk_threads": threads, "seconds": duration, "requests": data["requests"],
            "rps": data["requests"] / duration, "failures": sum(errors.values()), "errors": errors,
            "latency_p50_ms": data["latency_us"]["p50"] / 1000, "latency_p99_ms": data["latency_us"]["p99"] / 1000,
            "unique_bodies": data["bodies"], "repeats": max(0, data["requests"] - data["bodies"]),
        })
        log(f"  c={concurrency}: {results[-1]['rps']:.1f} req/s, failures {results[-1]['failures']}")
    return results


def section_startup(index_dir: Path, work: Path, pairs: int) -> dict[str, Any]:
    bare, serve = [], []
    for number in range(pairs):
        started = time.perf_counter()
        run_json([PYTHON, str(BENCH_DIR / "bare_encode.py"), "--load-only"])
        bare.append(time.perf_counter() - started)
        server = Server(index_dir, workers=2)
        try:
            server.start(work / f"startup-{number}.log")
            serve.append(server.ready_s)
        finally:
            server.stop()
    help_times, info_times = [], []
    for _ in range(5):
        help_times.append(run_with_rusage([QA, "--help"])["wall_s"])
        info = run_with_rusage([QA, "index", "info", "--index", str(index_dir)])
        if info["returncode"] != 0:
            raise RuntimeError(f"qa index info failed: {info['output']}")
        info_times.append(info["wall_s"])
    return {"bare_s": bare, "serve_s": serve, "bare_median_s": median(bare), "serve_median_s": median(serve),
            "ratio": median(serve) / median(bare), "help_median_s": median(help_times),
            "info_median_s": median(info_times)}


def section_builds(work: Path, synthetic_passages: int, synthetic_budget: float) -> dict[str, Any]:
    rows = []
    rows.append(build_index(common.CORPUS, work / "idx-article", "the article (corpus/)"))
    log(f"  article: {rows[-1]['passages']} passages in {rows[-1]['wall_s']:.1f} s")
    for title, paragraphs in common.squad_articles():
        corpus = common.write_squad_corpus(work / f"corpus-{title}", title, paragraphs)
        rows.append(build_index(corpus, work / f"idx-{title}", f"SQuAD sample: {title} (.txt)"))
        log(f"  {title}: {rows[-1]['passages']} passages in {rows[-1]['wall_s']:.1f} s")
    # A tenth first: it gives the rate, and the full build runs only if it fits the time budget.
    fixed = rows[0]["wall_s"]  # start-up of `qa index build` (import, model load) on a tiny corpus
    synthetic: dict[str, Any] = {"target": synthetic_passages, "budget_s": synthetic_budget}
    small_n = max(500, synthetic_passages // 10)
    for size, name in ((small_n, "synthetic-small"), (synthetic_passages, "synthetic")):
        corpus = work / f"corpus-{name}"
        info = common.write_synthetic_corpus(corpus, size)
        label = (f"synthetic: {info['files']} .txt files, one sentence per paragraph spliced from two SQuAD-sample "
                 f"sentences (mean {info['mean_paragraph_chars']:.0f} chars)")
        if name == "synthetic":
            small = rows[-1]
            estimate = fixed + (small["wall_s"] - fixed) * size / small["passages"]
            synthetic["estimate_s"] = estimate
            if estimate > synthetic_budget:
                synthetic["completed"] = False
                synthetic["reason"] = (f"estimated {estimate:.0f} s from the {small['passages']:,}-passage build, over "
                                       f"the {synthetic_budget:.0f} s budget")
                log(f"  synthetic {size:,}: skipped, {synthetic['reason']}")
                break
        try:
            rows.append(build_index(corpus, work / f"idx-{name}", label,
                                    timeout=synthetic_budget * 1.25 if name == "synthetic" else None))
        except TimeoutError:
            synthetic["completed"] = False
            synthetic["reason"] = f"killed after {synthetic_budget * 1.25:.0f} s"
            log(f"  synthetic {size:,}: {synthetic['reason']}")
            break
        synthetic["completed"] = name == "synthetic"
        log(f"  synthetic: {rows[-1]['passages']} passages in {rows[-1]['wall_s']:.1f} s")
    return {"rows": rows, "synthetic": synthetic}


def section_ask_scaling(work: Path, indexes: list[tuple[str, Path]], questions: list[str]) -> list[dict[str, Any]]:
    """In-process answer cost and index RAM for indexes of growing size (benchmarks/ask_latency.py)."""
    path = work / "ask_questions.json"
    path.write_text(json.dumps(questions), encoding="utf-8")
    results = []
    for label, index_dir in indexes:
        if (index_dir / "current").exists():
            results.append({"label": label, **run_json([PYTHON, str(BENCH_DIR / "ask_latency.py"), str(index_dir),
                                                        str(path), "--n", "100"])})
    return results


# -- report --------------------------------------------------------------------------------
CONTENDED = 0.10  # other processes used more than this share of the machine during a section


def verdict(ok: bool, results: dict[str, Any] | None = None, *sections: str) -> str:
    text = "**met**" if ok else "**missed**"
    busy = [s for s in sections if results and results.get("foreign_cpu", {}).get(s, 0) > CONTENDED]
    if busy:
        text += " (not valid: other processes loaded the machine during " + ", ".join(busy) + ")"
    return text


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    intro = (BENCH_DIR / "performance_intro.md").read_text(encoding="utf-8").rstrip()
    out: list[str] = [
        "<!-- Generated by `.venv/bin/python benchmarks/run_all.py` (`make bench`). The intro comes from",
        "     benchmarks/performance_intro.md; everything below it is rewritten on every run. -->",
        "",
        intro,
        "",
        f"## Results of the run on {m['date'][:10]}",
        "",
        *(["> **Quick run (`--quick`): reduced sizes, for checking the scripts only. Not the published figures.**", ""]
          if results.get("quick") else []),
        f"- Machine: {m['cores']} cores, {m['cpu_model']} (AVX2 {'yes' if m['avx2'] else 'no'}, AVX-512 "
        f"{'yes' if m['avx512'] else 'no'}), {m['memory_gb']:.1f} GB RAM, {m['os']}, Linux {m['kernel']}, "
        f"Python {m['python']}.",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v != "not installed") + f"; {m['wrk']}.",
        f"- Run started {m['date']}, took {results['total_s'] / 60:.1f} min. CPU busy (other processes) just before "
        f"the run: {results['busy_before'] * 100:.0f} % of all cores.",
        "- Other processes' share of the machine during each section (0 % = the benchmark had the machine to "
        "itself): " + ", ".join(f"{k} {v * 100:.0f} %" for k, v in results.get("foreign_cpu", {}).items()) + ".",
        f"- qa's encoder backend (as `QAService` loads it): {(results.get('peer') or {}).get('qa_backend', 'not measured')}.",
        f"- Serving configuration measured: `qa serve --workers 2` (gunicorn, preload), encoder threads per worker "
        f"= cores / workers = {max(1, (m['cores'] or 1) // 2)}.",
        "",
    ]
    out += _summary_table(results)
    out += _misses(results)
    out += _encoder(results)
    out += _latency(results)
    out += _throughput(results)
    out += _startup(results)
    out += _peer(results)
    out += _builds(results)
    out += _scale(results)
    out += ["## Raw results", "", "<details><summary>JSON</summary>", "", "```json",
            json.dumps(results, indent=1, default=str), "```", "", "</details>", ""]
    return "\n".join(out)


def _summary_table(r: dict[str, Any]) -> list[str]:
    rows = ["## Summary: each figure against its floor", "",
            "| Figure | Measured | Floor / reference | Ratio | Target | Verdict |", "|---|---|---|---|---|---|"]
    floor = r.get("floor")
    if floor and r.get("latency"):
        ratio = r["latency"]["median_ms"] / floor["default"]["median_ms"]
        rows.append(f"| Query latency, HTTP p50 | {r['latency']['median_ms']:.1f} ms (p99 {r['latency']['p99_ms']:.1f}) "
                    f"| bare torch encode p50 {floor['default']['median_ms']:.1f} ms | {ratio:.2f} | ≤ 1.0 | "
                    f"{verdict(ratio <= TARGETS['latency_p50_ratio'], r, 'floor', 'latency')} |")
    if floor and r.get("throughput"):
        floor_rps = (r["machine"]["cores"] or 1) / (floor["default"]["median_ms"] / 1000)
        for t in r["throughput"]:
            ratio = t["rps"] / floor_rps
            target = "≥ 1.0, 0 failures" if t["concurrency"] == 4 else "—"
            ok = ratio >= TARGETS["throughput_c4_ratio"] and t["failures"] == 0
            rows.append(f"| Throughput c={t['concurrency']} (wrk on the same cores) | {t['rps']:.1f} req/s, "
                        f"{t['failures']} failures | cores / encode = {floor_rps:.1f} req/s | {ratio:.2f} | {target} | "
                        f"{verdict(ok, r, 'floor', 'throughput') if t['concurrency'] == 4 else ''} |")
    s = r.get("startup")
    if s:
        rows.append(f"| Start-up, `qa serve` to /healthz 200 | {s['serve_median_s']:.2f} s | bare import + load "
                    f"{s['bare_median_s']:.2f} s | {s['ratio']:.2f} | ≤ 1.3 | {verdict(s['ratio'] <= TARGETS['startup_ratio'], r, 'startup')} |")
        rows.append(f"| `qa --help` | {s['help_median_s']:.2f} s | — | — | < 1 s | "
                    f"{verdict(s['help_median_s'] < TARGETS['cli_seconds'])} |")
        rows.append(f"| `qa index info` | {s['info_median_s']:.2f} s | — | — | < 1 s | "
                    f"{verdict(s['info_median_s'] < TARGETS['cli_seconds'])} |")
    p = r.get("peer")
    if p:
        ratio = p["qa"]["median_ms"] / p["peer_stats"]["median_ms"]
        rows.append(f"| In-process answer, `QAService.ask` p50 | {p['qa']['median_ms']:.1f} ms | peer p50 "
                    f"{p['peer_stats']['median_ms']:.1f} ms | {ratio:.2f} | report | — |")
    sc = r.get("scale")
    if sc:
        h = sc["hnsw"]
        rows.append(f"| HNSW recall@10, {sc['vectors']:,} vectors | {h['recall_at_10']:.4f} at "
                    f"{h['query_p50_ms']:.2f} ms/query | exact IndexFlatIP {sc['flat']['query_p50_ms']:.2f} ms/query | "
                    f"{h['query_p50_ms'] / sc['flat']['query_p50_ms']:.3f} (time) | recall ≥ 0.98 | "
                    f"{verdict(h['recall_at_10'] >= TARGETS['hnsw_recall'])} |")
    b = r.get("builds")
    if b:
        last = b["rows"][-1]
        rows.append(f"| Index build, {last['passages']:,} synthetic passages | {last['passages_per_s']:.0f} passages/s, "
                    f"peak RSS {last['peak_rss_mb']:.0f} MB | — | — | report | — |")
    return rows + [""]


FIXES = {
    "latency": "The answer is the question encode plus ranking, JSON and HTTP. Use the ONNX question encoder "
               "(check `qa index info`: an index built with `--no-onnx`, or whose ONNX check failed, answers with "
               "torch), then profile the rest of a request (py-spy on a worker): ranking per candidate, the "
               "response schema, one TCP connection per request.",
    "throughput": "Each request pays the encode, about 1-3 ms of ranking and serialization, and a new TCP "
                  "connection (gunicorn sync workers close it after every response, so the load generator "
                  "reconnects each time), on cores the load generator shares. Fixes in src/: keep-alive workers "
                  "(gunicorn `gthread` with one thread per worker and `keepalive`), a lighter response path "
                  "(serialize the answer once, skip output-schema validation), BM25 scored once per question "
                  "(`search.rank` and `search._candidates` both call `lexical.scores` above 200 passages), and "
                  "FAISS OpenMP threads pinned to the worker's share in `post_fork` (`faiss.omp_set_num_threads`).",
    "startup": "Keep torch, transformers and sentence-transformers out of `qa serve` (answer with the ONNX encoder; "
               "load the tokenizer with `tokenizers` only).",
    "cli": "Keep heavy imports (torch, sentence-transformers, faiss) inside the commands that need them.",
    "hnsw": "Raise efSearch (the sweep shows recall against time) or M/efConstruction in src/qa/settings.py.",
}


def _misses(r: dict[str, Any]) -> list[str]:
    """Every target missed in this run, said plainly, with the fix we suggest in src/."""
    missed = []
    floor = r.get("floor")
    if floor and r.get("latency"):
        ratio = r["latency"]["median_ms"] / floor["default"]["median_ms"]
        if ratio > TARGETS["latency_p50_ratio"]:
            missed.append(("latency", f"query latency p50 ratio {ratio:.2f} > 1.0"))
    if floor and r.get("throughput"):
        floor_rps = (r["machine"]["cores"] or 1) / (floor["default"]["median_ms"] / 1000)
        for t in r["throughput"]:
            if t["concurrency"] == 4 and (t["rps"] / floor_rps < TARGETS["throughput_c4_ratio"] or t["failures"]):
                missed.append(("throughput", f"throughput at concurrency 4: {t['rps']:.1f} req/s = "
                               f"{t['rps'] / floor_rps:.2f} of the floor {floor_rps:.1f} req/s, "
                               f"{t['failures']} failures (target ≥ 1.0, 0 failures)"))
    s = r.get("startup")
    if s and s["ratio"] > TARGETS["startup_ratio"]:
        missed.append(("startup", f"start-up ratio {s['ratio']:.2f} > 1.3"))
    if s and max(s["help_median_s"], s["info_median_s"]) >= TARGETS["cli_seconds"]:
        missed.append(("cli", "`qa --help` or `qa index info` took a second or more"))
    sc = r.get("scale")
    if sc and sc["hnsw"]["recall_at_10"] < TARGETS["hnsw_recall"]:
        missed.append(("hnsw", f"HNSW recall@10 {sc['hnsw']['recall_at_10']:.4f} < 0.98"))
    if not missed:
        return ["Every target was met in this run.", ""]
    lines = ["## Targets missed in this run", ""]
    for key, what in missed:
        lines.append(f"- **Missed: {what}.** Suggested fix: {FIXES[key]}")
    busy = [k for k, v in r.get("foreign_cpu", {}).items() if v > CONTENDED]
    if busy:
        lines.append(f"- Other processes loaded the machine during {', '.join(busy)}: re-run on an idle machine "
                     "before acting on these.")
    return lines + [""]


def _encoder(r: dict[str, Any]) -> list[str]:
    floor, scaling = r.get("floor"), r.get("ask_scaling")
    encoder = (r.get("serve_index") or {}).get("encoder") or {}
    if not floor:
        return []
    lines = ["## The question encoder", "",
             "| Encoder | question encode p50 | threads | measured by |", "|---|---|---|---|",
             f"| bare sentence-transformers, torch | {floor['default']['median_ms']:.1f} ms | "
             f"{floor['default']['threads']} (torch default) | benchmarks/bare_encode.py, {floor['default']['n']} questions |"]
    if floor.get("threads_1"):
        lines.append(f"| bare sentence-transformers, torch | {floor['threads_1']['median_ms']:.1f} ms | 1 | same script |")
    if scaling:
        s = scaling[0]
        lines.append(f"| qa's question encoder ({s.get('encoder')}) | {s['encode_p50_ms']:.1f} ms | 1 | "
                     f"benchmarks/ask_latency.py, {s['n']} questions |")
    if encoder:
        if encoder.get("use_onnx"):
            lines += ["", f"The index build exported the ONNX encoder and checked it against torch on "
                      f"{encoder.get('checked_texts')} passages and sentences: minimum cosine "
                      f"{encoder.get('min_cosine_vs_torch')} (qa refuses ONNX below 0.9999 and answers with torch)."]
        else:
            lines += ["", f"The index build did not enable the ONNX encoder ({encoder.get('error', 'disabled')}); "
                      "qa answers with torch."]
    return lines + [""]


def _latency(r: dict[str, Any]) -> list[str]:
    lat, floor = r.get("latency"), r.get("floor")
    if not lat or not floor:
        return []
    d, one = floor["default"], floor.get("threads_1")
    lines = [
        "## Query latency", "",
        f"All {lat['n']} public bench questions ({r['questions']['article']} article + {r['questions']['squad']} SQuAD "
        "sample), each once, sequentially, `POST /api/ask` with k=5 on a fresh connection, timed by the client from "
        "connect to last byte. The server is `qa serve --workers 2` on an index of the three public articles "
        f"({r['serve_index']['passages']} passages), so every question has its source; questions are unique, so the "
        "cache answers none. The floor is a bare sentence-transformers (torch) script in its own process, same "
        "model folder, `model.encode([question])` on the same questions, one at a time, just before the server started.",
        "",
        "| | p50 | p90 | p99 | max |", "|---|---|---|---|---|",
        f"| `POST /api/ask` over HTTP | {lat['median_ms']:.1f} ms | {lat['p90_ms']:.1f} ms | {lat['p99_ms']:.1f} ms | "
        f"{lat['max_ms']:.1f} ms |",
        f"| bare torch `encode([q])`, torch default {d['threads']} threads | {d['median_ms']:.1f} ms | — | "
        f"{d['p99_ms']:.1f} ms | — |",
    ]
    if one:
        lines.append(f"| bare torch `encode([q])`, 1 thread (as one worker has) | {one['median_ms']:.1f} ms | — | "
                     f"{one['p99_ms']:.1f} ms | — |")
    lines += [
        "",
        f"p50 ratio HTTP / bare encode: **{lat['median_ms'] / d['median_ms']:.2f}** (target ≤ 1.0)"
        + (f"; against the stricter 1-thread encode: {lat['median_ms'] / one['median_ms']:.2f}" if one else "")
        + f". Failed requests: "
        f"{lat['failures']}. Server-side `took_ms` median: {lat['server_took_median_ms']:.1f} ms. Sanity check of the "
        f"answers over HTTP: {lat['hits']} of {lat['answerable']} answerable questions have the answer in a top-5 "
        "passage.",
        "",
    ]
    return lines


def _throughput(r: dict[str, Any]) -> list[str]:
    th, floor = r.get("throughput"), r.get("floor")
    if not th or not floor:
        return []
    cores = r["machine"]["cores"] or 1
    floor_rps = cores / (floor["default"]["median_ms"] / 1000)
    lines = [
        "## Throughput", "",
        f"wrk {r['wrk_seconds']} s per level against `qa serve --workers 2`; the Lua script "
        "(benchmarks/wrk_post.lua) posts bodies that rotate through a file of unique questions (each public question "
        "with a `(#cN-i)` suffix), so the cache answers none. **The load generator runs on the same "
        f"{cores} cores as the server**, so it takes CPU from it. Floor = cores / bare torch encode time = "
        f"{cores} / {floor['default']['median_ms']:.1f} ms = {floor_rps:.1f} req/s. Failures = non-2xx responses "
        "+ socket errors (connect, read, write, timeout).", "",
        "| Concurrency | req/s | ratio to floor | failures | latency p50 | latency p99 | requests | repeated bodies |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in th:
        lines.append(f"| {t['concurrency']} | {t['rps']:.1f} | {t['rps'] / floor_rps:.2f} | {t['failures']} "
                     f"({', '.join(f'{k} {v}' for k, v in t['errors'].items() if v) or 'none'}) | "
                     f"{t['latency_p50_ms']:.1f} ms | {t['latency_p99_ms']:.1f} ms | {t['requests']} | {t['repeats']} |")
    hits = r.get("cache_hits")
    if hits is not None:
        lines += ["", f"Cache hits reported by `/metrics` (one scrape, one worker's view) during latency and "
                  f"throughput: {hits}."]
    return lines + [""]


def _startup(r: dict[str, Any]) -> list[str]:
    s = r.get("startup")
    if not s:
        return []
    return [
        "## Start-up", "",
        f"{len(s['bare_s'])} alternating pairs, launch to ready. Bare: `python benchmarks/bare_encode.py --load-only` "
        "(import sentence_transformers, load the model, exit). `qa serve --workers 2`: launch until `GET /healthz` "
        "answers 200 (model and index loaded in the gunicorn master, workers forked).", "",
        "| | runs (s) | median |", "|---|---|---|",
        f"| bare import + load | {', '.join(f'{v:.2f}' for v in s['bare_s'])} | {s['bare_median_s']:.2f} s |",
        f"| `qa serve` ready | {', '.join(f'{v:.2f}' for v in s['serve_s'])} | {s['serve_median_s']:.2f} s |",
        f"| `qa --help` | 5 runs | {s['help_median_s']:.2f} s |",
        f"| `qa index info` | 5 runs | {s['info_median_s']:.2f} s |", "",
        f"Ratio serve / bare: **{s['ratio']:.2f}** (target ≤ 1.3).", "",
    ]


def _peer(r: dict[str, Any]) -> list[str]:
    p = r.get("peer")
    if not p:
        return []
    q, o = p["qa"], p["peer_stats"]
    return [
        "## An established peer, in-process", "",
        f"Peer: {p['peer']}, over qa's own {p['passages']} passages of the same index, same model folder, "
        f"normalized embeddings, top {p['k']}. qa: `QAService(index, cache_size=0).ask(AskRequest(question, {p['k']}, 'hybrid'))` "
        f"(hybrid: dense + best sentence + BM25, priors, highlight), answering with its {p.get('qa_backend')} "
        f"question encoder. Same process, one thread each (peer: torch.set_num_threads({p['torch_threads']})); "
        f"the two alternate question by question over all {q['n']} questions.", "",
        "| | p50 | mean | p99 | answer in top 5 |", "|---|---|---|---|---|",
        f"| qa `QAService.ask` | {q['median_ms']:.1f} ms | {q['mean_ms']:.1f} ms | {q['p99_ms']:.1f} ms | "
        f"{q['hits']} / {p['answerable']} |",
        f"| peer | {o['median_ms']:.1f} ms | {o['mean_ms']:.1f} ms | {o['p99_ms']:.1f} ms | {o['hits']} / {p['answerable']} |",
        "", f"Ratio qa / peer (p50): **{q['median_ms'] / o['median_ms']:.2f}**.", "",
    ]


def _builds(r: dict[str, Any]) -> list[str]:
    b = r.get("builds")
    if not b:
        return []
    lines = [
        "## Index build", "",
        "`qa index build -q` in a child process, each into a fresh index folder; wall time from launch to exit. It "
        "includes the import of sentence-transformers and the model load, and, since every folder is fresh, the "
        "one-off ONNX export of the question encoder and its check against torch: fixed costs that dominate small "
        "corpora (a rebuild in an existing folder reuses the export). Peak RSS of that process "
        "(`wait4` rusage). Every passage and every sentence of it is embedded (the ranking uses both), so the "
        "embedded texts column is the encoder's real workload.", "",
        "| Corpus | documents | characters | passages | sentences | wall | passages/s | embedded texts/s | peak RSS | "
        "index size |", "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in b["rows"]:
        lines.append(f"| {row['label']} | {row['documents']:,} | {row['characters']:,} | {row['passages']:,} | "
                     f"{row['sentences']:,} | {row['wall_s']:.1f} s | {row['passages_per_s']:.1f} | "
                     f"{row['texts_per_s']:.1f} | {row['peak_rss_mb']:.0f} MB | {row['index_mb']:.1f} MB |")
    scaling = r.get("ask_scaling")
    if scaling:
        lines += ["", "Answer cost in-process as the index grows (`QAService.ask`, cache off, encoder on one thread "
                  f"as in a worker, FAISS on its OpenMP default of {scaling[0].get('faiss_threads')} threads as in a "
                  "worker today; 100 questions; benchmarks/ask_latency.py), with the O(passages) parts timed alone. "
                  "RSS = resident memory of that process after loading the encoder and the index and answering "
                  "five warm-up questions.", "",
                  "| Index | passages | sentences | FAISS | RSS | ask p50 | encode p50 | FAISS top-200 p50 | "
                  "BM25 scores of all passages p50 |", "|---|---|---|---|---|---|---|---|---|"]
        for s in scaling:
            lines.append(f"| {s['label']} | {s['passages']:,} | {s['sentences']:,} | {s['faiss_index']} | "
                         f"{s['rss_warm_mb']:.0f} MB | {s['ask_p50_ms']:.1f} ms | {s['encode_p50_ms']:.1f} ms | "
                         f"{s['faiss_search_p50_ms']:.2f} ms | {s['bm25_scores_p50_ms']:.2f} ms |")
        if len(scaling) >= 2 and scaling[-1]["passages"] > scaling[0]["passages"]:
            grow = (scaling[-1]["rss_warm_mb"] - scaling[0]["rss_warm_mb"]) * 1e6 / (
                scaling[-1]["passages"] - scaling[0]["passages"])
            lines += ["", f"Resident memory grows by about **{grow / 1000:.1f} KB per passage** (difference of the two "
                      "rows; one-sentence passages, so one chunk vector and one sentence vector each)."]
    syn = b["synthetic"]
    if not syn.get("completed"):
        lines += ["", f"**The {syn['target']:,}-passage synthetic build was not measured in this run**: "
                  f"{syn.get('reason', 'see the log')}. Extrapolated from the smaller build at its measured rate: "
                  f"about {syn.get('estimate_s', float('nan')) / 60:.1f} min (an estimate, not a measurement)."]
    return lines + [""]


def _scale(r: dict[str, Any]) -> list[str]:
    sc = r.get("scale")
    if not sc:
        return []
    f, h = sc["flat"], sc["hnsw"]
    lines = [
        "## Scale: exact vs approximate FAISS", "",
        f"{sc['vectors']:,} vectors of dimension {sc['dimension']}: real embeddings of the public articles "
        f"({sc['seeds']} chunk and sentence vectors) replicated with two levels of Gaussian noise (4,000 sub-centres, "
        "then points around them), normalized; "
        f"{sc['queries']} held-out queries drawn the same way (mean top-1 similarity {sc['similarity']['top1_mean']:.3f}, "
        f"top-10 {sc['similarity']['top10_mean']:.3f}). Queries one at a time on one thread (as a worker issues them); "
        f"builds on all cores. Recall@10 against exact search. Generation took {sc['generate_s']:.1f} s.", "",
        "| Index | build | size | bytes / vector | query p50 | query p99 | recall@10 |", "|---|---|---|---|---|---|---|",
        f"| IndexFlatIP (exact) | {f['build_s']:.1f} s | {f['size_mb']:.0f} MB | {f['size_mb'] * 1e6 / sc['vectors']:.0f} | "
        f"{f['query_p50_ms']:.2f} ms | {f['query_p99_ms']:.2f} ms | 1 |",
    ]
    for s in h["sweep"]:
        mark = " (qa's setting)" if s["efSearch"] == h["efSearch"] else ""
        lines.append(f"| HNSW M={h['M']}, efConstruction={h['efConstruction']}, efSearch={s['efSearch']}{mark} | "
                     f"{h['build_s']:.1f} s | {h['size_mb']:.0f} MB | {h['size_mb'] * 1e6 / sc['vectors']:.0f} | "
                     f"{s['query_p50_ms']:.3f} ms | {s['query_p99_ms']:.3f} ms | {s['recall_at_10']:.4f} |")
    pq = sc.get("ivfpq")
    if pq:
        for row in pq["rows"]:
            name = f"IVF{pq['nlist']},PQ{pq['m']}x{pq['bits']} nprobe={row['nprobe']}"
            if row["refine"]:
                name += f" + exact re-rank of {pq['refine_k_factor']}×k"
            size = f"{pq['size_mb']:.1f} MB" + (" + raw vectors" if row["refine"] else "")
            per = f"{pq['size_mb'] * 1e6 / sc['vectors']:.0f}" + (f" + {sc['dimension'] * 4:,}" if row["refine"] else "")
            lines.append(f"| {name} | {pq['build_s']:.1f} s | {size} | {per} | {row['query_p50_ms']:.3f} ms | "
                         f"{row['query_p99_ms']:.3f} ms | {row['recall_at_10']:.4f} |")
    lines += ["", f"qa's HNSW setting: recall@10 **{h['recall_at_10']:.4f}** (target ≥ 0.98), query time "
              f"**{h['query_p50_ms'] / f['query_p50_ms']:.3f}×** exact search ({h['query_p50_ms']:.3f} ms vs "
              f"{f['query_p50_ms']:.2f} ms), build {h['build_s']:.0f} s vs {f['build_s']:.1f} s.", ""]
    return lines


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--json", dest="json_out", default=None, help="Also write the raw results here.")
    parser.add_argument("--quick", action="store_true", help="Small sizes: checks the scripts, not the machine.")
    parser.add_argument("--wrk-seconds", type=int, default=None)
    parser.add_argument("--synthetic-passages", type=int, default=None)
    parser.add_argument("--synthetic-budget", type=float, default=540,
                        help="Seconds the synthetic build may take (estimated from a tenth; killed at 1.25x).")
    parser.add_argument("--scale-vectors", type=int, default=None)
    parser.add_argument("--startup-pairs", type=int, default=None)
    parser.add_argument("--quiet-patience", type=float, default=90,
                        help="Seconds to wait for an idle machine before starting.")
    parser.add_argument("--section-patience", type=float, default=15,
                        help="Seconds to wait for an idle machine before each section.")
    parser.add_argument("--only", nargs="*", default=None,
                        help="Sections: serve startup peer builds scale (default: all).")
    parser.add_argument("--render", metavar="JSON", default=None,
                        help="Do not measure: rewrite the report from the raw results of an earlier run (--json).")
    args = parser.parse_args()
    if args.render:
        results = json.loads(Path(args.render).read_text(encoding="utf-8"))
        Path(args.out).write_text(render(results), encoding="utf-8")
        log(f"rewrote {args.out} from {args.render}")
        return 0
    wrk_seconds = args.wrk_seconds or (3 if args.quick else 10)
    synthetic = args.synthetic_passages or (1000 if args.quick else 20_000)
    scale_vectors = args.scale_vectors or (20_000 if args.quick else 200_000)
    pairs = args.startup_pairs or (1 if args.quick else 3)
    only = set(args.only) if args.only else {"serve", "startup", "peer", "builds", "scale"}

    if "serve" in only and shutil.which("wrk") is None:
        print("run_all: wrk is needed for the throughput figures: apt-get install -y wrk", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": section_machine(), "wrk_seconds": wrk_seconds, "foreign_cpu": {},
                               "quick": args.quick}
    log(f"machine: {results['machine']['cores']} cores, {results['machine']['cpu_model']}; waiting for an idle machine")
    results["busy_before"] = common.wait_until_quiet(patience=args.quiet_patience)
    rows = common.public_questions()
    results["questions"] = {"article": sum(r["source"] == "article" for r in rows),
                            "squad": sum(r["source"] == "squad" for r in rows)}
    questions = [r["question"] for r in rows]

    def measured(name: str, function, *fargs, **fkwargs):
        """Run one section; record the share of the machine other processes used meanwhile."""
        common.wait_until_quiet(patience=args.section_patience)
        watch = common.CpuWatch().start()
        try:
            return function(*fargs, **fkwargs)
        finally:
            results["foreign_cpu"][name] = watch.stop()
            if results["foreign_cpu"][name] > 0.1:
                log(f"  note: other processes used {results['foreign_cpu'][name] * 100:.0f} % of the machine "
                    f"during {name}")

    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        log("index of the three public articles (serving, startup, peer and scale use it)")
        serve_index = work / "idx-serve"
        results["serve_index"] = build_index(common.combined_corpus(work / "corpus-serve"), serve_index,
                                             "the three public articles")
        article_doc = _article_doc_id(serve_index)
        for row in rows:
            if row["source"] == "article":
                row["doc_id"] = article_doc

        if "serve" in only:
            log("floor: bare torch encode of every question")
            results["floor"] = measured("floor", section_floor, questions, work)
            log(f"  bare encode p50 {results['floor']['default']['median_ms']:.1f} ms "
                f"(1 thread: {results['floor']['threads_1']['median_ms']:.1f} ms)")
            log("qa serve --workers 2: latency, then throughput")
            with Server(serve_index, workers=2) as server:
                server.start(work / "serve.log")
                results["serve_ready_s"] = server.ready_s
                hits_before = scrape_cache_hits(server.port)
                results["latency"] = measured("latency", section_latency, server, rows)
                log(f"  HTTP p50 {results['latency']['median_ms']:.1f} ms, p99 {results['latency']['p99_ms']:.1f} ms")
                results["throughput"] = measured("throughput", section_throughput, server, questions, work,
                                                 wrk_seconds)
                hits_after = scrape_cache_hits(server.port)
                if hits_before is not None and hits_after is not None:
                    results["cache_hits"] = hits_after - hits_before
                health = common.get_text(server.port, "/healthz")
                results["healthz"] = json.loads(health) if health else None
        if "startup" in only:
            log("start-up: bare load vs qa serve, alternating")
            results["startup"] = measured("startup", section_startup, serve_index, work, pairs)
            log(f"  ratio {results['startup']['ratio']:.2f}")
        if "peer" in only:
            log("in-process: qa vs Haystack")
            path = work / "peer_questions.json"
            path.write_text(json.dumps(rows[:80] if args.quick else rows), encoding="utf-8")
            results["peer"] = measured("peer", run_json, [PYTHON, str(BENCH_DIR / "inprocess_peer.py"),
                                                          str(serve_index), str(path)])
            log(f"  qa {results['peer']['qa']['median_ms']:.1f} ms, peer {results['peer']['peer_stats']['median_ms']:.1f} ms")
        if "builds" in only:
            log("index builds")
            results["builds"] = measured("builds", section_builds, work, synthetic, args.synthetic_budget)
            log("answer cost as the index grows")
            synthetic_index = work / ("idx-synthetic" if results["builds"]["synthetic"].get("completed")
                                      else "idx-synthetic-small")
            results["ask_scaling"] = measured("ask_scaling", section_ask_scaling, work, [
                ("the three public articles", serve_index), ("synthetic", synthetic_index)], questions)
        if "scale" in only:
            log(f"scale: {scale_vectors:,} vectors, exact vs HNSW vs IVF-PQ")
            results["scale"] = measured("scale", run_json, [PYTHON, str(BENCH_DIR / "scale.py"), str(serve_index),
                                                            "--vectors", str(scale_vectors)], timeout=900)
            log(f"  HNSW recall@10 {results['scale']['hnsw']['recall_at_10']:.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["total_s"] = time.perf_counter() - started
    report = render(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    log(f"wrote {args.out} in {results['total_s'] / 60:.1f} min")
    return 0


def _article_doc_id(index_dir: Path) -> str | None:
    folder = index_dir / os.readlink(index_dir / "current")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = {p.name for p in common.CORPUS.iterdir()}
    for document in manifest["documents"]:
        if Path(document["path"]).name in names:
            return document["doc_id"]
    return None


if __name__ == "__main__":
    sys.exit(main())
