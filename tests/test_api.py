"""The HTTP contract, through the test client and through a real server on loopback."""

import pytest
import requests

SEED = "why didn't South Korea sign?"


def test_post_ask_returns_ranked_passages_with_citations(client):
    response = client.post("/api/ask", json={"question": SEED, "k": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"question", "passages", "took_ms", "answered"}
    assert body["question"] == SEED and len(body["passages"]) == 3
    first = body["passages"][0]
    assert set(first) >= {"rank", "score", "text", "citation", "highlight"}
    assert set(first["citation"]) == {"doc_id", "title", "author", "publisher", "published", "source",
                                      "paragraph", "start", "end", "section"}
    assert first["rank"] == 1 and "Syngman Rhee" in first["text"]
    assert first["citation"]["author"] == "Olivia B. Waxman" and first["citation"]["published"] == "2018-04-26"


def test_a_question_about_the_article_itself_is_answered_from_its_front_matter(client):
    """The date is in no passage, only in the front matter: without the fact the answer was a
    passage about a conference "64 years ago Thursday"."""
    body = client.get("/api/ask", query_string={"question": "When was it published?"}).get_json()
    assert body["document_fact"] == {"doc_id": "korea-armistice-time-2018", "field": "published", "value": "2018-04-26",
                                     "title": "Why North Korea and South Korea Are Technically Still at War"}
    assert body["verdict"] == "answered"
    publisher = client.post("/api/ask", json={"question": "Who published the article?"}).get_json()["document_fact"]
    assert (publisher["field"], publisher["value"]) == ("publisher", "TIME")
    assert client.post("/api/ask", json={"question": SEED}).get_json()["document_fact"] is None
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert schema["DocumentFactOut"]["properties"]["field"]["enum"] == ["author", "published", "publisher"]
    assert "document_fact" in schema["AnswerOut"]["properties"]


def test_get_ask_gives_the_same_result_as_post(client):
    get = client.get("/api/ask", query_string={"question": SEED, "k": 2}).get_json()
    post = client.post("/api/ask", json={"question": SEED, "k": 2}).get_json()
    assert get["passages"] == post["passages"]


def test_k_defaults_to_5(client):
    assert len(client.post("/api/ask", json={"question": SEED}).get_json()["passages"]) == 5


def test_citations_slice_the_document_text_exactly(client):
    passages = client.post("/api/ask", json={"question": "Which warship sank in 2010?", "k": 20}).get_json()["passages"]
    texts = {}
    for p in passages:
        c = p["citation"]
        if c["doc_id"] not in texts:
            texts[c["doc_id"]] = client.get(f"/api/documents/{c['doc_id']}").get_json()["text"]
        assert texts[c["doc_id"]][c["start"]:c["end"]] == p["text"]


def test_documents_list_and_one_document(client):
    listing = client.get("/api/documents").get_json()["documents"]
    assert [d["doc_id"] for d in listing] == ["korea-armistice-time-2018"]
    assert listing[0]["title"].startswith("Why North Korea") and listing[0]["length"] == 9959
    assert "text" not in listing[0]
    document = client.get("/api/documents/korea-armistice-time-2018").get_json()
    assert len(document["text"]) == document["length"] == 9959


def test_healthz_reports_the_index(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["index"]["passages"] > 0 and body["index"]["model"]


BAD_REQUESTS = [
    ({"k": 3}, "bad_question"),
    ({"question": ""}, "bad_question"),
    ({"question": "   "}, "bad_question"),
    ({"question": 42}, "bad_question"),
    ({"question": None}, "bad_question"),
    ({"question": "x" * 1001}, "bad_question"),
    ({"question": "ok", "k": 0}, "bad_k"),
    ({"question": "ok", "k": 21}, "bad_k"),
    ({"question": "ok", "k": "five"}, "bad_k"),
    ({"question": "ok", "k": 2.5}, "bad_k"),
    ({"question": "ok", "k": True}, "bad_k"),
    ({"question": "ok", "mode": "magic"}, "bad_mode"),
    ({"question": "ok", "extra": 1}, "bad_request"),
    ([1, 2], "bad_request"),
    ("just a string", "bad_request"),
]


@pytest.mark.parametrize("question, message", [
    ("", "question: is empty"), ("x" * 1001, "question: the limit is 1000 characters"),
    ("   ", "question: must contain visible text and no control characters (such as NUL)"),
])
def test_a_bad_question_is_told_what_is_wrong_with_it(client, question, message):
    """An empty question was once told "the limit is 1000 characters"."""
    for response in (client.post("/api/ask", json={"question": question}),
                     client.get("/api/ask", query_string={"question": question})):
        assert response.status_code == 400 and response.get_json()["error"]["message"] == message


@pytest.mark.parametrize("body, code", BAD_REQUESTS)
def test_bad_requests_get_400_with_a_code_and_a_message(client, body, code):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_1000_characters_is_allowed(client):
    assert client.post("/api/ask", json={"question": "a" * 999 + "?"}).status_code == 200


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"question": "a", "question": "b"}'])
def test_invalid_json_bodies_get_400(client, raw):
    response = client.post("/api/ask", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_body_with_a_byte_order_mark_or_a_query_string_not_utf8_is_told_what_is_wrong(client):
    """A BOM got Flask's bare "Bad Request", unlike every other error; ``?question=Fund%E3o``
    (Latin-1) was asked as the text "Fund%E3o"."""
    response = client.post("/api/ask", data='\ufeff{"question": "Who?"}'.encode(), content_type="application/json")
    assert response.status_code == 400 and "byte order mark" in response.get_json()["error"]["message"]
    for encoding in ("utf-16", "utf-32"):  # json.loads reads them, Flask's parser did not: a bare "Bad Request"
        response = client.post("/api/ask", data='{"question": "Who?"}'.encode(encoding), content_type="application/json")
        assert response.status_code == 400 and "not UTF-8" in response.get_json()["error"]["message"], encoding
    response = client.get("/api/ask?question=Fund%E3o%20mayor")
    assert response.status_code == 400 and "not UTF-8" in response.get_json()["error"]["message"]
    page = client.get("/?q=Fund%E3o", headers={"Accept": "text/html"})
    assert page.status_code == 400 and "not UTF-8" in page.get_data(as_text=True)
    assert client.get("/api/ask?question=Fund%C3%A3o+mayor").get_json()["question"] == "Fundão mayor"


def test_wrong_content_type_gets_415(client):
    response = client.post("/api/ask", data="question=hi", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("query, code", [({}, "bad_question"), ({"question": "a", "k": "x"}, "bad_k"),
                                         ({"question": "a", "k": "99"}, "bad_k")])
def test_get_errors(client, query, code):
    response = client.get("/api/ask", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_unknown_document_and_route_get_404_json(client):
    for url in ["/api/documents/nope", "/api/nothing-here"]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_gets_405_json(client):
    response = client.delete("/api/ask")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_body_over_64_kib_gets_413_json(client):
    response = client.post("/api/ask", data=b'{"question": "' + b"a" * 70000 + b'"}', content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_a_crash_is_a_500_without_traceback(app, service, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "ask", boom)
    response = app.test_client().post("/api/ask", json={"question": "hi"})
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "internal server error"}}
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    documented = app.test_client().get("/api/openapi.json").get_json()["paths"]["/api/ask"]["post"]["responses"]
    assert documented["500"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/ask", "/api/documents", "/api/documents/{doc_id}", "/healthz"} <= set(spec["paths"])
    ask = spec["paths"]["/api/ask"]
    assert {"get", "post"} <= set(ask)
    assert "400" in ask["post"]["responses"] and "413" in ask["post"]["responses"]
    assert ask["post"]["requestBody"]["required"] is True  # both spec processors ran
    assert "/api/openapi.json" not in spec["paths"]


def test_every_default_the_api_document_shows_is_a_valid_value(client):
    """A client that fills in the document's defaults must send a valid request: doc_id had
    "default": [] beside "minItems": 1, which the API refuses."""
    spec = client.get("/api/openapi.json").get_json()
    body = spec["components"]["schemas"]["AskBody"]["properties"]
    defaults = {name: field["default"] for name, field in body.items() if "default" in field}
    assert "doc_id" not in defaults and set(defaults) == {"k", "mode"}
    assert body["doc_id"]["oneOf"][1]["minItems"] == 1
    response = client.post("/api/ask", json={"question": "Who signed the armistice?", **defaults})
    assert response.status_code == 200 and response.get_json()["doc_id"] is None
    query = [p for p in spec["paths"]["/api/ask"]["get"]["parameters"] if p["name"] == "doc_id"]
    assert query and "default" not in query[0]["schema"]


def test_real_http_server_round_trip(live_server):
    response = requests.post(f"{live_server}/api/ask", json={"question": SEED, "k": 1}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    passage = response.json()["passages"][0]
    text = requests.get(f"{live_server}/api/documents/{passage['citation']['doc_id']}", timeout=30).json()["text"]
    assert text[passage["citation"]["start"]:passage["citation"]["end"]] == passage["text"]
    assert "Syngman Rhee" in passage["text"]


@pytest.mark.parametrize("method, url, kwargs, status", [
    ("post", "/api/ask", {"json": {"question": ""}}, 400),
    ("post", "/api/ask", {"data": "{bad", "headers": {"Content-Type": "application/json"}}, 400),
    ("post", "/api/ask", {"data": b"x" * 70000, "headers": {"Content-Type": "application/json"}}, 413),
    ("get", "/api/documents/missing", {}, 404),
    ("put", "/api/ask", {}, 405),
])
def test_real_http_server_errors_are_json(live_server, method, url, kwargs, status):
    response = requests.request(method, f"{live_server}{url}", timeout=30, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert set(body["error"]) == {"code", "message"}
