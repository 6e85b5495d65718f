"""``create_app()``: the application factory (as flaskr's) that wires the JSON API, the
page, the errors, the metrics and the security headers around one ``QAService``.

Configuration: the defaults and ``QA_*`` environment variables of settings.py, then the
``config`` argument. The model and the index are loaded here, once, and kept in
``app.extensions["qa"]`` (service.current_service reads it), never per request.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from apiflask import APIFlask
from flask import Response, current_app, request

from . import settings
from .api import api, check_query_string, health
from .http_errors import register_errors
from .metrics import count_reload, register_metrics
from .schemas import ErrorOut
from .service import QAService
from .web import register_web

# No inline script or style anywhere: the page uses only /static files, so 'self' suffices.
CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(config: dict[str, Any] | None = None, service: QAService | None = None) -> APIFlask:
    app = APIFlask(__name__, title="qa", version="1.0", spec_path=None, docs_path=None, static_folder=None)
    app.config.update(
        {f"QA_{s.name.upper()}": settings.value(s.name) for s in settings.SETTINGS if s.env},
        MAX_CONTENT_LENGTH=settings.default("max_body_bytes"),
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
        milvus = None
        if app.config["QA_MILVUS"]:
            from .milvus.store import MilvusStore

            milvus = MilvusStore(app.config["QA_MILVUS"], token=app.config["QA_MILVUS_TOKEN"],
                                 alias=app.config["QA_MILVUS_ALIAS"], timeout=app.config["QA_MILVUS_TIMEOUT"])
        service = QAService(
            app.config["QA_INDEX"], model=app.config["QA_MODEL"], threads=app.config["QA_THREADS"],
            cache_size=app.config["QA_CACHE_SIZE"], reload_interval=app.config["QA_RELOAD_INTERVAL"],
            on_reload=count_reload, verdict_model=app.config["QA_VERDICT_MODEL"],
            answer_slots=app.config["QA_ANSWER_SLOTS"], milvus=milvus,
        ).load()
    app.extensions["qa"] = service
    app.before_request(check_query_string)  # the page's and the API's
    app.register_blueprint(api)
    app.register_blueprint(health)
    # APIFlask keeps one spec processor (a second registration replaces the first): chain them
    app.spec_processor(lambda spec: _document_ids(_body_is_required(spec)))
    # not a path of the document it serves
    app.add_url_rule("/api/openapi.json", "openapi", app.doc(hide=True)(_openapi_document(app)), methods=["GET"])
    register_errors(app)
    register_metrics(app)
    register_web(app)
    _register_rate_limit(app)  # after the page's route, which it limits too
    app.after_request(_security_headers)
    if app.config["QA_BEHIND_PROXY"]:  # only when told: a client could forge these headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    return app


def _openapi_document(app: APIFlask) -> Callable[[], dict[str, Any]]:
    """The document, generated again only when the served documents change (a reload to a
    version with other ``doc_id`` values), not on every request."""
    made: dict[tuple[str, ...], dict[str, Any]] = {}

    def document() -> dict[str, Any]:
        index = app.extensions["qa"].holder.index
        spec = made.get(tuple(sorted(index.documents)) if index is not None else ())
        if spec is None:  # a local, so that a thread clearing ``made`` cannot take it away
            spec = app.spec
            made.clear()
            made[_offered_ids(spec)] = spec  # the ids it holds: a reload may have come in between
        return spec

    return document


def _offered_ids(spec: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_body_doc_id(spec)["oneOf"][0].get("enum", ()))


def _body_doc_id(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]["AskBody"]["properties"]["doc_id"]


def _body_is_required(spec: dict[str, Any]) -> dict[str, Any]:
    """APIFlask leaves requestBody optional; POST /api/ask without one is a 415/400."""
    spec["paths"]["/api/ask"]["post"]["requestBody"]["required"] = True
    return spec


def _document_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """``doc_id`` takes the ids of the index being served: the document says which values
    are valid (an unknown one is a 400), as it does for ``mode``."""
    index = current_app.extensions["qa"].holder.index if current_app else None
    if index is None:
        return spec
    ids = sorted(index.documents)
    spec = copy.deepcopy(spec)  # its schemas share the fields' metadata, module-wide: never write into those
    targets = [_body_doc_id(spec)]
    targets += [p["schema"] for p in spec["paths"]["/api/ask"]["get"]["parameters"] if p["name"] == "doc_id"]
    for schema in targets:
        single, several = schema["oneOf"]
        single["enum"] = ids
        several["items"]["enum"] = ids
    return spec


def _security_headers(response: Response) -> Response:
    """Every response, error responses and the API included: a CSP without inline script,
    nosniff, no referrer, no framing. Flask's automatic OPTIONS answer (200, an empty
    text/html body) becomes what it means: 204, the Allow header, no body."""
    if request.method == "OPTIONS" and response.status_code == 200 and not response.get_data():
        response.status_code = 204
        del response.headers["Content-Type"]
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _register_rate_limit(app: APIFlask) -> None:
    """Per-client limit on asking (flask-limiter, in memory per worker): /api/ask, GET and
    POST, and the page when it answers a question (``/?q=``), all from one budget; the page
    without a question, health and documents are free. Off unless ``QA_RATE_LIMIT`` is set,
    because local use needs none."""
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
    page = limiter.shared_limit(limit, scope="ask", exempt_when=lambda: not request.args.get("q", "").strip())
    app.view_functions["web.index"] = page(app.view_functions["web.index"])  # the same budget: same scope
