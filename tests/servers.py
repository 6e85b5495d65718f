"""Real servers for the tests that need them: `qa serve` in its own process group, and the
clients the tests run against them (polling, background traffic, a latency probe)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import requests

QA = str(Path(sys.executable).with_name("qa"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QAServer:
    """`qa serve` in its own process group; ``stop()`` ends exactly that group."""

    def __init__(self, index: Path, log_path: Path, *arguments: str, env: dict[str, str] | None = None,
                 executable: str = QA):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [executable, "serve", "--index", str(index), "--port", str(self.port), *arguments],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.returncode: int | None = None

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"qa serve exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise AssertionError(f"qa serve not healthy after {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the master; it stops its workers
            except ProcessLookupError:
                pass
            try:
                self.returncode = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.returncode = self.process.wait(timeout=10)
            self._log.close()
        return self.returncode


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1,
               explain: Callable[[], str] = lambda: "") -> Any:
    """Poll ``check`` until it returns something truthy; fail at the deadline with ``explain()``
    (a server log, say)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s; last value {value!r}\n{explain()}")
        time.sleep(interval)


class Traffic:
    """Requests sent one after another from a background thread until the block ends (the
    thread is stopped on the way out, whatever happens inside): ``send(session, n)`` makes
    the n-th request; a non-200 answer or a connection error is a failure, every answer is
    kept in order."""

    def __init__(self, send: Callable[[requests.Session, int], requests.Response]):
        self.send = send
        self.failures: list[str] = []
        self.answers: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with requests.Session() as session:
            n = 0
            while not self._stop.is_set():
                n += 1
                try:
                    response = self.send(session, n)
                except requests.RequestException as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    self.answers.append(response.json())

    @property
    def versions(self) -> list[str]:
        """The index version of every answer, in order."""
        return [answer["index_version"] for answer in list(self.answers)]

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join(60)


def probe_latencies(url: str, seconds: float, pause: float = 0.2) -> tuple[list[float], list[str]]:
    """GET ``/api/ask`` (a fresh question each time, so no answer comes from the cache) every
    ``pause`` seconds for ``seconds``: each request's latency, and what failed."""
    latencies, failures = [], []
    started = time.monotonic()
    with requests.Session() as session:
        while time.monotonic() - started < seconds:
            t = time.monotonic()
            try:
                response = session.get(f"{url}/api/ask", params={"question": f"armistice {t}"}, timeout=10)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
            except requests.RequestException as exc:
                failures.append(repr(exc))
            latencies.append(time.monotonic() - t)
            time.sleep(pause)
    return latencies, failures


@contextmanager
def serving(app):
    """The app on a free loopback port in a daemon thread (threaded: the page fetches in parallel)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
