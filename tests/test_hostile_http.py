"""Hostile HTTP input (issue 6): whatever a browser or a script can send gets a clear 4xx
in the documented JSON shape, never a 500, a traceback or a file's contents.

Most cases go through the test client; the ones where the HTTP layer itself matters
(raw paths that a client library would normalise, chunked bodies, lying Content-Length,
real multipart uploads, raw bytes in the query string) go through ``live_server``.
"""

from __future__ import annotations

import http.client
import json
import subprocess
from urllib.parse import quote, urlsplit

import pytest
import requests

from servers import QA

MAX_BODY = 64 * 1024
SEED = "why didn't South Korea sign?"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


# -- helpers ------------------------------------------------------------------------------
def _raw(response) -> bytes:
    """Body bytes of a werkzeug test response, a requests response or an http.client one."""
    if hasattr(response, "data"):
        return response.data
    if hasattr(response, "content"):
        return response.content
    return response.body  # _RawResponse below


def _status(response) -> int:
    return getattr(response, "status_code", None) or response.status


def assert_clean(response) -> None:
    """Nothing leaks, whatever the status: no traceback, no file contents, headers set."""
    data = _raw(response)
    assert b"Traceback" not in data
    assert b"root:x:0:0" not in data and b"[boot loader]" not in data  # /etc/passwd, win.ini
    assert b'"checksums"' not in data and b'"efConstruction"' not in data  # an index manifest
    assert _status(response) != 500, data[:500]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))
    assert "default-src 'none'" in response.headers.get("Content-Security-Policy", "")


def assert_error(response, status: int, code: str | None = None) -> dict:
    """``status`` and a body that is exactly ``{"error": {"code": str, "message": str}}``."""
    data = _raw(response)
    assert _status(response) == status, data[:500]
    assert_clean(response)
    assert response.headers.get("Content-Type", "").startswith("application/json"), dict(response.headers)
    body = json.loads(data)
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, body
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"].strip(), body
    if code is not None:
        assert error["code"] == code, body
    return error


def assert_answer(response, question: str | None = None) -> dict:
    data = _raw(response)
    assert _status(response) == 200, data[:500]
    assert_clean(response)
    body = json.loads(data)
    # an answer, possibly without passages: a question sharing nothing with the corpus gets
    # no filler passages and the verdict says so
    assert isinstance(body["passages"], list) and body["verdict"] in ("answered", "uncertain", "not_found"), body
    assert body["passages"] or body["verdict"] == "not_found", body
    assert all(p["text"] and p["citation"]["doc_id"] for p in body["passages"])
    if question is not None:
        assert body["question"] == question.strip()
    return body


class _RawResponse:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body


