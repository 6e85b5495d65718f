"""Real servers for the tests that need them: `qa serve` in its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
