"""The JSON API: ``/api/ask`` (POST and GET), ``/api/documents``, ``/healthz``.

Flow of a question: ``POST /api/ask`` -> ``ask_post`` -> ``views.answer`` (validation by
schemas.parse_ask, the same as the page's) -> ``QAService.ask`` (service.py) ->
``search.rank`` (FAISS + BM25) -> JSON. The schemas given to ``@api.input`` document the
API in ``/api/openapi.json`` and validate through ``parse_ask`` (``validation=False``
here: one validation path for the API, the page and the CLI).
Errors are raised as ``QAError`` anywhere and rendered by http_errors.py.
"""

from __future__ import annotations

import codecs
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from apiflask import APIBlueprint
from flask import current_app, request

from .errors import BadRequest, QAError
from .schemas import AnswerOut, AskBody, AskQuery, DocumentListOut, DocumentOut, HealthOut
from .service import current_service
from .views import answer

MAX_JSON_DEPTH = 20
api = APIBlueprint("api", __name__, url_prefix="/api", tag="Questions")
health = APIBlueprint("health", __name__, tag="Health")

# What `qa serve` (gunicorn, worker.py) answers before a request reaches a route, in the same
# JSON error body: a head or body not sent in time, a request line or headers too long.
SERVER_LIMITS = [408, 414, 431]


@api.post("/ask")
@api.input(AskBody, location="json", arg_name="body", validation=False)
@api.output(AnswerOut)
@api.doc(summary="Ask a question", responses=[400, 413, 415, 429, 500, 503, *SERVER_LIMITS])
def ask_post(body: dict[str, Any]):
    return answer(body).to_json()


@api.get("/ask")
@api.input(AskQuery, location="query", arg_name="query", validation=False)
@api.output(AnswerOut)
@api.doc(summary="Ask a question (query string)", responses=[400, 429, 500, 503, *SERVER_LIMITS])
def ask_get(query: Any):
    return answer(request.args, query_string=True).to_json()  # the MultiDict: repeated keys are refused


@api.get("/documents")
@api.output(DocumentListOut)
@api.doc(summary="List the documents", responses=[500, 503, *SERVER_LIMITS])
def list_documents():
    return {"documents": current_service().documents()}


@api.get("/documents/<doc_id>")
@api.output(DocumentOut)
@api.doc(summary="One document with its canonical text", responses=[404, 500, 503, *SERVER_LIMITS])
def get_document(doc_id: str):
    return current_service().document(doc_id)


@health.get("/healthz")
@health.output(HealthOut)
@health.doc(summary="Health: 200 with the index summary, 503 without a usable index",
            responses={200: "An index is loaded", 503: {"description": "No usable index", "content": {
                "application/json": {"schema": HealthOut}}}})
def healthz():
    report = current_service().health()
    return report, (503 if report["index"] is None else 200)


@api.before_request
def check_json_body() -> None:
    """Reject what a JSON parser would quietly accept: other content types, duplicate keys,
    deep nesting, and bodies that are not a JSON object. The schema validates the rest."""
    if request.method != "POST":
        return
    if not request.is_json:
        raise QAError("send the question as JSON with Content-Type: application/json",
                      code="unsupported_media_type", status=415)
    raw = _read_body()
    if raw.startswith(codecs.BOM_UTF8):  # json.loads skips it, Flask's parser then refused it with a bare 400
        raise BadRequest("the JSON body starts with a byte order mark (U+FEFF): send UTF-8 without one")
    try:
        raw.decode("utf-8")  # json.loads reads UTF-16 and UTF-32 too; Flask's parser, after us, does not
    except UnicodeDecodeError:
        raise BadRequest("the JSON body is not UTF-8 (RFC 8259): send it as UTF-8") from None
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


def check_query_string() -> None:
    """A query string must be UTF-8 once percent-decoded: werkzeug leaves an invalid sequence
    as it came, so ``?question=Fund%E3o`` (Latin-1) was asked as the text "Fund%E3o"."""
    try:
        unquote_to_bytes(request.query_string.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the query string is not UTF-8 once percent-decoded: encode its text as UTF-8 (ã is %C3%A3, not %E3)") from None


def _read_body() -> bytes:
    """The body, with the size limit enforced for chunked bodies too: werkzeug silently
    truncates a chunked body at MAX_CONTENT_LENGTH instead of refusing it."""
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        data = request.environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise QAError(f"request body is larger than {limit} bytes", code="payload_too_large", status=413)
        request._cached_data = data  # what get_data() (and the schema's parser after us) will return
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
