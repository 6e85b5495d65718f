"""The Flask application: ``create_app()`` wires the JSON API, the page and errors.

Flow of a question: ``POST /api/ask`` -> ``ask()`` below -> ``QAService.ask``
(service.py) -> ``search.rank`` (FAISS + BM25) -> JSON. Errors are raised as ``QAError``
anywhere and rendered here, once, as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from apiflask import APIBlueprint, APIFlask
from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .errors import BadRequest, QAError
from .schemas import AnswerOut, AskBody, AskQuery, DocumentListOut, DocumentOut, ErrorOut, HealthOut
from .metrics import count_cache, count_reload, register_metrics
from .service import QAService

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 20
api = APIBlueprint("api", __name__, url_prefix="/api", tag="Questions")
ERRORS = [400, 404, 405, 413, 415, 500, 503]


def create_app(config: dict[str, Any] | None = None, service: QAService | None = None) -> APIFlask:
    """Defaults, then ``QA_*`` environment variables, then ``config``; the model and the
    index are loaded here, once, and kept in ``app.extensions["qa"]``."""
    app = APIFlask(__name__, title="qa", version="1.0", spec_path="/api/openapi.json", docs_path=None,
                   static_folder=None)
    app.config.update(
        QA_INDEX=os.environ.get("QA_INDEX", "index"),
        QA_MODEL=os.environ.get("QA_MODEL"),
        QA_THREADS=int(os.environ.get("QA_THREADS", "0")) or None,
        QA_CACHE_SIZE=int(os.environ.get("QA_CACHE_SIZE", "1024")),
        QA_RATE_LIMIT=os.environ.get("QA_RATE_LIMIT"),  # e.g. "60/minute" per client; off by default
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_SCHEMA=ErrorOut,
        HTTP_ERROR_SCHEMA=ErrorOut,
        AUTO_404_RESPONSE=True,
        DESCRIPTION="Questions answered from the corpus, each passage with a citation whose "
        "start/end slice the document text exactly.",
    )
    app.config.update(config or {})
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    if service is None:
        service = QAService(
            app.config["QA_INDEX"], model=app.config["QA_MODEL"], threads=app.config["QA_THREADS"],
            cache_size=app.config["QA_CACHE_SIZE"],
        ).load()
    app.extensions["qa"] = service

    app.register_blueprint(api)

    @app.spec_processor
    def body_is_required(spec: dict[str, Any]) -> dict[str, Any]:
        # APIFlask leaves requestBody optional; POST /api/ask without one is a 415/400
        spec["paths"]["/api/ask"]["post"]["requestBody"]["required"] = True
        return spec

    _register_health(app)
    _register_errors(app)
    _register_rate_limit(app)
    register_metrics(app)
    from .web import register_web

    register_web(app)
    return app


def qa_service() -> QAService:
    service: QAService = current_app.extensions["qa"]
    if service.maybe_reload():
        count_reload()
    return service


def _answer(question: Any, k: Any, mode: Any) -> dict[str, Any]:
    answer = qa_service().ask(question, k, mode)
    count_cache(answer.cached)
    return answer.to_json()


def _register_rate_limit(app: APIFlask) -> None:
    """Per-client limit on /api/ask (flask-limiter, in memory per worker); off unless
    ``QA_RATE_LIMIT`` is set, because local use needs none."""
    limit = app.config.get("QA_RATE_LIMIT")
    if not limit:
        return
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(get_remote_address, app=app, default_limits=[], storage_uri="memory://",
                      headers_enabled=True)
    shared = limiter.shared_limit(limit, scope="ask")  # GET and POST asks share one budget
    for name in ("api.ask_post", "api.ask_get"):
        app.view_functions[name] = shared(app.view_functions[name])


@api.before_request
def check_json_body() -> None:
    """Reject what webargs would quietly accept: other content types, duplicate keys,
    deep nesting, and bodies that are not a JSON object."""
    if request.method != "POST":
        return
    if not request.is_json:
        raise QAError("send the question as JSON with Content-Type: application/json",
                      code="unsupported_media_type", status=415)
    raw = _read_body()
    if _depth_exceeds(raw, MAX_JSON_DEPTH):
        raise BadRequest("the JSON body is nested too deeply")
    try:
        body = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise BadRequest(f"duplicate key {exc.args[0]!r} in the JSON body") from None
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object such as {\"question\": \"...\", \"k\": 5}")


def _read_body() -> bytes:
    """The body, with the size limit enforced for chunked bodies too: werkzeug silently
    truncates a chunked body at MAX_CONTENT_LENGTH instead of refusing it."""
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        data = request.environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise QAError(f"request body is larger than {limit} bytes", code="payload_too_large", status=413)
        request._cached_data = data  # what get_data() (and webargs after us) will return
        return data
    return request.get_data(cache=True)


def _depth_exceeds(raw: bytes, limit: int) -> bool:
    """Bracket depth outside strings, counted without recursion (json.loads and any
    recursive walk overflow Python's stack on a few hundred levels)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


@api.post("/ask")
@api.input(AskBody, location="json", arg_name="body")
@api.output(AnswerOut)
@api.doc(summary="Ask a question", responses=[400, 413, 415, 429, 503])
def ask_post(body: dict[str, Any]):
    return _answer(body["question"], body["k"], body["mode"])


@api.get("/ask")
@api.input(AskQuery, location="query", arg_name="query")
@api.output(AnswerOut)
@api.doc(summary="Ask a question (query string)", responses=[400, 429, 503])
def ask_get(query: dict[str, Any]):
    return _answer(query["question"], query["k"], query["mode"])


@api.get("/documents")
@api.output(DocumentListOut)
@api.doc(summary="List the documents", responses=[503])
def list_documents():
    return {"documents": qa_service().documents()}


@api.get("/documents/<doc_id>")
@api.output(DocumentOut)
@api.doc(summary="One document with its canonical text", responses=[404, 503])
def get_document(doc_id: str):
    return qa_service().document(doc_id)


def _register_health(app: APIFlask) -> None:
    @app.get("/healthz")
    @app.output(HealthOut)
    @app.doc(summary="Health: 200 with the index summary, 503 without a usable index", tags=["Health"],
             responses={200: "An index is loaded", 503: {"description": "No usable index", "content": {
                 "application/json": {"schema": HealthOut}}}})
    def healthz():
        service = qa_service()
        health = service.health()
        if health["index"] is None:
            return jsonify(health), 503
        return health


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _register_errors(app: APIFlask) -> None:
    from .web import html_error, wants_html_error

    def respond(status: int, code: str, message: str, headers=None):
        """The one exit of every error: JSON, or for a browser on a page address an HTML
        page with the same status."""
        if wants_html_error():
            return html_error(status, _PAGE_MESSAGES.get(status, message))
        return error_body(code, message), status, headers

    @app.error_processor
    def http_error(error):  # APIFlask HTTPError: validation errors and werkzeug's HTTP errors
        if error.status_code == 400 and error.detail:
            return error_body(*_validation_message(error.detail)), 400
        return respond(error.status_code, _HTTP_CODES.get(error.status_code, "http_error"),
                       _HTTP_MESSAGES.get(error.status_code, error.message), error.headers)

    @app.errorhandler(QAError)
    def qa_error(error: QAError):
        return respond(error.status, error.code, error.message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):  # already handled above; keep its status
            status = error.code or 500
            return respond(status, _HTTP_CODES.get(status, "http_error"), error.description or "")
        log.exception("unexpected error")  # the traceback goes to the log, never to the client
        return respond(500, "internal_error", "internal server error")


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited", 500: "internal_error"}
_PAGE_MESSAGES = {404: "There is no page at this address.", 405: "This page cannot be used that way.",
                  500: "Something went wrong on our side; the error is logged."}
_HTTP_MESSAGES = {
    429: "too many requests from this client; slow down",
    404: "no such route; see /api/openapi.json",
    405: "method not allowed for this route",
    413: f"request body is larger than {MAX_BODY_BYTES} bytes",
}


def _validation_message(detail: dict[str, Any]) -> tuple[str, str]:
    """``{"json": {"k": ["Must be ..."]}}`` -> ``("bad_k", "k: Must be ...")``."""
    parts, fields = [], []
    for location in detail.values():
        if not isinstance(location, dict):
            continue
        for field, messages in location.items():
            text = _flatten(messages)[0] if _flatten(messages) else "invalid"  # the first reason is enough
            if field == "_schema":
                parts.append(text)
            else:
                fields.append(field)
                parts.append(f"{field}: {text}")
    code = {"question": "bad_question", "k": "bad_k", "mode": "bad_mode"}.get(fields[0], "bad_request") if fields else "bad_request"
    return code, " ".join(parts) or "invalid request"


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in _flatten(v)]
    return [str(messages)]
