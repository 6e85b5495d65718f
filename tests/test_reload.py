"""Live index rebuilds under a real gunicorn server (2 workers): no failed request, no
answer mixing two indexes, every worker swapped; a broken new version is refused."""

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
import requests

from servers import QAServer, Traffic, eventually

from qa.chunking import ChunkingParams
from qa.corpus import load_corpus
from qa.index.build import build_index
from qa.index.layout import current_version

from conftest import CORPUS

pytestmark = pytest.mark.slow  # real servers, subprocesses or external tools: not in `make test-fast`

RELOAD_INTERVAL = 0.2  # seconds between a worker's checks of `current` (the setting QA_RELOAD_INTERVAL)
EXTRA = "---\ntitle: Extra\n---\nThe Cheonan was a corvette of the South Korean navy. It sank in 2010.\n"


@pytest.fixture()
def server(request, tmp_path, built_index):
    """`qa serve` with 2 workers on a copy of the session's index (and of the corpus, to
    rebuild from); ``indirect`` parametrization sets the reload interval."""
    interval = getattr(request, "param", RELOAD_INTERVAL)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    served = QAServer(index, tmp_path / "server.log", "--workers", "2", env={"QA_RELOAD_INTERVAL": str(interval)})
    try:
        served.wait_healthy(120)
        yield {"url": served.url, "corpus": corpus, "index": index, "process": served.process, "log": served.log_path}
    finally:
        served.stop()


def _versions_answering(url: str, n: int = 12) -> set[str]:
    return {requests.post(f"{url}/api/ask", json={"question": f"sync {i} {time.monotonic()}"},
                          timeout=30).json()["index_version"] for i in range(n)}


def _documents_of(index: Path, version: str) -> set[str]:
    manifest = json.loads((index / version / "manifest.json").read_text())
    return {d["doc_id"] for d in manifest["documents"]}


def test_rebuild_loop_under_traffic(server, embedder, token_counter):
    """Rebuilds for at least 20 s (at least 4, at most 120 s) while two clients ask: no failed
    request, and every answer cites only documents of the version it names."""
    url, corpus, index = server["url"], server["corpus"], server["index"]
    versions: dict[str, set[str]] = {current_version(index): _documents_of(index, current_version(index))}

    def asking(question: str) -> Traffic:
        return Traffic(lambda session, n: session.post(f"{url}/api/ask", json={"question": f"{question} ({n})",
                                                                               "k": 5}, timeout=30))

    started = time.time()
    with asking("Which warship sank in 2010?") as warship, asking("why didn't South Korea sign?") as sign:
        flip, builds = False, 0
        while (time.time() - started < 20 or builds < 4) and time.time() - started < 120:
            builds += 1
            flip = not flip
            extra = corpus / "extra.md"
            if flip:
                extra.write_text(EXTRA)
            else:
                extra.unlink()
            build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(), count_tokens=token_counter)
            version = current_version(index)
            versions[version] = _documents_of(index, version)
        last = current_version(index)
        eventually(lambda: last in warship.versions[-50:] + sign.versions[-50:])  # clients saw it too
    answers = warship.answers + sign.answers
    assert not warship.failures + sign.failures, (warship.failures + sign.failures)[:5]
    assert len(versions) >= 4, "the loop should have rebuilt several times"
    assert len(answers) > 20, "the clients kept asking"
    seen_versions = {a["index_version"] for a in answers}
    assert len(seen_versions) >= 2, "answers should come from more than one index version"
    for answer in answers:
        allowed = versions[answer["index_version"]]
        assert {p["citation"]["doc_id"] for p in answer["passages"]} <= allowed
    # every worker ends on the last version (each checks the pointer every RELOAD_INTERVAL)
    eventually(lambda: _versions_answering(url) == {last})


