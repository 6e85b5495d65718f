"""The gunicorn worker ``qa serve`` runs: gthread, hardened against slow and malformed clients.

gunicorn 27 reads a request's head and body with no deadline of its own (``--timeout`` is
the worker heartbeat), has no request line limit between 8190 bytes and "unlimited" (which
parses a long line in quadratic time), and answers malformed requests with HTML pages
without our headers. This worker adds, on top of gunicorn's ``ThreadWorker``:

* deadlines: the request head must arrive within HEAD_SECONDS of the thread starting on
  it (else 408), the body within BODY_SECONDS after the head; with more threads than
  CPU-bound slots (serving.py), a few dripping clients cannot starve the others;
* a request line limit of REQUEST_LINE_BYTES, enough for the longest valid question by
  GET (1,000 code points of 4-byte UTF-8, percent-encoded: 12,000 bytes, plus the other
  parameters), answered with a fast 414;
* gunicorn's own error answers as ``{"error": {"code", "message"}}`` with the security
  headers, and no error appended after a response the app already sent.

It overrides gunicorn internals (``TConn.parser``, ``Request.read_line``, ``handle_error``),
so pyproject.toml pins gunicorn to 27.x; tests/test_serving.py exercises each part.
"""

from __future__ import annotations

import json
import socket
import time

from gunicorn import util
from gunicorn.http import errors as E
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import RequestTimeout
from werkzeug.http import HTTP_STATUS_CODES

from .errors import error_body

HEAD_SECONDS = 5.0
BODY_SECONDS = 10.0
REQUEST_LINE_BYTES = 16384


class HeadTimeout(E.ParseException):
    def __str__(self) -> str:
        return f"request head not received within {HEAD_SECONDS:g} s"


class BodyTimeout(RequestTimeout):
    """Raised where the app reads the body: Flask answers it as a 408 through our handlers."""

    description = f"request body not received within {BODY_SECONDS:g} s"


class DeadlineUnreader(SocketUnreader):
    """A SocketUnreader whose reads share one absolute deadline."""

    deadline: float | None = None
    exc_class: type | None = None
    on_timeout = None

    def arm(self, seconds: float, exc_class: type, on_timeout=None) -> None:
        self.deadline, self.exc_class, self.on_timeout = time.monotonic() + seconds, exc_class, on_timeout

    def disarm(self) -> None:
        self.deadline = self.exc_class = self.on_timeout = None

    def _expired(self) -> Exception:
        exc_class, on_timeout = self.exc_class, self.on_timeout
        self.disarm()
        if on_timeout is not None:
            on_timeout()
        return exc_class()

    def chunk(self, size_hint=None):
        if self.deadline is None:
            return super().chunk(size_hint)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        prior = self.sock.gettimeout()  # None (blocking), or gunicorn's own bound while draining
        mine = prior is None or remaining < prior
        self.sock.settimeout(remaining if mine else prior)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            if mine:
                raise self._expired() from None
            raise
        finally:
            self.sock.settimeout(prior)


class QARequest(Request):
    def read_line(self, unreader, buf, limit=0):
        # only used for the request line; gunicorn caps its own setting at 8190 bytes
        return super().read_line(unreader, buf, REQUEST_LINE_BYTES)


class QARequestParser(RequestParser):
    mesg_class = QARequest

    def __init__(self, cfg, source, source_addr):
        super().__init__(cfg, source, source_addr)
        self.unreader = DeadlineUnreader(source)

    def __next__(self):
        self.unreader.arm(HEAD_SECONDS, HeadTimeout)
        try:
            request = super().__next__()
        except BaseException:
            self.unreader.disarm()
            raise
        self.unreader.arm(BODY_SECONDS, BodyTimeout, on_timeout=request.force_close)
        return request

    next = __next__


# exception classes -> status, code, message; the first match wins (subclasses first)
CLIENT_ERRORS = [
    (HeadTimeout, 408, "request_timeout", "request head not received in time"),
    (E.LimitRequestLine, 414, "uri_too_long", f"request line longer than {REQUEST_LINE_BYTES} bytes"),
    (E.LimitRequestHeaders, 431, "headers_too_large", "request header fields too large"),
    (E.UnsupportedTransferCoding, 501, "unsupported_transfer_coding", "unsupported transfer coding"),
    (E.ExpectationFailed, 417, "expectation_failed", "unsupported Expect header"),
    (E.ForbiddenProxyRequest, 403, "forbidden", "request forbidden"),
    ((E.InvalidRequestLine, E.InvalidRequestMethod, E.InvalidHTTPVersion), 400, "bad_request_line",
     "malformed request line"),
    ((E.InvalidHeader, E.InvalidHeaderName, E.ObsoleteFolding, E.InvalidSchemeHeaders), 400, "bad_header",
     "malformed or ambiguous header"),
    ((E.InvalidChunkSize, E.ChunkMissingTerminator, E.InvalidChunkExtension), 400, "bad_chunked_body",
     "malformed chunked body"),
    (E.ParseException, 400, "bad_request", "malformed request"),
]
HEADERS = ("Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
           "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
           "Referrer-Policy: no-referrer\r\nCache-Control: no-store\r\nConnection: close\r\n")


def classify(exc: BaseException) -> tuple[int, str, str]:
    if not isinstance(exc, (E.InvalidResponseHeader, E.InvalidResponseHeaderName)):
        for classes, status, code, message in CLIENT_ERRORS:
            if isinstance(exc, classes):
                return status, code, message
    return 500, "internal_error", "internal server error"


def error_response(status: int, code: str, message: str) -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    head = f"HTTP/1.1 {status} {HTTP_STATUS_CODES[status]}\r\n{HEADERS}Content-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


class QAThreadWorker(ThreadWorker):
    def handle(self, conn):
        # TConn.init() builds a parser only when it has none (plain HTTP/1 here, no TLS)
        if conn.parser is None and not self.cfg.is_ssl:
            conn.parser = QARequestParser(self.cfg, conn.sock, conn.client)
        return super().handle(conn)

    def handle_request(self, req, conn):
        try:
            return super().handle_request(req, conn)
        finally:
            unreader = conn.parser.unreader
            if isinstance(unreader, DeadlineUnreader):
                unreader.disarm()  # the body deadline ends with the app

    def _keepalive_after(self, conn, keepalive):
        # draining a body the app did not read can fail AFTER the app's response went out;
        # gthread would then append an error response to it: close instead
        try:
            return super()._keepalive_after(conn, keepalive)
        except Exception as exc:  # noqa: BLE001 - any framing error of an unread body
            self.log.warning("invalid request body after the response: %s", str(exc)[:200])
            return False

    def handle_error(self, req, client, addr, exc):
        status, code, message = classify(exc)
        if status == 500:
            self.log.exception("error handling request")
        else:  # gunicorn would log str(exc), which can hold a whole 10 MB request line
            self.log.warning("invalid request from %s: %d %s", (addr or ("",))[0], status, str(exc)[:200])
        try:
            util.write_nonblock(client, error_response(status, code, message))
            if isinstance(exc, HeadTimeout):  # do not linger on a client that is still dripping
                client.shutdown(socket.SHUT_RDWR)
        except OSError:
            self.log.debug("failed to send the error response")
