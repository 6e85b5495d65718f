"""Run the app on gunicorn (production) or Flask's development server (``--dev``).

The model and index are loaded once in the gunicorn master (``preload_app``) and the
workers fork from it, so they share that memory. Each worker runs ``connections`` threads
(qa.worker.QAThreadWorker: read deadlines, a request line limit, JSON errors) so that slow
or idle clients occupy a thread, not the worker; the CPU-bound part of an answer is bounded
separately by the service's ``answer_slots``, and the encoder gets ``cores / workers``
threads (at least one): torch's default of one thread per core collapses when workers share
cores (17 ms -> ~480 ms per encode under load, docs/performance.md). In production a
buffering proxy (nginx, docs/deploy.md) still sits in front: it reads whole requests before
gunicorn sees them.

A new index version is picked up by every worker on its next request (a readlink at
most every ``reload_interval`` seconds, ``QAService.refresh``); ``kill -HUP <master>``
also works: the master reloads the index, then gunicorn replaces the workers.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
from typing import Any

from .errors import QAError


class PortInUse(QAError):
    code = "port_in_use"


def check_port(host: str, port: int) -> None:
    """Fail at once with one line, before loading anything, if the address is taken (gunicorn
    would retry for five seconds and end with "Can't connect to")."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} is in use; try --port") from None
            raise QAError(f"cannot listen on {host}:{port} ({exc.strerror})", code="bad_address") from None


def serve(*, index_dir: str, model: str | None, host: str, port: int, workers: int | None,
          threads: int | None, connections: int, behind_proxy: bool, dev: bool,
          page: dict | None = None) -> None:
    check_port(host, port)
    cores = os.cpu_count() or 1
    workers = workers or cores
    threads = threads or max(1, cores // workers)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # "could not load swigfaiss_avx512": not a failure
    metrics_dir = None
    if not dev:  # before prometheus_client is imported: one metrics folder shared by all workers
        metrics_dir = tempfile.mkdtemp(prefix="qa-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from .app import create_app

    app = create_app({"QA_INDEX": index_dir, "QA_MODEL": model, "QA_THREADS": threads,
                      "QA_BEHIND_PROXY": behind_proxy, **(page or {})})
    if dev:
        app.run(host=host, port=port, debug=False, threaded=True)
        return
    _gunicorn(app, bind=f"[{host}]:{port}" if ":" in host else f"{host}:{port}", workers=workers, threads=threads,
              connections=connections, metrics_dir=metrics_dir)


def _gunicorn(app: Any, *, bind: str, workers: int, threads: int, connections: int, metrics_dir: str) -> None:
    from gunicorn.app.base import BaseApplication

    service = app.extensions["qa"]
    settings = {
        "bind": bind, "workers": workers, "preload_app": True,
        "worker_class": "qa.worker.QAThreadWorker", "threads": connections, "http_parser": "python",
        "keepalive": 5, "timeout": 60, "graceful_timeout": 10, "accesslog": None,
        "control_socket_disable": True,  # replicas on one host would share ~/.gunicorn/gunicorn.ctl
        "post_fork": _post_fork(threads, service),
        "on_reload": lambda server: service.refresh(force=True),
        "child_exit": _child_exit,
        # on_exit runs in the master only; a `finally` around run() would also run in each
        # exiting worker (they fork inside run()) and delete the folder under its siblings
        "on_exit": lambda server: shutil.rmtree(metrics_dir, ignore_errors=True),
    }

    class Server(BaseApplication):
        def load_config(self):
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self):
            return app

    Server().run()


def _post_fork(threads: int, service):
    """Per worker, after the fork: size torch's threads (when torch answers), and start
    the encoder's session with one throw-away question so that the first real request
    does not pay for it."""

    def hook(server, worker):
        if "torch" in sys.modules:
            import torch

            torch.set_num_threads(threads)
        from .index.load import set_search_threads

        set_search_threads(threads)  # FAISS's OpenMP pool would otherwise use every core
        try:
            if service.embedder is not None:
                service.embedder.encode_one("warm-up question")
        except Exception:  # the first request will report any real problem
            logging.getLogger(__name__).exception("encoder warm-up failed")

    return hook


def _child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
