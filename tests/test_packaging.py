"""The wheel carries the page: `pip install .` without a checkout still serves web/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

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
    assert {"qa/web.py", "qa_web/templates/index.html", "qa_web/templates/error.html",
            "qa_web/static/app.js", "qa_web/static/style.css"} <= names

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