def raw_request(base: str, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, send_body: bytes | None = None) -> _RawResponse:
    """Send ``target`` byte for byte (no client-side normalisation of ``..`` or ``%xx``)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            conn.send(body)
        elif send_body is not None:  # a body that disagrees with the headers
            conn.send(send_body)
        response = conn.getresponse()
        return _RawResponse(response.status, response.headers, response.read())
    finally:
        conn.close()


def post_raw(client, data: bytes | str, content_type: str | None = "application/json"):
    kwargs = {"data": data}
    if content_type is not None:
        kwargs["content_type"] = content_type
    return client.post("/api/ask", **kwargs)


def emoji_heavy(length: int) -> str:
    """Exactly ``length`` code points, far more UTF-16 units and UTF-8 bytes, and far
    fewer graphemes: ZWJ families, flags, skin tones, combining marks."""
    head = "Korean armistice? "
    unit = "👩‍👩‍👧‍👦🇰🇷👍🏽é😀"  # 7 + 2 + 2 + 2 + 1 code points
    text = head + unit * ((length - len(head)) // len(unit) + 1)
    text = text[:length]
    assert len(text) == length
    return text


# -- Unicode in questions -----------------------------------------------------------------
UNICODE_QUESTIONS = {
    "combining marks": "Who refused to shake hands with Zhou Enla\u0301i\u0308?",
    "decomposed accents": "Ge\u0301ne\u0300ve conference: what happened in 1954?",
    "zalgo": "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307rmistice signed?",
    "arabic rtl": "لماذا لم توقع كوريا الجنوبية على الهدنة؟",
    "hebrew rtl mixed with ltr": "מתי נחתם armistice של Korea?",
    "bidi overrides": "\u202ewhy didn't South Korea sign?\u202c",
    "emoji": "🤔 why didn't South Korea sign? 🇰🇷",
    "zwj sequences": "👩‍👩‍👧‍👦 👨🏽‍💻 🏳️‍🌈 armistice 1953",
    "zero width": "arm\u200bistice\u200d\ufeff signed?",
    "cjk": "朝鲜战争停战协定是什么时候签署的？",
    "korean": "한국전쟁 휴전협정은 언제 서명되었나요?",
    "astral math": "𝔀𝓱𝔂 didn't South Korea sign? 𝟙𝟡𝟝𝟛",
    "tabs and newlines": "why\tdidn't\nSouth Korea\r\nsign?",
    "leading and trailing space": "   why didn't South Korea sign?   ",
    "replacement char": "\ufffd\ufffd armistice",
    "noncharacter": "\uffff armistice \U0010ffff",
}


@pytest.mark.parametrize("question", UNICODE_QUESTIONS.values(), ids=UNICODE_QUESTIONS.keys())
def test_unicode_questions_get_well_formed_answers(client, question):
    assert_answer(client.post("/api/ask", json={"question": question, "k": 3}), question)


@pytest.mark.parametrize("name", ["bidi overrides", "emoji", "astral math", "tabs and newlines",
                                  "leading and trailing space"])
def test_the_seed_question_wrapped_in_unicode_noise_is_answered_by_its_passage(client, name):
    """Marks, controls, emoji and math letters around "why didn't South Korea sign?" change
    nothing: answered, Syngman Rhee's passage first."""
    body = assert_answer(client.post("/api/ask", json={"question": UNICODE_QUESTIONS[name], "k": 3}))
    assert body["verdict"] == "answered" and "Syngman Rhee" in body["passages"][0]["text"], body


@pytest.mark.parametrize("question", UNICODE_QUESTIONS.values(), ids=UNICODE_QUESTIONS.keys())
def test_unicode_questions_over_real_http_as_utf8_post_and_get(live_server, question):
    # raw UTF-8 in the body (not \\u escapes), and percent-encoded UTF-8 in the query string
    body = json.dumps({"question": question, "k": 2}, ensure_ascii=False).encode("utf-8")
    post = requests.post(f"{live_server}/api/ask", data=body, headers={"Content-Type": "application/json"}, timeout=30)
    posted = assert_answer(post, question)
    get = requests.get(f"{live_server}/api/ask", params={"question": question, "k": 2}, timeout=30)
    assert assert_answer(get, question)["passages"] == posted["passages"]


def test_rtl_question_echo_is_byte_exact_utf8(live_server):
    question = UNICODE_QUESTIONS["arabic rtl"]
    response = requests.post(f"{live_server}/api/ask", json={"question": question}, timeout=30)
    assert response.headers["Content-Type"].startswith("application/json")
    assert question.encode("utf-8") in response.content  # served as UTF-8, not \\u escapes or mojibake


CONTROL_CHARACTERS = {
    "nul": "why\x00didn't South Korea sign?",
    "nul only": "\x00",
    "trailing nul": "armistice\x00",
    "soh": "armistice\x01",
    "bell": "armistice\x07",
    "backspace": "armistice\x08",
    "vertical tab": "armistice\x0b",
    "form feed": "armistice\x0c",
    "escape (ansi)": "\x1b[31marmistice\x1b[0m",
    "unit separator": "armistice\x1f",
    "delete": "armistice\x7f",
    "c1 nel": "armistice\x85",
    "c1 csi": "armistice\x9b",
}


