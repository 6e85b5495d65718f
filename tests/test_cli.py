"""The `qa` command line as a user runs it: a real process, real model, real index."""

import json
import subprocess
import sys

import pytest

from servers import QA
from conftest import CORPUS


def run(*args, check=True):
    return subprocess.run([QA, *args], capture_output=True, text=True, check=check, timeout=300)


def test_help_does_not_import_torch():
    """``qa --help`` answers without loading torch (its time is in docs/performance.md,
    measured, not asserted here)."""
    result = run("--help")
    assert "index" in result.stdout and "ask" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from qa.cli import main; sys.argv=['qa','--help'];\n"
         "try: main()\nexcept SystemExit as exit: print('exit', exit.code)\nprint('torch' in sys.modules)"],
        capture_output=True, text=True, check=True, timeout=60)
    assert "ask" in probe.stdout and probe.stdout.splitlines()[-2:] == ["exit 0", "False"]


def test_index_info_without_torch(built_index):
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from qa.cli import main; sys.argv=['qa','index','info','--index',sys.argv[1]];\n"
         "try: main()\nexcept SystemExit: pass\nprint('torch' in sys.modules, 'faiss' in sys.modules)",
         str(built_index)], capture_output=True, text=True, check=True)
    assert "sentence-transformers/all-MiniLM-L6-v2" in probe.stdout
    assert "unchanged since the build" in probe.stdout
    assert probe.stdout.strip().endswith("False False")


