"""The index in Milvus: a real `milvus-lite server` on a loopback port (started here, stopped
by process id), built into, asked, filtered, rebuilt under traffic behind its alias, a
failed build, and Milvus going away and coming back."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import CORPUS, MOLASSES, ask
from servers import QA, QAServer, Traffic, eventually, free_port

pytestmark = pytest.mark.slow  # a Milvus server and real `qa serve`: not in `make test-fast`

MILVUS = str(Path(sys.executable).with_name("milvus-lite"))


class MilvusServer:
    def __init__(self, data: Path, port: int | None = None):
        self.data, self.port = data, port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "MilvusServer":
        self.process = subprocess.Popen([MILVUS, "server", "--data-dir", str(self.data), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                assert time.monotonic() < deadline and self.process.poll() is None, "milvus-lite did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    if not Path(MILVUS).exists():
        pytest.fail("milvus-lite is not installed: pip install -e '.[milvus]' (make install does)")
    server = MilvusServer(tmp_path_factory.mktemp("milvus-data")).start()
    yield server
    server.stop()


def store(milvus: MilvusServer, alias: str):
    from qa.milvus.store import MilvusStore

    return MilvusStore(milvus.uri, alias=alias)


def build(corpus: Path, target, embedder, token_counter):
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.milvus.build import build_milvus

    return build_milvus(load_corpus(corpus), str(corpus), target, embedder, ChunkingParams(),
                        count_tokens=token_counter)


def recorded_calls(target, monkeypatch) -> list[tuple[str, dict, Any]]:
    """Every call the store makes to Milvus from now on (name, keyword arguments, result):
    the real calls, observed."""
    calls: list[tuple[str, dict, Any]] = []
    real_call = target.call

    def recorded(name, *args, **kwargs):
        found = real_call(name, *args, **kwargs)
        calls.append((name, kwargs, found))
        return found

    monkeypatch.setattr(target, "call", recorded)
    return calls


@pytest.fixture(scope="module")
def korea(milvus, embedder, token_counter):
    from qa.service import QAService

    target = store(milvus, "korea")
    facts = build(CORPUS, target, embedder, token_counter)
    return {"store": target, "facts": facts,
            "service": QAService("", embedder=embedder, milvus=target, cache_size=0).load(strict=True)}


def test_a_milvus_build_verified_behind_its_alias_answers_like_the_local_index(korea, service, article_questions):
    target, facts = korea["store"], korea["facts"]
    assert target.pointer() == facts["collection"] and facts["passage_count"] == len(service.index.chunks)
    milvus_service = korea["service"]
    assert milvus_service.health()["index"]["collection"] == facts["collection"]
    same_first = 0
    for row in article_questions:
        remote, local = ask(milvus_service, row["question"]), ask(service, row["question"])
        assert any(row["evidence"] in p.text for p in remote.passages[:3]), row["question"]
        same_first += remote.passages[0].citation.start == local.passages[0].citation.start
        for passage in remote.passages:  # citations stay exact: they slice the document text
            text = milvus_service.document(passage.citation.doc_id)["text"]
            assert text[passage.citation.start:passage.citation.end] == passage.text
    assert same_first >= 8, same_first


def test_sentence_bm25_in_milvus_counts_sentences_only(korea, service):
    """Milvus counts every row it searches in BM25's statistics, so sentences must be searched
    apart from passages, documents and facts: the idf of a word found once in a few sentences
    is the one over the sentences alone (b = 0, so a single occurrence scores its idf)."""
    import math
    import re

    from bm25s.stopwords import STOPWORDS_EN

    facts, served = korea["facts"], korea["service"].index  # the MilvusIndex the service answers from
    sentences = service.index.sentence_texts
    assert facts["sentence_count"] == len(sentences)
    words = {w.lower() for s in sentences for w in re.findall(r"[A-Za-z]{6,}", s)} - set(STOPWORDS_EN)
    checked = 0
    for word in sorted(words):
        occurrences = [list(re.finditer(rf"(?i)(?<![^\W\d_]){word}(?![^\W\d_])", s)) for s in sentences]
        clean = all(_plain_neighbours(s, m) for s, ms in zip(sentences, occurrences) for m in ms)
        df = sum(bool(ms) for ms in occurrences)
        if not clean or not 1 <= df <= 3 or any(len(ms) > 1 for ms in occurrences):
            continue
        hits = served._search(word, "bm25_sentence", 5, "")  # as serving searches the anchor sentences
        idf = math.log(1 + (len(sentences) - df + 0.5) / (df + 0.5))
        assert len(hits) == df and all(abs(abs(h["distance"]) - idf) < 1e-3 * idf for h in hits), (word, hits)
        checked += 1
        if checked == 5:
            break
    assert checked == 5


def test_a_collection_of_another_format_is_refused_with_the_command_that_rebuilds_it(korea):
    """A format-1 collection (every row in the default partition, as format 1 wrote them) is
    refused with the command that rebuilds it, not with a Milvus error or empty facts."""
    from qa.errors import IndexMismatch
    from qa.milvus.build import _index_params, create_collection
    from qa.milvus.store import facts_rows
    from qa.milvus.view import MilvusIndex

    target, facts = korea["store"], korea["facts"]
    MilvusIndex(target, facts["collection"])  # this format: read
    old = f"{target.alias}_format1"
    dimension = facts["model"]["dimension"]
    create_collection(target, old, dimension)
    try:
        target.call("insert", old, facts_rows({**facts, "format": 1, "vocabulary": {}, "df": {}}, dimension))
        target.call("flush", old)
        target.call("create_index", old, _index_params(target, 1))
        target.call("load_collection", old)
        with pytest.raises(IndexMismatch, match="format 1.*qa index build --milvus"):
            MilvusIndex(target, old)
    finally:
        target.call("drop_collection", old)


def test_a_released_collection_is_loaded_again_when_its_facts_are_read(korea):
    """A restarted Milvus leaves collections released; a server loading (or reloading) its
    index reads facts and documents first, and must load the collection, not fail."""
    from qa.milvus.view import MilvusIndex

    target, facts = korea["store"], korea["facts"]
    target.call("release_collection", facts["collection"])
    assert MilvusIndex(target, facts["collection"]).version == facts["version"]
    assert ask(korea["service"], "Who signed the armistice?").passages  # loaded again: searches answer


def _plain_neighbours(text: str, match) -> bool:
    """Spaces or plain punctuation around a word: every analyzer cuts it out alike."""
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return all(c.isspace() or c in ",;:!?()\"“”" for c in (before, after)) or (before.isspace() and after == ".")


def test_a_question_makes_one_get_and_at_most_five_milvus_calls(korea, monkeypatch):
    """Round trips are the cost of a Milvus question: two searches, the exact BM25 of the
    candidates only the dense list found, one ``get`` for the candidates' vectors and their
    sentences, the anchor sentences' BM25 (docs/scaling.md)."""
    target, served = korea["store"], korea["service"]
    calls = recorded_calls(target, monkeypatch)
    for question in ("Why didn't South Korea sign the armistice?", "Who is Charles Armstrong?"):
        calls.clear()
        answer = ask(served, question)
        made = [name for name, _, _ in calls]
        assert answer.passages and made.count("get") == 1 and len(made) <= 5, (question, made)
        assert set(made) <= {"search", "get"}, made


