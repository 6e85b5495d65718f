"""Shared helpers for the benchmarks: paths, questions, corpora, the server, statistics.

Nothing here imports torch, sentence-transformers or faiss: the orchestrator stays light,
and every model-loading measurement runs in a child process of its own.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import unicodedata
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
QA = str(VENV_BIN / "qa")
PYTHON = sys.executable
SHARED_BENCH = Path(os.environ.get("QA_BENCH_DIR") or next(  # ../shared/bench, else the tests' copy of it
    (p for p in (ROOT.parent / "shared" / "bench", ROOT / "tests" / "fixtures" / "shared" / "bench") if p.is_dir()),
    ROOT.parent / "shared" / "bench"))
ARTICLE_QUESTIONS = SHARED_BENCH / "article_questions.jsonl"
SQUAD_SAMPLE = SHARED_BENCH / "squad2_dev_sample.json"
CORPUS = ROOT / "corpus"

from qa.embedding import _QUIET_ENV  # noqa: E402  the offline settings qa itself uses

QUIET_ENV = {
    **_QUIET_ENV,
    "TQDM_DISABLE": "1",
    "HAYSTACK_TELEMETRY_ENABLED": "False",
    "PYTHONWARNINGS": "ignore",
}


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QUIET_ENV)
    env.update(extra)
    return env


# -- statistics ----------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(q / 100 * len(ordered) + 0.4999))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


# -- questions ------------------------------------------------------------------------------
def _normalized(question: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


def public_questions() -> list[dict[str, Any]]:
    """All public bench questions, article first, then the SQuAD sample, made unique.

    A question whose normalized text was already seen gets a `` (#n)`` suffix, so no
    answer can come from the server's cache.
    """
    rows: list[dict[str, Any]] = []
    with ARTICLE_QUESTIONS.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                rows.append({"source": "article", "question": item["question"], "start": item.get("start"),
                             "end": item.get("end"), "answers": [item["evidence"]] if item.get("evidence") else []})
    squad = json.loads(SQUAD_SAMPLE.read_text(encoding="utf-8"))
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                rows.append({"source": "squad", "question": qa["question"].strip(), "title": article["title"],
                             "answers": sorted({a["text"] for a in qa.get("answers", [])})})
    seen: dict[str, int] = {}
    for row in rows:
        key = _normalized(row["question"])
        if key in seen:
            seen[key] += 1
            row["question"] = f"{row['question']} (#{seen[key]})"
        else:
            seen[key] = 1
    return rows


def variants(questions: list[str], count: int, tag: str) -> list[str]:
    """``count`` unique questions cycling through ``questions``, each tagged ``(#tag-i)``."""
    return [f"{questions[i % len(questions)]} (#{tag}-{i})" for i in range(count)]


# -- corpora --------------------------------------------------------------------------------
def squad_articles() -> list[tuple[str, list[str]]]:
    squad = json.loads(SQUAD_SAMPLE.read_text(encoding="utf-8"))
    return [(a["title"], [p["context"].strip() for p in a["paragraphs"]]) for a in squad["data"]]


def write_squad_corpus(folder: Path, title: str, paragraphs: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{title}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def write_synthetic_corpus(folder: Path, target_passages: int, *, seed: int = 7,
                           paragraphs_per_file: int = 40) -> dict[str, Any]:
    """``target_passages`` one-sentence paragraphs made from the SQuAD sample, 40 per .txt file.

    qa drops a passage whose text is already indexed, and the sample has only a few hundred
    distinct sentences, so each paragraph is a new sentence spliced from two sample
    sentences: the first part of one (cut at 35-65 % of its words) and the rest of another
    (cut at the same share), e.g. "Many Normans of Italy, France and England | is the problem
    of deciding whether the input has a factor less than k." Vocabulary, length and shape
    stay those of the sample; every paragraph is unique, short enough to be one passage,
    and one sentence long. qa embeds every passage and every sentence of it, so a build of
    N passages embeds 2N short texts; two-sentence paragraphs would be 3N texts, half of them
    twice as long, and would not fit the time budget on 2 cores.
    """
    import pysbd  # a qa dependency, no torch

    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences = []
    for _title, paragraphs in squad_articles():
        for paragraph in paragraphs:
            for sentence in segmenter.segment(paragraph):
                words = sentence.split()
                if 8 <= len(words) and len(sentence) <= 280:
                    sentences.append(words)
    sentences = sorted({tuple(w) for w in sentences})
    rng = random.Random(seed)
    made: set[str] = set()
    lines: list[str] = []
    while len(lines) < target_passages:
        first, second = rng.sample(sentences, 2)
        share = rng.uniform(0.35, 0.65)
        text = " ".join(first[: max(1, int(len(first) * share))] + second[int(len(second) * share) :])
        if text not in made:
            made.add(text)
            lines.append(text)
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    files = 0
    for start in range(0, len(lines), paragraphs_per_file):
        text = "\n\n".join(lines[start : start + paragraphs_per_file]) + "\n"
        (folder / f"doc-{files:05d}.txt").write_text(text, encoding="utf-8")
        files += 1
        chars += len(text)
    return {"files": files, "paragraphs": len(lines), "sentence_pool": len(sentences), "chars": chars,
            "mean_paragraph_chars": sum(map(len, lines)) / max(1, len(lines))}


def combined_corpus(folder: Path) -> Path:
    """The article corpus plus the two SQuAD sample articles: every public question has its source."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.iterdir():
        if path.is_file() and path.suffix in (".md", ".txt"):
            shutil.copy2(path, folder / path.name)
    for title, paragraphs in squad_articles():
        write_squad_corpus(folder, title, paragraphs)
    return folder


# -- processes ------------------------------------------------------------------------------
def run_with_rusage(command: list[str], *, env: dict[str, str] | None = None,
                    timeout: float | None = None) -> dict[str, Any]:
    """Run a child to completion; wall time and that child's own peak RSS via ``os.wait4``.

    With ``timeout`` the child is killed when it runs longer, and ``TimeoutError`` is raised.
    """
    import threading

    started = time.perf_counter()
    process = subprocess.Popen(command, env=env or child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    timer_ = threading.Timer(timeout, process.kill) if timeout else None
    if timer_ is not None:
        timer_.start()
    output = bytearray()
    assert process.stdout is not None
    for chunk in iter(lambda: process.stdout.read(65536), b""):
        output += chunk
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if timer_ is not None:
        timer_.cancel()
        if timeout is not None and wall >= timeout:
            raise TimeoutError(f"{command[:3]} killed after {timeout} s")
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": process.returncode,
        "wall_s": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "output": output.decode("utf-8", "replace"),
    }


def run_json(command: list[str], *, timeout: float = 900, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a benchmark child that prints one JSON object as its last stdout line."""
    completed = subprocess.run(command, env=env or child_env(), capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


class Server:
    """``qa serve`` in a child process (its own session), stopped by its own pid."""

    def __init__(self, index_dir: Path, workers: int = 2, extra: list[str] | None = None,
                 env: dict[str, str] | None = None):
        self.port = free_port()
        self.command = [QA, "serve", "--index", str(index_dir), "--port", str(self.port), "--workers", str(workers),
                        *(extra or [])]
        self.env = env or child_env()
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.launched = 0.0
        self.ready_s: float | None = None

    def start(self, log_path: Path, timeout: float = 120) -> "Server":
        self.log_path = log_path
        log = log_path.open("wb")
        self.launched = time.perf_counter()
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        while time.perf_counter() - self.launched < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"qa serve exited with {self.process.returncode}:\n{self.log_tail()}")
            if http_status(self.port, "/healthz", timeout=1.0) == 200:
                self.ready_s = time.perf_counter() - self.launched
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"qa serve not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn master: graceful stop of its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this object created
            self.process.wait()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def post_ask(port: int, question: str, k: int = 5, timeout: float = 30) -> tuple[int, float, dict[str, Any] | None]:
    """One POST /api/ask on a fresh connection; status, wall ms (connect to last byte), body."""
    body = json.dumps({"question": question, "k": k}).encode("utf-8")
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except OSError:
        return 0, (time.perf_counter() - started) * 1000, None
    finally:
        connection.close()
    elapsed = (time.perf_counter() - started) * 1000
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    return status, elapsed, data


def get_text(port: int, path: str) -> str | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return text if response.status == 200 else None
    except OSError:
        return None


# -- the machine ----------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def memory_total_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def package_versions(names: list[str]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def tool_version(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (completed.stdout or completed.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _cpu_times() -> tuple[float, float]:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [float(v) for v in fields]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values), idle


def busy_fraction(seconds: float = 2.0) -> float:
    """Share of all cores busy over ``seconds`` (0..1), measured while we sleep."""
    total_a, idle_a = _cpu_times()
    time.sleep(seconds)
    total_b, idle_b = _cpu_times()
    total = total_b - total_a
    return 0.0 if total <= 0 else max(0.0, 1 - (idle_b - idle_a) / total)


def wait_until_quiet(threshold: float = 0.15, seconds: float = 2.0, patience: float = 60.0) -> float:
    """Wait (at most ``patience`` s) for the machine to be idle; return the last busy share."""
    deadline = time.monotonic() + patience
    busy = busy_fraction(seconds)
    while busy > threshold and time.monotonic() < deadline:
        busy = busy_fraction(seconds)
    return busy


@contextlib.contextmanager
def timer() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def is_hit(row: dict[str, Any], passages: list[tuple[str, int, int, str]]) -> bool:
    """A top-k passage (doc_id, start, end, text) overlaps the article evidence span or contains a SQuAD answer."""
    if row["source"] == "article" and row.get("start") is not None:
        return any(start < row["end"] and row["start"] < end and (row.get("doc_id") is None or doc == row["doc_id"])
                   for doc, start, end, _text in passages)
    return any(answer in text for answer in row["answers"] for *_rest, text in passages)


# -- who else used the CPU ------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _own_cpu_seconds() -> float:
    """CPU of this process, its reaped children, and its live descendants (not yet reaped)."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for pid in _descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / _TICK  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            pass
    return total


class CpuWatch:
    """How much of the machine other processes used between ``start()`` and ``stop()``.

    Busy CPU of the whole machine (/proc/stat) minus the CPU of this benchmark's own process
    tree, as a share of all cores. An approximation (a descendant that exits between two
    reads is counted only once reaped), good enough to flag a section measured under load.
    """

    def start(self) -> "CpuWatch":
        self._wall = time.monotonic()
        self._total, self._idle = _cpu_times()
        self._own = _own_cpu_seconds()
        return self

    def stop(self) -> float:
        wall = time.monotonic() - self._wall
        total, idle = _cpu_times()
        busy = ((total - self._total) - (idle - self._idle)) / _TICK
        own = _own_cpu_seconds() - self._own
        cores = os.cpu_count() or 1
        return 0.0 if wall <= 0 else max(0.0, min(1.0, (busy - own) / (wall * cores)))
