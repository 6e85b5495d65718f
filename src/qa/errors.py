"""Typed errors: the library raises them, each adapter (HTTP, CLI) renders them once.

Every error carries an HTTP ``status`` and a stable machine ``code`` so that the API
can answer ``{"error": {"code", "message"}}`` and the CLI a one-line message.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one JSON shape of every error, from the app and from the gunicorn worker alike."""
    return {"error": {"code": code, "message": message}}


class QAError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadQuestion(QAError):
    status = 400
    code = "bad_question"


class BadRequest(QAError):
    status = 400
    code = "bad_request"


class NotFound(QAError):
    status = 404
    code = "not_found"


class IndexUnavailable(QAError):
    """No index, or one we refuse to serve (missing files, other format, other model)."""

    status = 503
    code = "index_unavailable"


class IndexMismatch(IndexUnavailable):
    code = "index_mismatch"


class IndexBusy(QAError):
    """Another build holds the index folder's lock for too long."""

    status = 409
    code = "index_busy"


class CorpusError(QAError):
    """A corpus file that cannot become a document. The message names the file."""

    status = 422
    code = "bad_corpus_file"

    def __init__(self, path: str, problem: str):
        # control characters in a file name (a newline...) would break the one-line message
        shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in path)
        super().__init__(f"{shown}: {problem}")
        self.path = path
        self.problem = problem


class ModelError(QAError):
    status = 500
    code = "model_error"
