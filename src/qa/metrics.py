"""Prometheus metrics for ``GET /metrics`` (prometheus-client).

Under gunicorn every worker is a process, so metrics use prometheus-client's
multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``serving.py`` sets it to
a fresh folder before forking): a scrape then sums all workers, whichever one answers.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUESTS = Counter("qa_http_requests_total", "HTTP requests by endpoint and status", ["endpoint", "status"])
LATENCY = Histogram(
    "qa_http_request_seconds", "HTTP request latency by endpoint", ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CACHE = Counter("qa_answer_cache_total", "Answer cache lookups by result", ["result"])
PASSAGES = Gauge("qa_index_passages", "Passages in the loaded index", multiprocess_mode="max")
DOCUMENTS = Gauge("qa_index_documents", "Documents in the loaded index", multiprocess_mode="max")
RELOADS = Counter("qa_index_reloads_total", "Index versions swapped in while serving")


def register_metrics(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.qa_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        started = g.get("qa_started")
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    @app.doc(hide=True)
    def metrics():
        index = app.extensions["qa"].health()["index"]
        if index is not None:
            PASSAGES.set(index["passages"])
            DOCUMENTS.set(index["documents"])
        # content_type, not mimetype: werkzeug would append a second "charset=utf-8"
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def count_cache(hit: bool) -> None:
    CACHE.labels("hit" if hit else "miss").inc()


def count_reload() -> None:
    RELOADS.inc()