def test_who_wrote_the_article_finds_the_byline_beyond_both_searches_top_lists(korea, monkeypatch):
    """In a corpus larger than the candidate lists (here: lists of 3), the byline shares no
    word with "the article about the Korean War armistice" and neither search returns it: it
    is asked for by its flag, as the local ranking adds every byline."""
    import qa.milvus.view as view
    from qa.settings import default

    monkeypatch.setattr(view, "default", lambda name: 3 if name == "candidates" else default(name))
    served = korea["service"]
    calls = recorded_calls(korea["store"], monkeypatch)
    answer = ask(served, "Who wrote the article about the Korean War armistice?", 3)
    assert answer.passages[0].text.startswith("Write to Olivia B. Waxman") and answer.verdict == "answered"
    top_lists = [found[0] for name, _, found in calls if name == "search"][:2]  # dense, BM25
    assert len(top_lists) == 2 and not any(h["entity"]["text"].startswith("Write to") for hits in top_lists for h in hits)
    assert [name for name, _, _ in calls].count("query") == 1
    fact = ask(served, "When was it published?", 3).document_fact  # the metadata, as Milvus keeps it
    assert (fact.field, fact.value) == ("published", "2018-04-26")
    calls.clear()
    ask(served, "Why didn't South Korea sign the armistice?", 3)
    assert "query" not in [name for name, _, _ in calls]  # only a question about the document asks


