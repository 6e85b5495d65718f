"""Deployed like production: two `qa serve --behind-proxy` replicas sharing one index
folder, behind a real nginx started from deploy/nginx.conf, the app under the sub-path /qa/.

The nginx configuration is the shipped file itself: the test copies it and substitutes only
the values marked "template:" in it (replica ports, listen port, pid/log/temp paths, and for
the main instance a generous request rate so that the other scenarios are not rate limited;
the rate-limit scenario starts a second nginx with the shipped rate). nginx missing: the
tests skip locally and FAIL in CI (``CI`` set), like tests/test_browser.py and test_load.py.

The scenario that kills a replica runs last: it leaves the module's deployment with one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests

from conftest import CORPUS, ask_with_box, unavailable, wait_for_results
from servers import QAServer, Traffic, eventually, free_port, probe_latencies

pytestmark = [pytest.mark.slow]  # real nginx, real gunicorn replicas, a browser

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf"
NGINX = os.environ.get("QA_NGINX", "/usr/sbin/nginx")
SCREENSHOT = ROOT / "docs" / "deploy-subpath.png"  # written only when QA_SCREENSHOT is set
SEED = "why didn't South Korea sign?"
OTHER = "Which warship sank in 2010?"
EXTRA = "---\ntitle: Extra\n---\nThe Cheonan was a corvette of the South Korean navy. It sank in 2010.\n"
RELOAD_INTERVAL = "0.2"
CSP_NGINX = "default-src 'none'; frame-ancestors 'none'"


# -- nginx from the shipped configuration ------------------------------------------------------
def render_config(template: str, folder: Path, upstreams: list[int], port: int, *,
                  root_port: int | None = None, rate: str | None = None, burst: str | None = None) -> str:
    """deploy/nginx.conf with its "template:" values replaced (comment lines dropped); every
    value must be found exactly, so the test breaks loudly if the file changes shape.
    ``root_port`` also enables (uncomments) the root variant, on that port."""
    head, begin, rest = template.partition("    # root variant begin\n")
    root_block, end, tail = rest.partition("    # root variant end\n")
    assert begin and end, "deploy/nginx.conf: the root variant markers are missing"
    if root_port is not None:
        root_block = re.sub(r"(?m)^(\s*)# ?", r"\1", root_block)
        root_block = replace(root_block, "listen 80;", f"listen 127.0.0.1:{root_port};", 1)
    head = replace(re.sub(r"(?m)^\s*#.*\n", "", head), "listen 80;", f"listen 127.0.0.1:{port};", 1)
    text = head + re.sub(r"(?m)^\s*#.*\n", "", root_block + tail)
    text = replace(text, "127.0.0.1:8001", f"127.0.0.1:{upstreams[0]}", 1)
    text = replace(text, "127.0.0.1:8002", f"127.0.0.1:{upstreams[1]}", 1)
    text = replace(text, "user www-data;", "user root;" if os.geteuid() == 0 else "", 1)
    text = replace(text, "/run/nginx-qa.pid", f"{folder}/nginx.pid", 1)
    text = replace(text, "/var/log/nginx/", f"{folder}/", 2)
    text = replace(text, "/var/lib/nginx/", f"{folder}/", 5)
    if rate:
        text = replace(text, "rate=5r/s", f"rate={rate}", 1)
    if burst:
        text = replace(text, "burst=20 ", f"burst={burst} ", 4 if root_port else 2)
    leftovers = re.findall(r"/var/\S*|/run/\S*|listen 80;|:800[12]\b", text)
    assert not leftovers, f"untemplated values in the generated config: {leftovers}"
    return text


def replace(text: str, old: str, new: str, count: int | None = None) -> str:
    found = text.count(old)
    assert found and (count is None or found == count), \
        f"deploy/nginx.conf: expected {count or 'some'} {old!r}, found {found}"
    return text.replace(old, new)


class Nginx:
    """A private nginx (``-p folder``, ``daemon off``) in its own process group, stopped by pid."""

    def __init__(self, folder: Path, upstreams: list[int], *, root_variant: bool = False, **values: str):
        folder.mkdir()
        self.folder, self.port = folder, free_port()
        self.root_port = free_port() if root_variant else None
        config = folder / "nginx.conf"
        config.write_text(render_config(TEMPLATE.read_text(), folder, upstreams, self.port,
                                        root_port=self.root_port, **values))
        command = [NGINX, "-c", str(config), "-p", str(folder), "-e", str(folder / "err.log"), "-g", "daemon off;"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self._out = (folder / "stdout.log").open("wb")
        self.process = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_listening()
        except BaseException:
            self.stop()  # never leave a half-started nginx behind
            raise

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"nginx exited: {self.error_log()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                pid = int((self.folder / "nginx.pid").read_text())
                assert pid == self.process.pid, "the pid file names the master we started"
                return
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError(f"nginx is not listening: {self.error_log()}")

    def error_log(self) -> str:
        logs = [self.folder / "err.log", self.folder / "qa-error.log"]  # before / after the config is read
        return "".join(path.read_text(errors="replace")[-3000:] for path in logs if path.exists())

    def access_log(self) -> list[str]:
        return (self.folder / "qa-access.log").read_text(errors="replace").splitlines()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # the master: fast shutdown of its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


@dataclass
class Deployment:
    nginx: Nginx
    replicas: list[QAServer]
    index: Path

    @property
    def url(self) -> str:  # the app, as the world sees it
        return f"http://127.0.0.1:{self.nginx.port}/qa"

    @property
    def root_url(self) -> str:  # the root variant of the config
        return f"http://127.0.0.1:{self.nginx.root_port}"

    def require_both_replicas(self) -> None:
        assert all(r.process.poll() is None for r in self.replicas), \
            "a replica is down (the kill scenario must run last)"


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    if not Path(NGINX).exists():
        unavailable(f"{NGINX} is missing: apt-get install -y nginx")
    return NGINX


@pytest.fixture(scope="module")
def deployment(nginx_binary, built_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("deploy")
    index = folder / "index"  # ONE index folder, shared by both replicas
    shutil.copytree(built_index, index, symlinks=True)
    # TMPDIR: each replica's metrics folder lands here, so a killed replica leaves nothing in /tmp
    env = {"QA_RELOAD_INTERVAL": RELOAD_INTERVAL, "TMPDIR": str(folder)}
    replicas = [QAServer(index, folder / f"replica-{i}.log", "--behind-proxy", "--workers", "1", env=env)
                for i in (1, 2)]
    nginx = None
    try:
        for replica in replicas:
            replica.wait_healthy()
        nginx = Nginx(folder / "nginx", [r.port for r in replicas], root_variant=True,
                      rate="1000r/s", burst="1000")
        yield Deployment(nginx, replicas, index)
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()


# -- helpers ------------------------------------------------------------------------------------
class Links(HTMLParser):
    """Every URL a page refers to: links, scripts, styles, icons, form actions, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.root: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.root = attributes.get("data-root")
        for name in ("href", "src", "action"):
            if attributes.get(name) is not None:
                self.urls.append((tag, attributes[name]))


