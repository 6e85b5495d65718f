"""`qa serve` under hostile clients, as a real gunicorn server on loopback: slow clients,
huge request lines, malformed framing, a taken port, a malformed version, start-up noise."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from servers import QA, QAServer, eventually, probe_latencies

pytestmark = pytest.mark.slow  # real servers: not in `make test-fast`

SECURITY = ("X-Content-Type-Options", "Content-Security-Policy")


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory):
    server = QAServer(built_index, tmp_path_factory.mktemp("serving") / "serve.log", "--workers", "2")
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def _listening(port: int) -> list[str]:
    """The local addresses of the sockets listening on ``port`` (/proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]  # each 32-bit word little-endian
                found.append(str(ipaddress.ip_address(b"".join(words))))
    return found


def test_serve_listens_on_loopback_only_by_default(server):
    """``qa serve`` without ``--host`` (as the fixture starts it) is reachable from this
    machine only."""
    assert _listening(server.port) == ["127.0.0.1"]


def raw(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; read the whole answer (the server closes after an error)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all (a 414): read the answer
        received = b""
        while chunk := _recv(sock):
            received += chunk
            if b"\r\n\r\n" in received and b"Connection: close" not in received.split(b"\r\n\r\n")[0]:
                head, _, body = received.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), b"0"))
                if len(body) >= length:
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["Content-Type"].startswith("application/json") and all(h in headers for h in SECURITY), headers
    error = json.loads(body)["error"]
    assert error["code"] and error["message"]
    return error


def test_six_dripping_clients_for_20_seconds_do_not_delay_anyone_else(server):
    """Each slow socket sends one header line every 2 s; the others are answered meanwhile."""
    stop = threading.Event()

    def drip():
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            while not stop.wait(2.0):
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    return  # the server gave up on us: that is allowed (a 408)

    drippers = [threading.Thread(target=drip) for _ in range(6)]
    for thread in drippers:
        thread.start()
    try:
        latencies, errors = probe_latencies(server.url, 20)
    finally:
        stop.set()
        for thread in drippers:
            thread.join()
    assert not errors and len(latencies) > 40
    assert max(latencies) < 2.0, sorted(latencies)[-5:]


def test_the_longest_valid_question_fits_the_request_line_and_longer_lines_get_a_fast_414(server):
    question = "😀" * 1000  # 1,000 code points, 4 bytes each, 12 bytes percent-encoded
    target = f"/api/ask?question={quote(question)}&k=20&mode=hybrid"
    assert len(target) > 12_000
    status, headers, body = raw(server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 200 and json.loads(body)["question"] == question
    started = time.monotonic()
    status, headers, body = raw(server.port, b"GET /api/ask?question=" + b"a" * 10_000_000 + b" HTTP/1.1\r\n\r\n")
    assert_json_error(status, headers, body, 414)
    assert time.monotonic() - started < 5  # quadratic parsing held a worker for ~8 s per 10 MB
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("request_bytes, status", [
    (b"NOT A REQUEST\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\n\r\n", 400),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n", 431),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
     b"\r\nzz\r\n", 400),  # a broken chunk size, met while the app reads the body
])
def test_gunicorns_own_errors_are_json_with_the_security_headers(server, request_bytes, status):
    assert_json_error(*raw(server.port, request_bytes), status)