@pytest.mark.parametrize("question", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
def test_control_characters_are_refused(client, question):
    assert_error(client.post("/api/ask", json={"question": question}), 400, "bad_question")
    assert_error(client.get("/api/ask", query_string={"question": question}), 400, "bad_question")


def test_nul_over_real_http_in_body_and_query(live_server):
    assert_error(requests.post(f"{live_server}/api/ask", json={"question": "a\x00b"}, timeout=30), 400, "bad_question")
    assert_error(raw_request(live_server, "GET", "/api/ask?question=a%00b"), 400, "bad_question")


def test_raw_control_character_inside_a_json_string_is_invalid_json(client):
    # unescaped U+0000..U+001F inside a JSON string is not JSON at all
    assert_error(post_raw(client, b'{"question": "a\x00b"}'), 400, "bad_request")
    assert_error(post_raw(client, b'{"question": "a\x1bb"}'), 400, "bad_request")


@pytest.mark.parametrize("question", ["\u3000\u2003", "\u00a0", "\u2028\u2029", "\t\n\r "], ids=repr)
def test_questions_of_unicode_whitespace_only_are_empty(client, question):
    assert_error(client.post("/api/ask", json={"question": question}), 400, "bad_question")


@pytest.mark.parametrize("raw", [b'{"question": "why \\ud800 sign?"}', b'{"question": "\\udfff"}',
                                 b'{"question": "armistice \\udc00\\ud800"}'], ids=["high", "low", "reversed pair"])
def test_lone_surrogates_are_refused_not_a_crash(client, raw):
    """JSON allows ``\\ud800`` escapes, but a lone surrogate is not a character: it cannot be
    tokenized or encoded back to UTF-8, so it must be refused as a bad question."""
    assert_error(post_raw(client, raw), 400, "bad_question")


def test_invalid_utf8_in_the_body_is_a_400(client):
    assert_error(post_raw(client, b'{"question": "why \xff\xfe sign?"}'), 400, "bad_request")
    assert_error(post_raw(client, b'{"question": "overlong \xc0\xaf"}'), 400, "bad_request")


@pytest.mark.parametrize("target", ["/api/ask?question=%ff%fe", "/api/ask?question=%ed%a0%80",
                                    "/api/ask?question=%c0%af%c0%af", "/api/ask?question=%e2%82",
                                    "/api/ask?question=%zz%", "/api/ask?question=%"])
def test_broken_percent_encoding_in_the_query_never_crashes(live_server, target):
    response = raw_request(live_server, "GET", target)
    if response.status == 200:
        assert_answer(response)
    else:
        assert_error(response, 400)


# -- the 1000-character limit, in code points ---------------------------------------------
def test_exactly_1000_code_points_of_emoji_is_allowed(client):
    question = emoji_heavy(1000)
    assert len(question.encode("utf-16-le")) // 2 > 1000 and len(question.encode("utf-8")) > 2000
    assert_answer(client.post("/api/ask", json={"question": question, "k": 1}), question)


def test_1001_code_points_of_emoji_is_refused(client):
    error = assert_error(client.post("/api/ask", json={"question": emoji_heavy(1001)}), 400, "bad_question")
    assert "1000" in error["message"]


def test_1000_and_1001_code_points_over_real_http_post_and_get(live_server):
    ok, too_long = emoji_heavy(1000), emoji_heavy(1001)
    for question, status in [(ok, 200), (too_long, 400)]:
        body = json.dumps({"question": question, "k": 1}, ensure_ascii=False).encode("utf-8")
        post = requests.post(f"{live_server}/api/ask", data=body, headers={"Content-Type": "application/json"},
                             timeout=30)
        get = requests.get(f"{live_server}/api/ask", params={"question": question, "k": 1}, timeout=30)
        for response in (post, get):
            if status == 200:
                assert_answer(response, question)
            else:
                assert_error(response, 400, "bad_question")


def test_1000_combining_marks_on_one_letter_is_allowed(client):
    question = "a" + "\u0301" * 999  # one grapheme, 1000 code points
    assert_answer(client.post("/api/ask", json={"question": question, "k": 1}), question)
    assert_error(client.post("/api/ask", json={"question": question + "\u0301"}), 400, "bad_question")


# -- content types, duplicate keys, nesting, size -----------------------------------------
@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "application/xml", "application/octet-stream", "text/json", "", None,
])
def test_wrong_content_types_get_415(client, content_type):
    assert_error(post_raw(client, json.dumps({"question": SEED}), content_type), 415, "unsupported_media_type")