def page_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def local(urls: list[tuple[str, str]]) -> list[str]:
    """The URLs that point into this site (not https://time.com/..., not a bare #fragment)."""
    return [u for _, u in urls if not urlsplit(u).scheme and not u.startswith("#")]


def assert_nginx_json_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == CSP_NGINX
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def versions_of(url: str, n: int = 3) -> set[str]:
    return {requests.get(f"{url}/api/ask", params={"question": f"version probe {i} {time.monotonic()}"},
                         timeout=10).json()["index_version"] for i in range(n)}


def served_by(nginx: Nginx, marker: str) -> list[str]:
    """The replica (last address tried) that answered each logged request containing ``marker``."""
    lines = [line for line in nginx.access_log() if marker in line]
    return [re.search(r"upstream=(\S+(?:, \S+)*) ustatus=", line).group(1).split(", ")[-1] for line in lines]


# -- a. the API and the page under /qa/ ---------------------------------------------------------
def test_post_and_get_ask_and_healthz_answer_through_nginx_under_qa(deployment):
    deployment.require_both_replicas()
    with requests.Session() as http:
        for response in (http.post(f"{deployment.url}/api/ask", json={"question": SEED, "k": 3}, timeout=10),
                         http.get(f"{deployment.url}/api/ask", params={"question": SEED, "k": 3}, timeout=10)):
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
            passages = response.json()["passages"]
            assert 1 <= len(passages) <= 3 and "Syngman Rhee" in passages[0]["text"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"  # the app's own headers, once
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        health = http.get(f"{deployment.url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        bare = http.get(deployment.url, allow_redirects=False, timeout=10)
        assert bare.status_code == 301 and bare.headers["Location"] == "/qa/"
        # X-Forwarded-Proto/Host/Prefix reach the app: its OpenAPI document names the public URL
        spec = http.get(f"{deployment.url}/api/openapi.json", timeout=10).json()
        assert spec["servers"] == [{"url": f"{deployment.url}/"}]
        # the longest valid question (a ~12,000-byte request line) fits nginx's header buffers
        longest = "😀" * 1000
        response = http.get(f"{deployment.url}/api/ask?question={quote(longest)}&k=20", timeout=30)
        assert response.status_code == 200 and response.json()["question"] == longest


def test_the_page_under_qa_links_scripts_styles_and_form_only_to_qa(deployment):
    deployment.require_both_replicas()
    with requests.Session() as http:
        http.headers["Accept"] = "text/html"
        page = http.get(f"{deployment.url}/", params={"q": SEED}, timeout=10)
        assert page.status_code == 200 and "Syngman Rhee" in page.text
        links = page_links(page.text)
        assert links.root == "/qa"
        kinds = {tag for tag, _ in links.urls}
        assert {"a", "link", "script", "form"} <= kinds
        urls = local(links.urls)
        assert urls and all(u.startswith("/qa/") for u in urls), [u for u in urls if not u.startswith("/qa/")]
        readers = [u for u in urls if u.startswith("/qa/documents/")]
        assert len(readers) == 5 and all("?start=" in u for u in readers)
        for tag, url in links.urls:
            if tag in ("script", "link"):
                assert http.get(f"http://127.0.0.1:{deployment.nginx.port}{url}", timeout=10).status_code == 200, url
        reader = http.get(f"http://127.0.0.1:{deployment.nginx.port}{readers[0]}", timeout=10)
        assert reader.status_code == 200 and "<mark" in reader.text
        reader_urls = local(page_links(reader.text).urls)
        assert reader_urls and all(u.startswith("/qa/") for u in reader_urls)
        # a prefix made up by the client is overwritten by nginx's own
        forged = http.get(f"{deployment.url}/", headers={"X-Forwarded-Prefix": "/evil"}, timeout=10)
        forged_urls = local(page_links(forged.text).urls)
        assert forged.status_code == 200 and forged_urls and all(u.startswith("/qa/") for u in forged_urls)


def test_a_body_over_64_kib_and_a_line_over_20k_get_nginxs_413_and_414_as_json_with_security_headers(deployment):
    deployment.require_both_replicas()
    body = json.dumps({"question": "armistice", "padding": "x" * 70_000})
    response = requests.post(f"{deployment.url}/api/ask", data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert_nginx_json_error(response, 413, "payload_too_large")
    assert response.headers["Server"] == "nginx"  # answered by nginx (server_tokens off), not a replica
    # just under the limit passes nginx and reaches the app (which answers it)
    fits = json.dumps({"question": "armistice", "k": 1}).ljust(65_536)
    assert requests.post(f"{deployment.url}/api/ask", data=fits, timeout=10,
                         headers={"Content-Type": "application/json"}).status_code == 200
    # a request line longer than nginx's header buffers (20k): nginx's own 414, as JSON too
    too_long = requests.get(f"{deployment.url}/api/ask", params={"question": "a" * 21_000}, timeout=10)
    assert_nginx_json_error(too_long, 414, "uri_too_long")


def test_metrics_are_not_served_through_nginx_but_by_each_replica(deployment):
    deployment.require_both_replicas()
    assert_nginx_json_error(requests.get(f"{deployment.url}/metrics", timeout=10), 403, "forbidden")
    for replica in deployment.replicas:
        assert requests.get(f"{replica.url}/metrics", timeout=10).status_code == 200


def test_the_root_variant_of_the_config_serves_the_app_at_slash(deployment):
    deployment.require_both_replicas()
    answer = requests.post(f"{deployment.root_url}/api/ask", json={"question": SEED}, timeout=10)
    assert answer.status_code == 200 and "Syngman Rhee" in answer.json()["passages"][0]["text"]
    page = requests.get(f"{deployment.root_url}/", params={"q": SEED}, timeout=10,
                        headers={"Accept": "text/html", "X-Forwarded-Prefix": "/evil"})
    urls = local(page_links(page.text).urls)
    assert page.status_code == 200 and urls
    assert all(u.startswith("/") and not u.startswith(("/qa/", "/evil")) for u in urls), urls
    assert_nginx_json_error(requests.get(f"{deployment.root_url}/metrics", timeout=10), 403, "forbidden")


# -- b. the page under /qa/ in Chromium (the browser fixture: conftest.py) ----------------------
@pytest.mark.browser
def test_the_page_under_qa_in_chromium_asks_shares_navigates_and_reads(browser, deployment):
    deployment.require_both_replicas()
    base = deployment.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    problems, paths = [], []
    context.on("request", lambda request: paths.append(urlsplit(request.url).path))
    context.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} {r.url}"))
    try:
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        page.goto(base + "/")
        ask_with_box(page, SEED)
        assert "Syngman Rhee" in wait_for_results(page).nth(0).locator("blockquote").inner_text()
        assert page.url == base + "/?q=why+didn%27t+South+Korea+sign%3F"
        if os.environ.get("QA_SCREENSHOT"):
            page.mouse.move(0, 0)
            page.screenshot(path=str(SCREENSHOT))

        shared = context.new_page()  # the share link, opened afresh
        shared.on("pageerror", lambda exc: problems.append(f"pageerror (shared): {exc}"))
        shared.goto(page.url)
        assert "Syngman Rhee" in wait_for_results(shared).nth(0).inner_text()
        assert shared.input_value("#q") == SEED
        shared.close()

        ask_with_box(page, OTHER)
        page.wait_for_url(base + "/?q=Which+warship+sank+in+2010%3F")
        wait_for_results(page)
        page.go_back()
        page.wait_for_url(base + "/?q=why+didn%27t+South+Korea+sign%3F")
        assert page.input_value("#q") == SEED
        assert "Syngman Rhee" in wait_for_results(page).nth(0).inner_text()
        page.go_forward()
        page.wait_for_url(re.compile(re.escape(base) + r"/\?q=Which"))
        assert page.input_value("#q") == OTHER

        page.go_back()
        wait_for_results(page).nth(0).locator("a.reader-link").click()
        page.wait_for_url(re.compile(re.escape(base) + r"/documents/[^/?#]+\?start=\d+&end=\d+&q=.+#\d+-\d+$"))
        mark = page.locator("#doc-text mark")
        assert mark.count() == 1 and "Syngman Rhee" in mark.inner_text()
    finally:
        context.close()
    assert problems == []
    outside = [p for p in paths if not p.startswith("/qa/")]
    assert paths and not outside, f"requests outside /qa/: {outside}"


# -- c. a rebuild under traffic -------------------------------------------------------------------
def test_a_rebuild_is_picked_up_by_both_replicas_with_zero_failed_requests(deployment, embedder, token_counter,
                                                                         tmp_path):
    from qa.chunking import ChunkingParams
    from qa.corpus import load_corpus
    from qa.index.build import build_index
    from qa.index.layout import current_version

    deployment.require_both_replicas()
    index, old = deployment.index, current_version(deployment.index)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "extra.md").write_text(EXTRA)

    def ask(http: requests.Session, n: int) -> requests.Response:
        if n % 2:
            return http.post(f"{deployment.url}/api/ask", json={"question": f"{OTHER} {n}"}, timeout=10)
        return http.get(f"{deployment.url}/api/ask", params={"question": f"{SEED} {n}"}, timeout=10)

    with Traffic(ask) as traffic:
        build_index(load_corpus(corpus), corpus, index, embedder, ChunkingParams(), count_tokens=token_counter)
        new = current_version(index)
        assert new != old
        for replica in deployment.replicas:  # each replica, asked directly, switched
            eventually(lambda: versions_of(replica.url) == {new}, timeout=30)
            documents = requests.get(f"{replica.url}/api/documents", timeout=10).json()["documents"]
            assert "extra" in {d["doc_id"] for d in documents}
        eventually(lambda: traffic.versions[-5:] == [new] * 5, timeout=30)  # ... and the client through nginx
    seen = traffic.versions
    assert traffic.failures == [] and len(seen) > 20 and old in seen and new in seen
    # through nginx, both replicas now answer with the new version (the access log names them)
    marker = f"after-rebuild-{time.monotonic_ns()}"
    with requests.Session() as http:
        answers = [http.get(f"{deployment.url}/api/ask", params={"question": f"{marker} {i}"}, timeout=10)
                   for i in range(6)]
    assert {a.json()["index_version"] for a in answers} == {new}
    assert set(served_by(deployment.nginx, marker)) == {f"127.0.0.1:{r.port}" for r in deployment.replicas}


# -- e. slow clients ------------------------------------------------------------------------------
HEAD_DRIPPERS = 6
BODY_DRIPPERS = 20  # more than the replicas' reading threads (2 x 8): straight through, they would block them


def drip(port: int, stop: threading.Event, body: bool) -> None:
    """One slow client: a request head (or, with ``body``, a POST body) sent one line (one byte)
    every 2 s; when nginx cuts it off (client_header_timeout / client_body_timeout), start over."""
    head = (b"POST /qa/api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" if body else b"GET /qa/healthz HTTP/1.1\r\nHost: x\r\n")
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(head)
                while not stop.wait(2.0):
                    sock.sendall(b" " if body else b"X-Slow: 1\r\n")
        except OSError:
            continue


def test_dripping_clients_at_nginx_leave_other_requests_under_2_s(deployment):
    """Six clients drip their request heads and twenty their bodies, straight at nginx, for 12 s;
    nginx reads requests whole before passing them on (proxy_request_buffering), so the
    replicas never see the drippers and every other request is answered meanwhile."""
    deployment.require_both_replicas()
    stop = threading.Event()
    drippers = [threading.Thread(target=drip, args=(deployment.nginx.port, stop, i >= HEAD_DRIPPERS))
                for i in range(HEAD_DRIPPERS + BODY_DRIPPERS)]
    for thread in drippers:
        thread.start()
    time.sleep(0.5)  # every dripper connected and started
    try:
        latencies, failures = probe_latencies(deployment.url, 12)
    finally:
        stop.set()
        for thread in drippers:
            thread.join(15)
    assert failures == [] and len(latencies) > 30
    assert max(latencies) < 2.0, sorted(latencies)[-5:]


# -- f. the rate limit at the proxy ---------------------------------------------------------------
def test_a_burst_over_the_shipped_rate_limit_gets_429_json_from_nginx(deployment, tmp_path):
    """A second nginx with the shipped limit (5 requests/s per IP, bursts of 20) in front of the
    same replicas: 40 requests at once, the burst is answered, the excess gets nginx's 429."""
    deployment.require_both_replicas()
    limited = Nginx(tmp_path / "nginx-limited", [r.port for r in deployment.replicas])
    try:
        url = f"http://127.0.0.1:{limited.port}/qa"
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(
                lambda i: requests.get(f"{url}/api/ask", params={"question": "armistice"}, timeout=10), range(40)))
        elapsed = time.monotonic() - started
        statuses = [r.status_code for r in responses]
        # the first request and the burst of 20 pass at once; then 5 per second refill
        assert set(statuses) == {200, 429}, statuses
        assert 21 <= statuses.count(200) <= 21 + 5 * elapsed + 1, (statuses, elapsed)
        for response in responses:
            if response.status_code == 429:
                assert_nginx_json_error(response, 429, "rate_limited")
        assert all(requests.get(f"{url}/healthz", timeout=10).status_code == 200 for _ in range(10)), \
            "only the answering routes are limited"
    finally:
        limited.stop()


