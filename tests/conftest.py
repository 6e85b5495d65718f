"""Shared fixtures: the real model, a real index built once per session, the app.

Nothing here is mocked: the embedder is all-MiniLM-L6-v2 from its PyPI package, the
index is real FAISS + bm25s, the app is the real factory.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# shared/ (seed article, public bench): QA_SHARED, else ../shared beside the repository,
# else the copy in tests/fixtures/shared (a clone on its own, e.g. in a temporary folder)
SHARED = Path(os.environ.get("QA_SHARED") or next(
    (p for p in (ROOT.parent / "shared", ROOT / "tests" / "fixtures" / "shared") if (p / "bench").is_dir())))
BENCH = SHARED / "bench"
CORPUS = ROOT / "corpus"


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
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


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