def test_wrong_content_types_over_real_http_get_415(live_server):
    url = f"{live_server}/api/ask"
    for response in [
        requests.post(url, data=json.dumps({"question": SEED}), headers={"Content-Type": "text/plain"}, timeout=30),
        requests.post(url, data={"question": SEED}, timeout=30),  # a form
        requests.post(url, files={"question": (None, SEED)}, timeout=30),  # multipart
        requests.post(url, files={"file": ("q.json", json.dumps({"question": SEED}), "application/json")}, timeout=30),
        requests.post(url, data=json.dumps({"question": SEED}), timeout=30),  # no Content-Type at all
    ]:
        assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("raw", [
    b'{"question": "a", "k": 1, "k": 2}',
    b'{"question": "a", "\\u0071uestion": "b"}',  # the same key, spelled with an escape
    b'{"question": "a", "question": "a"}',  # identical values are still duplicates
    b'{"question": "a", "extra": {"x": 1, "x": 2}}',  # nested
], ids=["k twice", "escaped duplicate", "same value", "nested"])
def test_duplicate_keys_get_400(client, raw):
    error = assert_error(post_raw(client, raw), 400, "bad_request")
    assert "duplicate" in error["message"]


def _nested_lists(depth: int) -> bytes:
    return b'{"question": "armistice", "x": ' + b"[" * depth + b"]" * depth + b"}"


def _nested_objects(depth: int) -> bytes:
    return b'{"question": "armistice", "x": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize("depth", [21, 100, 300, 600, 900, 999, 1000, 5000, 30000])
def test_deeply_nested_lists_get_400_never_500(client, depth):
    body = _nested_lists(depth)
    assert len(body) <= MAX_BODY
    assert_error(post_raw(client, body), 400, "bad_request")


@pytest.mark.parametrize("depth", [100, 600, 5000])
def test_deeply_nested_objects_get_400_never_500(client, depth):
    assert_error(post_raw(client, _nested_objects(depth)), 400, "bad_request")


def test_unbalanced_deep_nesting_gets_400(client):
    assert_error(post_raw(client, b"[" * 60000), 400, "bad_request")
    assert_error(post_raw(client, b'{"question": ' + b"{" * 60000), 400, "bad_request")


def test_100000_levels_are_refused_by_size_or_depth(client):
    # 100000 levels take 200 kB, over the 64 KiB body limit: 413 is the right answer then
    response = post_raw(client, b"[" * 100_000 + b"]" * 100_000)
    assert_error(response, 413 if response.status_code == 413 else 400)


def test_deep_nesting_over_real_http(live_server):
    for depth in (100, 600, 30000):
        response = requests.post(f"{live_server}/api/ask", data=_nested_lists(depth),
                                 headers={"Content-Type": "application/json"}, timeout=30)
        assert_error(response, 400, "bad_request")


def test_body_size_boundary(client):
    # a body of exactly the limit is read (and refused for its content), one byte more is 413
    def body(size: int) -> bytes:
        prefix, suffix = b'{"question": "', b'"}'
        return prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix

    assert len(body(MAX_BODY)) == MAX_BODY
    assert_error(post_raw(client, body(MAX_BODY)), 400, "bad_question")
    assert_error(post_raw(client, body(MAX_BODY + 1)), 413, "payload_too_large")


def test_huge_bodies_over_real_http_get_413(live_server):
    url = f"{live_server}/api/ask"
    json_headers = {"Content-Type": "application/json"}
    assert_error(requests.post(url, data=b"a" * (1 << 20), headers=json_headers, timeout=30), 413, "payload_too_large")
    # wrong type and too large: either refusal is clear
    response = requests.post(url, data=b" " * (1 << 20), headers={"Content-Type": "text/plain"}, timeout=30)
    assert_error(response, 413 if response.status_code == 413 else 415)
    # a Content-Length that claims 10 GB: refused before reading
    response = raw_request(live_server, "POST", "/api/ask",
                           headers={"Content-Type": "application/json", "Content-Length": str(10**10)},
                           send_body=b'{"question": ')
    assert_error(response, 413, "payload_too_large")