# -- d. a replica dies (last: the deployment keeps one replica from here on) -----------------------
def test_with_one_replica_killed_requests_through_nginx_keep_succeeding(deployment):
    deployment.require_both_replicas()
    victim, survivor = deployment.replicas
    warm = f"before-kill-{time.monotonic_ns()}"  # nginx holds keepalive connections to both replicas
    with requests.Session() as http:
        for i in range(8):
            assert http.get(f"{deployment.url}/api/ask", params={"question": f"{warm} {i}"}, timeout=10).ok
    # nginx writes a request's log line after it answers: wait for all 8, so that none of them
    # is counted below as a request after the kill
    eventually(lambda: len(served_by(deployment.nginx, warm)) == 8, timeout=10,
               explain=lambda: "nginx did not log the 8 warm-up requests")
    assert set(served_by(deployment.nginx, warm)) == {f"127.0.0.1:{r.port}" for r in deployment.replicas}
    logged = len(deployment.nginx.access_log())
    os.killpg(victim.process.pid, signal.SIGKILL)  # master and worker, no goodbye
    victim.process.wait(timeout=10)
    marker = f"after-kill-{time.monotonic_ns()}"
    failures = []
    with requests.Session() as http:
        for i in range(40):
            try:
                if i % 2:
                    response = http.post(f"{deployment.url}/api/ask", json={"question": f"{SEED} {i}"}, timeout=10)
                else:
                    response = http.get(f"{deployment.url}/api/ask", params={"question": f"{marker} {i}"}, timeout=10)
                if response.status_code != 200 or not response.json()["passages"]:
                    failures.append(f"{response.status_code} {response.text[:200]}")
            except requests.RequestException as exc:
                failures.append(repr(exc))
        assert http.get(f"{deployment.url}/healthz", timeout=10).status_code == 200
    assert failures == []
    assert set(served_by(deployment.nginx, marker)) == {f"127.0.0.1:{survivor.port}"}
    # passive health check: nginx tried the dead replica (and moved on to the other, within the
    # same request) until max_fails=2, then stopped sending it anything for fail_timeout
    tried_dead = [line for line in deployment.nginx.access_log()[logged:] if f"127.0.0.1:{victim.port}" in line]
    assert 1 <= len(tried_dead) <= 2, tried_dead