def test_a_corrupted_new_version_is_refused_and_the_old_one_keeps_serving(server):
    url, index = server["url"], server["index"]
    good = current_version(index)
    broken = index / "v-99999999T999999-broken"
    shutil.copytree(index / good, broken)
    vectors = broken / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[: 200])
    link = index / ".current-test"
    os.symlink(broken.name, link)
    os.replace(link, index / "current")
    # both workers notice the new pointer and refuse it (each reports its own error)
    eventually(lambda: all("corrupted or truncated" in (requests.get(f"{url}/healthz", timeout=10).json()["error"] or "")
                           for _ in range(8)))
    for i in range(6):
        response = requests.post(f"{url}/api/ask", json={"question": f"Which warship sank in 2010? {i}"}, timeout=30)
        assert response.status_code == 200 and response.json()["index_version"] == good
    health = [requests.get(f"{url}/healthz", timeout=10).json() for _ in range(6)]
    assert all(h["index"]["version"] == good and "corrupted or truncated" in h["error"] for h in health)
    assert "corrupted or truncated" in server["log"].read_text()


@pytest.mark.parametrize("server", [3600.0], indirect=True)  # no polling: only SIGHUP can swap
def test_sighup_swaps_the_index_in_every_worker(server, embedder, token_counter):
    url, corpus, index = server["url"], server["corpus"], server["index"]
    old = current_version(index)
    (corpus / "extra.md").write_text(EXTRA)
    build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(), count_tokens=token_counter)
    new = current_version(index)
    assert _versions_answering(url) == {old}, "without the signal the workers keep the loaded version"
    server["process"].send_signal(signal.SIGHUP)
    eventually(lambda: _versions_answering(url, 8) == {new})


def test_workers_forked_after_a_hup_with_current_refused_serve_the_newest_good_version(server, embedder,
                                                                                        token_counter):
    """The master loaded the first version; the workers moved on to a newer one; then
    `current` is pointed at a broken copy and the master gets a HUP. The new workers are forked
    with the master's old version in memory: they must catch up with the newest version that
    loads, not answer from the past (a walkthrough saw old and new answers mixed)."""
    url, corpus, index = server["url"], server["corpus"], server["index"]
    old = current_version(index)
    (corpus / "extra.md").write_text(EXTRA)
    build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(), count_tokens=token_counter)
    new = current_version(index)
    eventually(lambda: _versions_answering(url, 8) == {new})
    broken = index / f"{new}-broken"
    shutil.copytree(index / new, broken)
    (broken / "vectors.faiss").write_bytes((broken / "vectors.faiss").read_bytes()[:200])
    os.symlink(broken.name, index / ".current-test")
    os.replace(index / ".current-test", index / "current")
    eventually(lambda: all("corrupted or truncated" in (requests.get(f"{url}/healthz", timeout=10).json()["error"] or "")
                           for _ in range(8)))
    server["process"].send_signal(signal.SIGHUP)
    time.sleep(3)  # the old workers stop and new ones are forked from the master
    eventually(lambda: _versions_answering(url, 12) == {new}, timeout=30,
               explain=lambda: f"versions answering: {_versions_answering(url, 12)}; old {old}, new {new}")
    health = [requests.get(f"{url}/healthz", timeout=10).json() for _ in range(6)]
    assert all(h["index"]["version"] == new and "corrupted or truncated" in h["error"] for h in health)


def test_a_serve_only_server_refuses_a_version_built_with_another_model(built_index, tmp_path):
    """Without the model package (spec None) the first index's model is the server's: a later
    version from another model is refused, and the old index keeps answering."""
    from qa.index.layout import point_current_at
    from qa.records import AskRequest
    from qa.service import QAService

    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    service = QAService(str(index), cache_size=0, reload_interval=3600)
    service.spec = None  # as in a serve-only install: nothing to check a version against but the first one
    service.load(strict=True)
    served = current_version(index)
    foreign = f"{served}-other-model"
    shutil.copytree(index / served, index / foreign)
    manifest = json.loads((index / foreign / "manifest.json").read_text())
    manifest["model"]["id"] = "some/other-model"
    (index / foreign / "manifest.json").write_text(json.dumps(manifest))
    point_current_at(index, foreign)
    assert service.refresh(force=True) is False
    assert "some/other-model" in service.health()["error"]
    assert service.index.version == served
    assert service.ask(AskRequest("When was the armistice signed?", 1, "hybrid")).passages