def test_huge_chunked_body_gets_413(live_server):
    """Without Content-Length (Transfer-Encoding: chunked) the limit must hold too: a body
    over 64 KiB is refused as too large, not silently cut to its first 64 KiB."""

    def chunks():
        yield b'{"question": "armistice"}'
        for _ in range(100):
            yield b" " * 1024  # valid JSON whitespace: a truncated body would still parse

    response = requests.post(f"{live_server}/api/ask", data=chunks(), headers={"Content-Type": "application/json"},
                             timeout=30)
    assert_error(response, 413, "payload_too_large")


def test_small_chunked_body_is_answered(live_server):
    def chunks():
        yield b'{"question": '
        yield json.dumps(SEED).encode()
        yield b"}"

    response = requests.post(f"{live_server}/api/ask", data=chunks(), headers={"Content-Type": "application/json"},
                             timeout=30)
    assert "Syngman Rhee" in assert_answer(response, SEED)["passages"][0]["text"]


# -- /api/documents/<doc_id> cannot reach files -------------------------------------------
TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/etc/passwd",
    "..%252F..%252Fetc%252Fpasswd",  # double-encoded
    "%252e%252e%252fetc%252fpasswd",
    "..%c0%af..%c0%afetc%c0%afpasswd",  # overlong UTF-8 slash
    "..%e0%80%af..%e0%80%afetc%e0%80%afpasswd",
    "....//....//etc/passwd",
    "%2Fetc%2Fpasswd",  # absolute
    "/etc/passwd",
    "%2F%2Fetc%2Fpasswd",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "..%5C..%5Cetc%5Cpasswd",  # backslashes
    "..\\..\\etc\\passwd",
    "C:%5CWindows%5Cwin.ini",
    "%5C%5Clocalhost%5Cc$%5Cwindows%5Cwin.ini",
    "%00",
    "..%00",
    "korea-armistice-time-2018%00.md",
    "korea-armistice-time-2018.md",
    "..%2Fcorpus%2Fkorea-armistice-time-2018.md",
    "..",
    "%2e%2e",
    ".",
    "manifest.json",
    "documents.jsonl",
    "current",
    "current%2Fmanifest.json",
    "..%2Fcurrent%2Fmanifest.json",
    "%7E%2F.bashrc",
    "proc%2Fself%2Fenviron",
    "%2Fproc%2Fself%2Fenviron",
]


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_document_traversal_attempts_get_404_json(client, doc_id):
    assert_error(client.get(f"/api/documents/{doc_id}"), 404, "not_found")


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_document_traversal_attempts_over_real_http_get_404_json(live_server, doc_id):
    # http.client sends the target verbatim: no client-side ".." removal or re-encoding
    target = "/api/documents/" + doc_id
    assert_error(raw_request(live_server, "GET", target), 404, "not_found")


@pytest.mark.parametrize("doc_id", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%00",
                                    "manifest.json", "..%5C..%5Cetc%5Cpasswd"])
def test_reader_page_traversal_attempts_get_404(client, doc_id):
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 404
    assert_clean(response)


def test_a_real_document_id_still_works_and_ids_are_not_paths(client, built_index):
    listing = client.get("/api/documents").get_json()["documents"]
    doc_id = listing[0]["doc_id"]
    assert client.get(f"/api/documents/{quote(doc_id)}").status_code == 200
    # the stored path of the document is not an id either
    assert_error(client.get(f"/api/documents/{quote(listing[0]['path'], safe='')}"), 404, "not_found")
    # nor is the index version folder
    version = (built_index / "current").readlink().name
    assert_error(client.get(f"/api/documents/{version}"), 404, "not_found")