def test_the_servers_own_limits_on_api_routes_are_in_the_api_document(server):
    """A client generated from /api/openapi.json must know the 408, 414 and 431 that gunicorn
    answers before a route runs: each is listed, with the error schema, on every API operation."""
    answers = {
        408: raw(server.port, b"GET /api/ask?question=x HTTP/1.1\r\nHost: x\r\n", timeout=30),  # head never ends
        414: raw(server.port, b"GET /api/ask?question=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        431: raw(server.port, b"GET /api/documents HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"),
    }
    assert {status: answer[0] for status, answer in answers.items()} == {408: 408, 414: 414, 431: 431}
    paths = requests.get(f"{server.url}/api/openapi.json", timeout=10).json()["paths"]
    operations = [(path, method, operation) for path, methods in paths.items() if path.startswith("/api/")
                  for method, operation in methods.items()]
    assert len(operations) == 4
    for path, method, operation in operations:
        for status in answers:
            documented = operation["responses"].get(str(status))
            assert documented, f"{method.upper()} {path} does not list {status}"
            assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


def test_a_broken_chunk_met_by_the_app_has_the_code_the_worker_gives_it(server):
    status, headers, body = raw(server.port, b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                             b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert status == 400 and json.loads(body)["error"] == {"code": "bad_chunked_body",
                                                          "message": "malformed chunked body"}


def test_options_is_204_with_allow_and_no_body(server):
    response = requests.options(f"{server.url}/api/ask", timeout=10)
    assert response.status_code == 204 and response.content == b""
    assert "POST" in response.headers["Allow"] and "Content-Type" not in response.headers
    assert all(h in response.headers for h in SECURITY)


def test_metrics_has_one_charset_and_the_start_up_log_no_faiss_loader_noise(server):
    assert requests.get(f"{server.url}/metrics", timeout=10).headers["Content-Type"].count("charset") == 1
    log = server.log()
    assert "swigfaiss" not in log and "Could not load library" not in log


def test_a_taken_port_is_reported_at_once_in_one_line(built_index):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([QA, "serve", "--index", str(built_index), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"qa: error: port {port} is in use; try --port"]


def test_a_server_started_on_a_refused_current_serves_the_last_good_version_and_says_why(built_index, tmp_path):
    """As a running server keeps its last good version when `current` is refused, a restarted
    one serves the newest version that loads, instead of a 503 (health names the refusal)."""
    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    good = (index / "current").readlink().name
    bad = index / "v-99999999T999999-truncated"
    shutil.copytree(index / good, bad)
    (bad / "chunks.jsonl").write_text("")
    (index / "current").unlink()
    (index / "current").symlink_to(bad.name)
    server = QAServer(index, tmp_path / "serve.log", "--workers", "1")
    try:
        health = _wait_for_health(server)
        assert health.status_code == 200 and health.json()["index"]["version"] == good
        assert "chunks.jsonl" in health.json()["error"] and f"serving {good}, the newest version that loads" in server.log()
        answer = requests.get(f"{server.url}/api/ask", params={"question": "armistice"}, timeout=10).json()
        assert answer["index_version"] == good
    finally:
        server.stop()


@pytest.mark.parametrize("breakage", ["checksums", "model", "faiss_index", "efSearch"])
def test_a_version_with_a_malformed_manifest_is_refused_and_reported(built_index, tmp_path, breakage):
    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    good = (index / "current").readlink().name
    bad = index / "v-99999999T999999-malformed"
    shutil.copytree(index / good, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    if breakage == "checksums":
        manifest["checksums"] = list(manifest["checksums"])
    elif breakage == "model":
        manifest["model"] = "all-MiniLM-L6-v2"
    elif breakage == "faiss_index":
        del manifest["faiss_index"]
    else:
        manifest["faiss_index"]["efSearch"] = 64  # on a flat index
    (bad / "manifest.json").write_text(json.dumps(manifest))
    (index / "current").unlink()
    (index / "current").symlink_to(bad.name)
    (index / good).rename(tmp_path / "aside")  # no good version to fall back to: nothing to serve
    server = QAServer(index, tmp_path / "serve.log", "--workers", "1")
    try:
        health = _wait_for_health(server)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert "manifest.json is malformed" in health.json()["error"] and breakage.split("_")[0] in health.json()["error"]
        refused = [line for line in server.log().splitlines() if "index refused" in line]
        assert len(refused) == 1 and "Traceback" not in server.log()
        (tmp_path / "aside").rename(index / good)
        (index / "current").unlink()
        (index / "current").symlink_to(good)  # a good version appears: served from then on
        eventually(lambda: requests.get(f"{server.url}/healthz", timeout=5).status_code == 200, timeout=30,
                   interval=0.3, explain=lambda: server.log()[-2000:])
        assert requests.get(f"{server.url}/api/ask", params={"question": "armistice"}, timeout=10).status_code == 200
    finally:
        server.stop()


def _wait_for_health(server: QAServer) -> requests.Response:
    deadline = time.monotonic() + 120
    while True:
        try:
            return requests.get(f"{server.url}/healthz", timeout=5)
        except requests.RequestException:
            assert time.monotonic() < deadline and server.process.poll() is None, server.log()[-3000:]
            time.sleep(0.3)


def test_without_an_index_healthz_is_503_with_the_reason(tmp_path):
    server = QAServer(tmp_path / "nothing-here", tmp_path / "serve.log", "--workers", "1")
    try:
        health = _wait_for_health(server)
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "index": None, "reloads": 0,
                                 "error": f"no index in {tmp_path / 'nothing-here'}: build one with "
                                          f"`qa index build --index {tmp_path / 'nothing-here'}`"}
    finally:
        server.stop()