def test_index_info_finds_the_corpus_it_was_built_from_whatever_the_working_folder(tmp_path):
    """The manifest keeps the corpus's absolute path: a path as typed ("corpus") would be
    looked up from wherever `qa index info` runs."""
    import shutil

    shutil.copytree(CORPUS, tmp_path / "corpus")
    subprocess.run([QA, "index", "build", "--corpus", "corpus", "--index", "idx", "--quiet"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([QA, "index", "info", "--index", str(tmp_path / "idx")], cwd=elsewhere,
                            capture_output=True, text=True, timeout=60)
    assert f"corpus     {tmp_path / 'corpus'} unchanged since the build" in result.stdout, result.stdout


def test_index_info_reports_a_changed_corpus(built_index, tmp_path):
    (tmp_path / "a.md").write_text("Different corpus.")
    result = run("index", "info", "--index", str(built_index), "--corpus", str(tmp_path))
    assert "CHANGED" in result.stdout and "a.md" in result.stdout
    assert f"(run `qa index build --corpus {tmp_path} --index {built_index}`)" in result.stdout  # as given, to copy


def test_ask_prints_citations_confidence_and_json(built_index):
    result = run("ask", "why didn't South Korea sign?", "-k", "2", "--index", str(built_index))
    assert "Syngman Rhee" in result.stdout and "¶13" in result.stdout
    assert result.stdout.startswith("answered, confidence 0.") and result.returncode == 0
    data = json.loads(run("ask", "why didn't South Korea sign?", "-k", "2", "--json", "--index", str(built_index)).stdout)
    assert len(data["passages"]) == 2 and data["passages"][0]["citation"]["doc_id"] == "korea-armistice-time-2018"


def test_bad_corpus_file_fails_with_one_line_naming_it(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("Fine.")
    (corpus / "bad.md").write_bytes(b"\xff\xfe\x00binary")
    result = run("index", "build", "--corpus", str(corpus), "--index", str(tmp_path / "index"), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["qa: error: bad.md: binary file (contains NUL bytes); only UTF-8 text is indexed"]
    assert not (tmp_path / "index" / "current").exists()


def test_missing_index_is_a_clear_error(tmp_path):
    result = run("ask", "hello", "--index", str(tmp_path), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"qa: error: no index in {tmp_path}: build one with "
                                          f"`qa index build --index {tmp_path}`"]


def test_ask_without_an_index_fails_before_loading_any_model(tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from qa.cli import main; sys.argv=['qa','ask','hello','--index',sys.argv[1]];\n"
         "try: main()\nexcept SystemExit as exit: print('exit', exit.code)\n"
         "print(sorted(m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'faiss') if m in sys.modules))",
         str(tmp_path)], capture_output=True, text=True, check=True, timeout=60)
    assert probe.stdout.splitlines() == ["exit 2", "[]"]


def test_build_if_stale_rebuilds_a_version_whose_files_are_corrupted(built_index, tmp_path):
    import shutil

    from qa.index.layout import current_version

    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    broken = current_version(index)
    chunks = index / broken / "chunks.jsonl"
    chunks.write_bytes(chunks.read_bytes()[:100])
    result = run("index", "build", "--corpus", str(CORPUS), "--index", str(index), "--if-stale", "--quiet")
    assert "is up to date" not in result.stdout and current_version(index) != broken
    assert run("ask", "Which warship sank in 2010?", "--index", str(index), "-k", "1").returncode == 0


def test_build_if_stale_does_nothing_when_up_to_date(built_index):
    from qa.index.layout import current_version

    before = (current_version(built_index), sorted(p.name for p in built_index.glob("v-*")))
    result = run("index", "build", "--corpus", str(CORPUS), "--index", str(built_index), "--if-stale")
    assert "is up to date" in result.stdout
    assert (current_version(built_index), sorted(p.name for p in built_index.glob("v-*"))) == before


def test_ask_exits_1_when_the_corpus_does_not_answer_and_2_on_errors(built_index, tmp_path):
    not_answered = run("ask", "What is the best recipe for sourdough bread?", "--index", str(built_index), check=False)
    assert not_answered.returncode == 1 and "not found" in not_answered.stdout
    as_json = run("ask", "What is the best recipe for sourdough bread?", "--json", "--index", str(built_index),
                  check=False)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["verdict"] == "not_found"
    bad = run("ask", "   ", "--index", str(built_index), check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("qa: error: question:")
    empty = run("ask", "", "--index", str(built_index), check=False)
    assert empty.returncode == 2 and empty.stderr.strip() == "qa: error: question: is empty"


def test_ask_prints_the_fact_a_question_about_the_article_asks_and_exits_0(built_index):
    result = run("ask", "When was the article published?", "-k", "1", "--index", str(built_index), check=False)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("answered, confidence") and result.returncode == 0
    assert lines[1] == "Published 2018-04-26  (from the metadata of Why North Korea and South Korea Are Technically " \
                       "Still at War)"


def test_a_misspelled_question_says_what_was_searched(built_index):
    result = run("ask", "wen was the armistise sined", "-k", "3", "--index", str(built_index), check=False)
    assert "(searched for: when was the armistice signed)" in result.stdout.splitlines()[0]
    assert "July 27, 1953" in result.stdout


@pytest.mark.parametrize("arguments, message", [
    (["ask", "x", "-k", "0"], "Invalid value for '-k' / '--k': 0 is not in the range 1<=x<=20. (see `qa ask --help`)"),
    (["ask", "x", "--mode", "fuzzy"], "Invalid value for '--mode': 'fuzzy' is not one of 'hybrid', 'dense', 'bm25'."),
    (["ask"], "Missing argument 'QUESTION'. (see `qa ask --help`)"),
    (["eval", "/no/such/questions.jsonl"], "File '/no/such/questions.jsonl' does not exist."),
    (["--bogus"], "No such option '--bogus'. (see `qa --help`)"),
    (["serve", "--port", "70000"], "Invalid value for '--port': 70000 is not in the range 1<=x<=65535."),
    (["serve", "--workers", "0"], "Invalid value for '--workers': 0 is not in the range x>=1."),
])
def test_a_usage_error_is_one_line_like_every_other_error(arguments, message):
    """The README's promise: every command exits 2 with one line `qa: error: …` (click's own
    report was three lines: usage, a hint, "Error: …")."""
    result = run(*arguments, check=False)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("qa: error: ") and message in line


@pytest.mark.parametrize("arguments, code, message", [
    (["ask", "q", "--json", "--index", "{missing}"], "index_unavailable", "no index in {missing}: build one with"),
    (["index", "info", "--json", "--index", "{missing}"], "index_unavailable", "no index in {missing}"),
    (["ask", "q", "--json", "-k", "0"], "usage_error", "0 is not in the range 1<=x<=20"),
    (["ask", "--json", "--bogus", "q"], "usage_error", "No such option '--bogus'"),
    (["eval", "/no/such/questions.jsonl", "--json"], "usage_error", "does not exist"),
])
def test_under_json_an_error_is_the_apis_error_body_on_stdout(tmp_path, arguments, code, message):
    """A script that reads ``--json`` output gets JSON on failure too (the API's shape), and
    a person still gets the one stderr line and exit status 2."""
    missing = str(tmp_path / "none")
    result = run(*(a.format(missing=missing) for a in arguments), check=False)
    body = json.loads(result.stdout)
    assert result.returncode == 2 and set(body) == {"error"} and body["error"]["code"] == code
    assert message.format(missing=missing) in body["error"]["message"]
    assert result.stderr.splitlines() == [f"qa: error: {body['error']['message']}"]


def test_without_json_an_error_leaves_stdout_empty(tmp_path):
    result = run("ask", "q", "--index", str(tmp_path / "none"), check=False)
    assert (result.returncode, result.stdout) == (2, "") and result.stderr.startswith("qa: error: no index in")


@pytest.mark.parametrize("variable, raw, problem", [
    ("QA_RELOAD_INTERVAL", "abc", "could not convert string to float: 'abc'"),
    ("QA_RELOAD_INTERVAL", "-1", "must be a positive number of seconds"),
    ("QA_RATE_LIMIT", "sixty/minute", "couldn't parse rate limit string 'sixty/minute'"),
    ("QA_CACHE_SIZE", "lots", "invalid literal for int() with base 10: 'lots'"),
])
def test_a_bad_setting_in_the_environment_stops_qa_serve_with_one_line(variable, raw, problem, tmp_path):
    """Before any worker starts: a traceback per worker, or (for a rate limit) a server
    running with no limit at all, is what a typo gave before."""
    import os

    result = subprocess.run([QA, "serve", "--index", str(tmp_path)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, variable: raw})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"qa: error: {variable}={raw!r} is not valid ({problem})"]


def test_counts_read_as_english():
    from qa.cli_index import counted

    assert (counted(1, "document"), counted(3, "document"), counted(0, "passage")) == (
        "1 document", "3 documents", "0 passages")


def test_ask_reads_the_question_from_standard_input_given_a_dash(built_index):
    result = subprocess.run([QA, "ask", "-", "--index", str(built_index), "--json", "-k", "1"], capture_output=True,
                            text=True, timeout=300, input="why didn't South Korea sign?\n")
    answer = json.loads(result.stdout)
    assert result.returncode == 0 and answer["question"] == "why didn't South Korea sign?"
    assert "Syngman Rhee" in answer["passages"][0]["text"]