# -- every error has the documented shape and the headers ----------------------------------
@pytest.mark.parametrize("method, url, kwargs, status, code", [
    ("post", "/api/ask", {"json": {}}, 400, "bad_question"),
    ("post", "/api/ask", {"json": {"question": "a", "k": -1}}, 400, "bad_k"),
    ("post", "/api/ask", {"json": {"question": "a", "mode": ""}}, 400, "bad_mode"),
    ("post", "/api/ask", {"json": {"question": "a", "k": None}}, 400, "bad_k"),
    ("post", "/api/ask", {"json": {"question": "a", "k": "3"}}, 400, "bad_k"),
    ("post", "/api/ask", {"json": {"question": "a", "k": 1e308}}, 400, "bad_k"),
    ("post", "/api/ask", {"json": {"question": ["a"]}}, 400, "bad_question"),
    ("post", "/api/ask", {"json": {"question": {"$ne": ""}}}, 400, "bad_question"),
    ("post", "/api/ask", {"data": b"null", "content_type": "application/json"}, 400, "bad_request"),
    ("post", "/api/ask", {"data": b"1e999999", "content_type": "application/json"}, 400, "bad_request"),
    ("post", "/api/ask", {"data": b'{"question": NaN}', "content_type": "application/json"}, 400, None),
    ("post", "/api/ask", {"data": b'{"question": "a", "k": Infinity}', "content_type": "application/json"}, 400, None),
    ("post", "/api/ask", {"data": b'{"question": "a"} trailing', "content_type": "application/json"}, 400, "bad_request"),
    ("get", "/api/ask", {"query_string": {"question": "a", "k": "1e3"}}, 400, "bad_k"),
    ("get", "/api/ask", {"query_string": {"question": "a", "mode": "../etc"}}, 400, "bad_mode"),
    ("get", "/api/nothing", {}, 404, "not_found"),
    ("get", "/api/documents/nothing", {}, 404, "not_found"),
    ("patch", "/api/ask", {}, 405, "method_not_allowed"),
    ("post", "/api/documents", {"json": {}}, 405, "method_not_allowed"),
    ("delete", "/api/documents/korea-armistice-time-2018", {}, 405, "method_not_allowed"),
    ("post", "/api/ask", {"data": b"a" * (MAX_BODY + 1), "content_type": "application/json"}, 413, "payload_too_large"),
    ("post", "/api/ask", {"data": b"a", "content_type": "text/plain"}, 415, "unsupported_media_type"),
])
def test_every_error_has_the_documented_shape_and_security_headers(client, method, url, kwargs, status, code):
    assert_error(getattr(client, method)(url, **kwargs), status, code)


@pytest.mark.parametrize("url", ["/api/documents", "/api/documents/korea-armistice-time-2018", "/healthz",
                                 "/api/openapi.json", f"/api/ask?question={quote(SEED)}"])
