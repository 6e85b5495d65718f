"""Every error leaves the app here, once: ``{"error": {"code", "message"}}`` with its
status, or for a browser on a page address an HTML page with the same status.

Views and the library raise ``QAError`` (errors.py) or let werkzeug raise HTTP errors;
tracebacks go to the log, never to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from flask import render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .errors import QAError, error_body
from .schemas import validation_message

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 408: "request_timeout",
              413: "payload_too_large",
              414: "uri_too_long", 415: "unsupported_media_type", 429: "rate_limited", 500: "internal_error"}
_PAGE_MESSAGES = {404: "There is no page at this address.", 405: "This page cannot be used that way.",
                  500: "Something went wrong on our side; the error is logged."}
_API_MESSAGES = {
    429: "too many requests from this client; slow down",
    404: "no such route; see /api/openapi.json",
    405: "method not allowed for this route",
}


def wants_html() -> bool:
    """A browser asking for a page gets an HTML error page; the API, health checks,
    metrics and any client that does not prefer HTML keep the JSON error body."""
    if request.path.startswith("/api/") or request.path in ("/healthz", "/metrics"):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def respond(status: int, code: str, message: str, headers: Any = None):
    """The one exit of every error."""
    if wants_html():
        title = HTTP_STATUS_CODES.get(status, "Error")
        page = render_template("error.html", status=status, title=title, message=_PAGE_MESSAGES.get(status, message))
        return page, status
    return error_body(code, message), status, headers


def register_errors(app: APIFlask) -> None:
    @app.error_processor
    def http_error(error):  # APIFlask HTTPError: validation errors and werkzeug's HTTP errors
        if error.status_code == 400 and error.detail:
            return error_body(*validation_message(error.detail)), 400
        message = _API_MESSAGES.get(error.status_code, error.message)
        if error.status_code == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        return respond(error.status_code, HTTP_CODES.get(error.status_code, "http_error"), message, error.headers)

    @app.errorhandler(QAError)
    def qa_error(error: QAError):
        return respond(error.status, error.code, error.message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):  # already handled above; keep its status
            status = error.code or 500
            return respond(status, HTTP_CODES.get(status, "http_error"), error.description or "")
        if type(error).__module__ == "gunicorn.http.errors":  # bad framing met while the app reads the body
            from .worker import classify  # only under gunicorn, which this error proves is there

            status, code, message = classify(error)  # the codes the worker gives the same errors
            if status == 500:  # one it does not list: still the client's
                return respond(400, "bad_request", "malformed request body")
            return respond(status, code, message)
        log.exception("unexpected error")  # the traceback goes to the log, never to the client
        return respond(500, "internal_error", "internal server error")