def test_the_byline_of_the_topics_article_is_found_among_many_bylines(milvus, embedder, token_counter, tmp_path,
                                                                       monkeypatch):
    """Eight articles with a byline each, lists of 3: the bylines asked for are those of the
    candidates' articles, so the one of the article about the crane is among them and first,
    as it is locally (an arbitrary set of bylines missed it)."""
    import qa.milvus.view as view
    from qa.service import QAService
    from qa.settings import default

    topics = ["harbour crane", "glacier survey", "tram extension", "lighthouse keeper", "honeybee winter",
              "sewer engineer", "ferry timetable", "city library"]
    seen = ["cormorant", "moraine", "pantograph", "foghorn", "propolis", "culvert", "gangway", "microfiche"]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, topic in enumerate(topics):
        (corpus / f"{topic.replace(' ', '-')}.txt").write_text(
            f"News about the {topic}\n\nBy Writer{chr(65 + n)} Person{chr(65 + n)}, Daily Bugle, {n + 1} May 2025\n\n"
            f"The {topic} was in the news this week. Officials said the {topic} would be reviewed again next year. "
            f"A {seen[n]} was mentioned too.\n")
    target = store(milvus, "bylines")
    build(corpus, target, embedder, token_counter)
    served = QAService("", embedder=embedder, milvus=target, cache_size=0).load(strict=True)
    monkeypatch.setattr(view, "default", lambda name: 3 if name == "candidates" else default(name))
    for question, byline in (("Who wrote the article about the harbour crane?", "By WriterA PersonA"),
                             ("When was the story about the ferry timetable published?", "By WriterG PersonG"),
                             ("Who wrote the article about the pantograph?", "By WriterC PersonC")):  # text only
        answer = ask(served, question, 3)
        assert answer.passages[0].text.startswith(byline), (question, answer.passages[0].text)
        assert answer.document_fact is not None and answer.document_fact.doc_id == answer.passages[0].citation.doc_id


def test_an_faqs_answer_is_found_by_its_heading_in_milvus_as_locally(milvus, embedder, token_counter, tmp_path):
    """The heading a passage is read with, and the heading alone never returned, come from the
    question's candidates: in Milvus as in the local index (test_corpora); a saved page's
    recorded headings come back from Milvus with its metadata."""
    from test_corpora import FAQ_QUESTIONS
    from test_sections import FAQ_PAGE

    from qa.records import AskRequest
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "fixtures" / "faq", corpus)
    (corpus / "help.html").write_text(FAQ_PAGE, encoding="utf-8")
    target = store(milvus, "faq")
    build(corpus, target, embedder, token_counter)
    served = QAService("", embedder=embedder, milvus=target, cache_size=0).load(strict=True)
    for question, answer in FAQ_QUESTIONS:
        found = served.ask(AskRequest(question, 5, "hybrid", ("aerokettle-faq",)))  # not the help page's
        assert found.passages[0].text.startswith(answer), (question, found.passages[0].text)
        assert found.verdict != "not_found", question
        assert not any(p.text.startswith("#") or "---" in p.text for p in found.passages), question
    reset = ask(served, "How do I reset my password?", 3).passages[0]
    assert reset.text.startswith("Open the sign-in page")
    assert reset.citation.section == "Accounts › How do I reset my password?"


def test_doc_id_filters_are_pushed_down_to_milvus(milvus, embedder, token_counter, tmp_path, monkeypatch):
    """Both passage searches carry the ``doc_id`` filter and Milvus returns only its passages
    (qa filters again locally, so the answer alone could not tell)."""
    from qa.service import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "molasses.txt").write_text(MOLASSES)
    target = store(milvus, "mixed")
    build(corpus, target, embedder, token_counter)
    mixed = QAService("", embedder=embedder, milvus=target, cache_size=0).load(strict=True)
    assert {p.citation.doc_id for p in ask(mixed, "What happened in 1919 in Boston?", 5).passages} >= {"molasses"}
    from qa.records import AskRequest

    calls = recorded_calls(target, monkeypatch)
    only = mixed.ask(AskRequest("armistice and molasses", 5, "hybrid", ("molasses",)))
    assert only.passages and {p.citation.doc_id for p in only.passages} == {"molasses"}
    searches = [(kwargs["filter"], found[0]) for name, kwargs, found in calls
                if name == "search" and kwargs["anns_field"] in ("dense", "bm25_passage")]
    top_n = searches[:2]  # dense and BM25; any later one scores candidates by id
    assert len(top_n) == 2 and all('doc_id in ["molasses"]' in where for where, _ in top_n), searches
    assert all(hits for _, hits in top_n) and all(hit["entity"]["doc_id"] == "molasses" for _, hits in top_n
                                                  for hit in hits)