def test_security_headers_on_successful_api_responses(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_clean(response)
    assert response.headers["Content-Type"].startswith("application/json")


def test_security_headers_over_real_http(live_server):
    for response in [requests.post(f"{live_server}/api/ask", json={"question": SEED}, timeout=30),
                     requests.post(f"{live_server}/api/ask", data=b"x" * (MAX_BODY + 1),
                                   headers={"Content-Type": "application/json"}, timeout=30),
                     requests.get(f"{live_server}/api/documents/..%2Fx", timeout=30)]:
        assert_clean(response)


# -- rate limiting ------------------------------------------------------------------------
@pytest.fixture()
def limited_client(service):
    from qa.app import create_app

    return create_app({"TESTING": True, "QA_RATE_LIMIT": "3/minute"}, service=service).test_client()


def test_the_fourth_ask_in_a_minute_gets_429(limited_client):
    for _ in range(3):
        assert_answer(limited_client.post("/api/ask", json={"question": SEED, "k": 1}))
    response = limited_client.post("/api/ask", json={"question": SEED, "k": 1})
    error = assert_error(response, 429, "rate_limited")
    assert error["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_rate_limit_is_per_client(limited_client):
    for _ in range(3):
        assert_answer(limited_client.post("/api/ask", json={"question": SEED, "k": 1}))
    assert_error(limited_client.post("/api/ask", json={"question": SEED, "k": 1}), 429, "rate_limited")
    other = limited_client.post("/api/ask", json={"question": SEED, "k": 1}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert_answer(other)


def test_rate_limit_counts_get_and_post_asks_together(limited_client):
    """The limit is per client, not per HTTP method: alternating GET and POST must not
    double a client's budget."""
    statuses = []
    for i in range(4):
        if i % 2:
            response = limited_client.get("/api/ask", query_string={"question": SEED, "k": 1})
        else:
            response = limited_client.post("/api/ask", json={"question": SEED, "k": 1})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429]
    assert_error(response, 429, "rate_limited")


def test_the_page_answering_a_question_spends_the_same_budget_as_the_api(limited_client):
    """`/?q=` computes the same answer as /api/ask: it must not be a way round the limit.
    The page without a question is free."""
    for _ in range(2):
        assert_answer(limited_client.post("/api/ask", json={"question": SEED, "k": 1}))
    html = {"Accept": "text/html"}
    assert limited_client.get("/", query_string={"q": SEED}, headers=html).status_code == 200
    over = limited_client.get("/", query_string={"q": SEED}, headers=html)
    assert over.status_code == 429 and over.mimetype == "text/html"
    assert_error(limited_client.post("/api/ask", json={"question": SEED, "k": 1}), 429, "rate_limited")
    assert limited_client.get("/", headers=html).status_code == 200
    assert limited_client.get("/", query_string={"q": "  "}, headers=html).status_code == 200


def test_rate_limit_leaves_health_and_documents_alone(limited_client):
    """Over the limit for asking, a client still gets health and the documents, more times
    than the limit allows asks."""
    statuses = [limited_client.post("/api/ask", json={"question": SEED, "k": 1}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    for _ in range(5):
        assert limited_client.get("/healthz").status_code == 200
        assert limited_client.get("/api/documents").status_code == 200


def test_no_rate_limit_by_default(client):
    for i in range(30):
        if i % 2:
            response = client.get("/api/ask", query_string={"question": SEED, "k": 1})
        else:
            response = client.post("/api/ask", json={"question": SEED, "k": 1})
        assert response.status_code == 200, (i, response.data[:300])


def test_no_rate_limit_by_default_over_real_http(live_server):
    with requests.Session() as session:
        for _ in range(30):
            assert session.post(f"{live_server}/api/ask", json={"question": SEED, "k": 1}, timeout=30).status_code == 200


# -- default bind -------------------------------------------------------------------------
def test_serve_help_documents_the_loopback_default():
    """What the server really binds to: test_serving.py."""
    result = subprocess.run([QA, "serve", "--help"], capture_output=True, text=True, check=True, timeout=60)
    help_text = " ".join(result.stdout.split())
    assert "--host" in help_text
    host_help = help_text[help_text.index("--host"):]
    host_help = host_help[: host_help.index("--port")]
    assert "[default: 127.0.0.1]" in host_help
    assert "0.0.0.0" not in result.stdout


@pytest.mark.parametrize("query, code", [
    ("question=a&question=armistice", "bad_request"),
    ("question=armistice&k=1&k=2", "bad_request"),
    ("question=armistice&mode=dense&mode=bm25", "bad_request"),
    ("question=armistice&k=%D9%A5", "bad_k"),  # an Arabic-Indic five
    ("question=armistice&k=1_0", "bad_k"),
    ("question=armistice&k=%2B5", "bad_k"),
    ("question=armistice&k=%205", "bad_k"),
    ("question=armistice&k=5.0", "bad_k"),
])
def test_ambiguous_or_unusual_query_parameters_are_refused(client, query, code):
    assert_error(client.get(f"/api/ask?{query}"), 400, code)


def test_the_page_refuses_a_repeated_question_too(client):
    response = client.get("/?q=a&q=armistice")
    assert response.status_code == 400 and "given once" in response.get_data(as_text=True)
