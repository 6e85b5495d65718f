"""Shared fixtures: the real model, a real index built once per session, the app.

Nothing here is mocked: the embedder is all-MiniLM-L6-v2 from its PyPI package, the
index is real FAISS + bm25s, the app is the real factory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# shared/ (seed article, public bench): QA_SHARED, else ../shared beside the repository,
# else the copy in tests/fixtures/shared (a clone on its own, e.g. in a temporary folder)
SHARED = Path(os.environ.get("QA_SHARED") or next(
    (p for p in (ROOT.parent / "shared", ROOT / "tests" / "fixtures" / "shared") if (p / "bench").is_dir())))
BENCH = SHARED / "bench"
CORPUS = ROOT / "corpus"
HOSTILE_CORPUS = ROOT / "tests" / "fixtures" / "hostile"
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]  # NOTES.md
BROWSER_TIMEOUT_MS = 20_000
MOLASSES = ("The Great Molasses Flood\n\nOn January 15, 1919, a storage tank burst in Boston and a wave of molasses "
            "killed 21 people in the North End.\n\nThe tank held 8.7 million litres. Investigators blamed thin steel "
            "and poor testing.\n")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """A tool the tests drive is missing: skip locally, FAIL in CI (``CI`` set), so that a
    broken CI image cannot pass silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: these tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def embedder():
    from qa.embedding import Embedder, ModelSpec

    # one torch thread: servers started by the tests share the two cores, and torch's
    # default of one thread per core collapses under such contention (docs/performance.md)
    return Embedder(ModelSpec.resolve(), threads=1)


@pytest.fixture(scope="session")
def token_counter():
    from qa.embedding import ModelSpec, TokenCounter

    return TokenCounter(ModelSpec.resolve().path)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder, token_counter) -> Path:
    """The seed corpus indexed once for the whole session."""
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index

    folder = tmp_path_factory.mktemp("index")
    build_index(load_corpus(CORPUS), CORPUS, folder, embedder, ChunkingParams(), count_tokens=token_counter)
    return folder


@pytest.fixture(scope="session")
def service(built_index, embedder):
    from qa.service import QAService

    return QAService(str(built_index), embedder=embedder).load()


@pytest.fixture(scope="session")
def app(service):
    from qa.app import create_app

    return create_app({"TESTING": True}, service=service)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real HTTP server on a free loopback port."""
    from servers import serving

    with serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def article_questions() -> list[dict]:
    return [json.loads(line) for line in (BENCH / "article_questions.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def squad() -> dict:
    return json.loads((BENCH / "squad2_dev_sample.json").read_text())


def ask(service, question: str, k: int = 5, mode: str = "hybrid"):
    """QAService.ask with a request as the schema would have validated it."""
    from qa.records import AskRequest

    return service.ask(AskRequest(question, k, mode))


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory, embedder, token_counter) -> Path:
    """tests/fixtures/hostile (script tags, entities, bidi text... in the documents) indexed once."""
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index

    folder = tmp_path_factory.mktemp("hostile-index")
    build_index(load_corpus(HOSTILE_CORPUS), HOSTILE_CORPUS, folder, embedder, ChunkingParams(),
                count_tokens=token_counter)
    return folder


@pytest.fixture(scope="session")
def mixed(tmp_path_factory, embedder, token_counter):
    """Korea (Markdown), a saved news page (HTML), a text file and an unsupported file, indexed
    once (with its ONNX encoder, so an app made from the folder alone can serve it)."""
    import shutil

    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index
    from qa.service import QAService

    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("qa.toml"))
    shutil.copy(ROOT / "tests" / "fixtures" / "html" / "tram-line-2019.html", corpus / "tram-line-2019.html")
    (corpus / "molasses.txt").write_text(MOLASSES)
    (corpus / "notes.odt").write_bytes(b"PK\x03\x04 not a document")
    loaded = load_corpus(corpus)
    build_index(loaded, corpus, root / "index", embedder, ChunkingParams(), count_tokens=token_counter)
    service = QAService(str(root / "index"), embedder=embedder).load()
    return {"corpus": corpus, "index": root / "index", "service": service, "warnings": loaded.warnings}


# -- the browser (Debian's Chromium driven by playwright.sync_api; NOTES.md) ---------------------
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[dev]'")
    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def ask_with_box(page, question: str) -> None:
    page.fill("#q", question)
    page.click("form#ask-form button[type=submit]")


def wait_for_results(page):
    page.wait_for_selector("#results[aria-busy=false] #result-list li.result")
    return page.locator("#result-list li.result")