def test_a_paused_milvus_costs_a_request_at_most_one_timeout(milvus, korea, embedder):
    """With Milvus hung (SIGSTOP), the look at the alias times out once; health and asks made
    until the next look fail at once from that, instead of each waiting for timeouts of their
    own (/healthz took two, 20 s, longer than nginx's 15 s read timeout)."""
    from qa.errors import IndexUnavailable
    from qa.milvus.store import MilvusStore
    from qa.records import AskRequest
    from qa.service import QAService

    target = MilvusStore(milvus.uri, alias="korea", timeout=1.0)
    service = QAService("", embedder=embedder, cache_size=0, reload_interval=3600, milvus=target).load(strict=True)
    attempts = []  # every request to Milvus, whatever asks it (they all pass through _translated)
    real_translated = target._translated
    target._translated = lambda run, **kwargs: attempts.append(1) or real_translated(run, **kwargs)
    os.killpg(milvus.process.pid, signal.SIGSTOP)
    try:
        assert service.refresh(force=True) is False and attempts == [1] and service.holder.unreachable
        health = service.health()
        assert health["status"] == "unavailable" and health["error"] == service.holder.unreachable
        with pytest.raises(IndexUnavailable) as failed:
            service.ask(AskRequest("When was the armistice signed?", 1, "hybrid"))
        assert failed.value.code == "milvus_unavailable"  # as the ask itself would have said, whichever came first
        assert attempts == [1]  # neither health nor the ask waited on Milvus again
    finally:
        os.killpg(milvus.process.pid, signal.SIGCONT)
    eventually(lambda: service.refresh(force=True) is not None and service.health()["status"] == "ok", timeout=60)
    assert service.ask(AskRequest("When was the armistice signed?", 1, "hybrid")).passages


