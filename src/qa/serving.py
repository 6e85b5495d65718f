"""Run the app on gunicorn (production) or Flask's development server (``--dev``).

The model and index are loaded once in the gunicorn master (``preload_app``) and the
workers fork from it, so they share that memory. torch gets ``cores / workers`` threads
per worker (at least one): torch's default of one thread per core collapses when
workers share cores (17 ms -> ~480 ms per encode under load, docs/performance.md).

A new index version is picked up by every worker on its next request (a readlink at
most once a second, ``QAService.maybe_reload``); ``kill -HUP <master>`` also works: the
master reloads the index, then gunicorn replaces the workers, which fork with it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile


def serve(*, index_dir: str, model: str | None, host: str, port: int, workers: int | None,
          threads: int | None, dev: bool) -> None:
    cores = os.cpu_count() or 1
    workers = workers or cores
    threads = threads or max(1, cores // workers)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    metrics_dir = None
    if not dev:  # before prometheus_client is imported: one metrics folder shared by all workers
        metrics_dir = tempfile.mkdtemp(prefix="qa-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from .app import create_app

    app = create_app({"QA_INDEX": index_dir, "QA_MODEL": model, "QA_THREADS": threads})
    if dev:
        app.run(host=host, port=port, debug=False, threaded=True)
        return
    from gunicorn.app.base import BaseApplication

    service = app.extensions["qa"]

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("preload_app", True)
            # gthread with one thread: still one request at a time per worker (the work is
            # CPU-bound), but connections are kept alive instead of closed after each answer
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 1)
            self.cfg.set("keepalive", 5)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", None)
            # a 1000-character question by GET is up to 12 kB once URL-encoded (emoji): more
            # than gunicorn's 4094-byte default, whose 414 would be HTML; 0 = no line limit
            self.cfg.set("limit_request_line", 0)
            self.cfg.set("post_fork", _post_fork(threads, service))
            self.cfg.set("on_reload", lambda server: service.refresh(force=True))
            self.cfg.set("child_exit", _child_exit)
            # on_exit runs in the master only; a `finally` around run() would also run in each
            # exiting worker (they fork inside run()) and delete the folder under its siblings
            self.cfg.set("on_exit", lambda server: shutil.rmtree(metrics_dir, ignore_errors=True))

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