def test_index_info_reads_the_facts_behind_a_milvus_alias(milvus, korea):
    """An operator can inspect a Milvus index as a local one, without torch or faiss."""
    command = [QA, "index", "info", "--milvus", milvus.uri, "--milvus-alias", "korea"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=120)
    collection = korea["store"].pointer()
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"index      {milvus.uri} alias korea -> {collection}\n")
    assert f"passages   {korea['facts']['passage_count']}" in shown.stdout
    assert "korea-armistice-time-2018" in shown.stdout and "unchanged since the build" in shown.stdout
    as_json = json.loads(subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=120).stdout)
    assert as_json["manifest"]["collection"] == collection and "df" not in as_json["manifest"]
    missing = subprocess.run([QA, "index", "info", "--milvus", milvus.uri, "--milvus-alias", "nope"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and missing.stderr.startswith("qa: error: no index behind the Milvus alias 'nope'")


def test_an_alias_with_no_index_names_the_command_that_builds_that_alias(milvus, embedder):
    """Not `qa index build --milvus URI` alone, which builds the default alias, not this one."""
    from qa.errors import IndexUnavailable
    from qa.service import QAService

    with pytest.raises(IndexUnavailable) as error:
        QAService("", embedder=embedder, milvus=store(milvus, "nope")).load(strict=True)
    assert error.value.message.endswith(f"build one with `qa index build --milvus {milvus.uri} --milvus-alias nope`")


def test_a_failed_build_leaves_the_alias_and_drops_its_collection(korea, embedder, token_counter, monkeypatch):
    import qa.milvus.build as milvus_build
    from qa.milvus.store import MilvusUnavailable

    target = korea["store"]
    before = target.pointer()
    collections = set(target.call("list_collections"))

    def broken(*args, **kwargs):
        raise MilvusUnavailable("injected: a row count came out wrong")

    monkeypatch.setattr(milvus_build, "_verify", broken)
    with pytest.raises(MilvusUnavailable, match="injected"):
        build(CORPUS, target, embedder, token_counter)
    assert target.pointer() == before and set(target.call("list_collections")) == collections


def test_a_rebuild_switches_the_alias_under_traffic_with_zero_failed_requests(milvus, korea, embedder, token_counter,
                                                                           tmp_path):
    target = korea["store"]
    server = QAServer(tmp_path / "unused-index", tmp_path / "serve.log", "--workers", "2", "--milvus", milvus.uri,
                      "--milvus-alias", "korea", env={"QA_RELOAD_INTERVAL": "0.2"})

    def ask(session: requests.Session, n: int) -> requests.Response:
        return session.post(f"{server.url}/api/ask", json={"question": f"armistice {n}"}, timeout=30)

    try:
        server.wait_healthy()
        old = requests.get(f"{server.url}/healthz", timeout=10).json()["index"]["version"]
        with Traffic(ask) as traffic:
            corpus = tmp_path / "corpus"
            shutil.copytree(CORPUS, corpus)
            (corpus / "molasses.txt").write_text(MOLASSES)
            new = build(corpus, target, embedder, token_counter)["version"]
            eventually(lambda: new in traffic.versions and {
                requests.get(f"{server.url}/healthz", timeout=10).json()["index"]["version"] for _ in range(6)} == {new},
                timeout=60, interval=0.2, explain=lambda: server.log()[-2000:])
    finally:
        server.stop()
    failures, versions = traffic.failures, set(traffic.versions)
    assert not failures, failures[:3]
    assert {old, new} <= versions
    kept = [c for c in target.call("list_collections") if c.startswith("korea_v_")]
    assert len(kept) <= 2 and target.pointer() in kept


def test_milvus_going_away_is_a_503_with_the_reason_and_answers_come_back(tmp_path, embedder, token_counter):
    milvus = MilvusServer(tmp_path / "data").start()
    try:
        build(CORPUS, store(milvus, "qa"), embedder, token_counter)
        server = QAServer(tmp_path / "unused-index", tmp_path / "serve.log", "--workers", "1", "--milvus", milvus.uri,
                          env={"QA_RELOAD_INTERVAL": "0.2"})
        try:
            server.wait_healthy()
            assert requests.get(f"{server.url}/api/ask", params={"question": "armistice"}, timeout=30).ok
            milvus.stop()
            health = requests.get(f"{server.url}/healthz", timeout=30)
            assert health.status_code == 503 and health.json()["error"].startswith(f"Milvus at {milvus.uri}"), health.text
            down = requests.get(f"{server.url}/api/ask", params={"question": "Geneva"}, timeout=30)  # not cached
            assert down.status_code == 503 and down.json()["error"]["code"] == "milvus_unavailable", down.text
            milvus.start()  # the same port and data: the server recovers by itself
            eventually(lambda: requests.get(f"{server.url}/healthz", timeout=30).status_code == 200, timeout=60,
                       interval=0.3, explain=lambda: server.log()[-2000:])
            assert requests.get(f"{server.url}/api/ask", params={"question": "Geneva"}, timeout=30).ok
        finally:
            server.stop()
        assert "Traceback" not in server.log()
    finally:
        milvus.stop()


def test_qa_eval_in_milvus_scores_each_article_and_removes_its_temporary_aliases(milvus, embedder, tmp_path):
    """Each SQuAD article gets its own alias for the run, removed as soon as the article is
    scored: none is left after a good run, nor after a run that stops at a later article
    whose build fails (an empty article: no documents), and removing the alias the failed
    article never made does not hide its error."""
    from qa.errors import CorpusError
    from qa.evaluation import evaluate

    text = "The armistice was signed at Panmunjom on July 27, 1953. It ended the fighting."
    article = {"title": "armistice", "paragraphs": [{"context": text, "qas": [
        {"question": "When was the armistice signed?", "is_impossible": False,
         "answers": [{"text": "July 27, 1953", "answer_start": text.index("July")}]}]}]}
    empty = {**article, "paragraphs": [{"context": " ", "qas": []}]}

    def leftovers() -> list[str]:
        client = store(milvus, "ev").client
        return ([name for name in client.list_collections() if name.startswith("ev_eval")]
                + [alias for alias in client.list_aliases()["aliases"] if alias.startswith("ev_eval")])

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"data": [article]}))
    result = evaluate(str(good), index_dir=None, corpus_dir=None, embedder=embedder, milvus=store(milvus, "ev"))
    assert result["hit@1"] == 1.0
    assert leftovers() == []
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps({"data": [article, empty]}))
    with pytest.raises(CorpusError):
        evaluate(str(failing), index_dir=None, corpus_dir=None, embedder=embedder, milvus=store(milvus, "ev"))
    assert leftovers() == []  # article 0 was built in Milvus before article 1 failed


def test_if_stale_reads_the_facts_behind_the_alias_and_skips_an_up_to_date_build(milvus):
    command = [QA, "index", "build", "--corpus", str(CORPUS), "--milvus", milvus.uri, "--milvus-alias", "fresh",
               "--if-stale"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0 and first.stdout.startswith("built "), first.stderr
    built = store(milvus, "fresh").pointer()
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout and store(milvus, "fresh").pointer() == built
