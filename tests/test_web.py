"""The question page without a browser: server-rendered results, reader view, headers,
and escaping of hostile corpus text (issue 3). The browser scenarios are in
test_browser.py; both render the same markup (web/templates/_macros.html, app.js)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from qa.app import create_app
from qa.web import source_link, split_highlight

ROOT = Path(__file__).resolve().parents[1]
SEED = "why didn't South Korea sign?"
UNANSWERABLE = "What is the capital of France?"


# -- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web_app(built_index):
    """The app made from the session's seed index folder alone, as `qa serve` makes it."""
    return create_app({"QA_INDEX": str(built_index), "TESTING": True})


@pytest.fixture(scope="module")
def client(web_app):
    return web_app.test_client()


@pytest.fixture(scope="module")
def hostile_client(hostile_index):
    return create_app({"QA_INDEX": str(hostile_index), "TESTING": True}).test_client()


# -- a small DOM from html.parser, enough to query rendered pages -----------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def one(self, tag: str | None = None, cls: str | None = None, id: str | None = None) -> "Node":
        found = [n for n in self.all(tag, cls) if id is None or n.attrs.get("id") == id]
        assert found, f"no <{tag or '*'} class={cls} id={id}>"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", [], None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def dom(response) -> Node:
    builder = _Builder()
    builder.feed(response.get_data(as_text=True))
    builder.close()
    return builder.root


def results(page: Node) -> list[Node]:
    return page.one("ol", id="result-list").all("li", "result")


# -- the question page ----------------------------------------------------------------------
def test_page_has_a_labelled_box_examples_and_a_live_region(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = dom(response)
    form = page.one("form", id="ask-form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/"
    box = form.one("input", id="q")
    assert box.attrs["name"] == "q"
    assert page.one("label").attrs["for"] == "q"
    assert form.one("button").attrs["type"] == "submit"
    examples = page.all("a", "example")
    assert len(examples) >= 3
    assert all(a.attrs["href"].startswith("/?q=") for a in examples)
    region = page.one(id="results")
    assert region.attrs["aria-live"] == "polite"
    assert results(page) == []
    assert page.one("html").attrs["lang"] == "en"
    assert any(m.attrs.get("name") == "viewport" and "width=device-width" in m.attrs.get("content", "")
               for m in page.all("meta"))


def test_seed_question_is_answered_on_the_server_with_rhee_first(client):
    api = client.get("/api/ask", query_string={"question": SEED, "k": 5}).get_json()
    response = client.get("/", query_string={"q": SEED})
    assert response.status_code == 200
    page = dom(response)
    assert page.one("input", id="q").attrs["value"] == SEED
    items = results(page)
    assert len(items) == len(api["passages"]) == 5
    first, passage = items[0], api["passages"][0]
    assert first.attrs["data-rank"] == "1"
    assert "Syngman Rhee" in first.one("blockquote").text, "the Rhee passage must rank first"
    assert first.one("blockquote").text == passage["text"]
    hl = passage["highlight"] or {"start": 0, "end": len(passage["text"])}
    assert first.one("mark").text == passage["text"][hl["start"]:hl["end"]]

    c = passage["citation"]
    line = first.one("p", "citation")
    assert line.one("cite", "title").text == c["title"]
    assert line.one(cls="author").text == c["author"] == "Olivia B. Waxman"
    assert line.one(cls="publisher").text == c["publisher"] == "TIME"
    assert line.one("time").text == c["published"] == "2018-04-26"
    assert line.one(cls="paragraph").text == f"¶ {c['paragraph']}"
    source = line.one("a", "source")
    assert source.attrs["href"] == c["source"] and c["source"].startswith("https://time.com/")

    link = urlsplit(first.one("a", "reader-link").attrs["href"])
    assert link.path == f"/documents/{c['doc_id']}"
    assert parse_qs(link.query) == {"start": [str(c["start"])], "end": [str(c["end"])], "q": [SEED]}
    assert link.fragment == f"{c['start']}-{c['end']}"
    assert "5 passages" in page.one(id="status").text
    assert "hidden" in page.one(id="error").attrs and "hidden" in page.one(id="notice").attrs


def test_not_found_in_the_article_when_not_answered(client):
    api = client.get("/api/ask", query_string={"question": UNANSWERABLE}).get_json()
    assert api["answered"] is False
    page = dom(client.get("/", query_string={"q": UNANSWERABLE}))
    notice = page.one(id="notice")
    assert "hidden" not in notice.attrs
    assert "Not found in the article" in notice.text
    answered = dom(client.get("/", query_string={"q": SEED}))
    assert "hidden" in answered.one(id="notice").attrs


def test_a_question_about_the_article_itself_shows_the_fact_from_its_metadata(client):
    page = dom(client.get("/", query_string={"q": "When was it published?"}))
    assert "hidden" not in page.one(id="fact").attrs
    assert " ".join(page.one(id="fact").text.split()) == (
        "Published 2018-04-26 from the metadata of Why North Korea and South Korea Are Technically Still at War")
    assert "hidden" in page.one(id="uncertain").attrs and "hidden" in page.one(id="notice").attrs
    assert "hidden" in dom(client.get("/", query_string={"q": SEED})).one(id="fact").attrs


def test_a_question_without_any_passage_gets_one_not_found_line(client):
    """Not "0 passages … best first" above "the passages below are the closest matches"."""
    assert client.get("/api/ask", query_string={"question": "qwrtp"}).get_json()["passages"] == []
    page = dom(client.get("/", query_string={"q": "qwrtp"}))
    assert "hidden" not in page.one(id="empty").attrs
    assert "Not found in the article: no passage matches this question." in " ".join(page.one(id="empty").text.split())
    assert "hidden" in page.one(id="notice").attrs and page.one(id="status").text.strip() == ""
    assert results(page) == []


@pytest.mark.parametrize(("query", "status", "needle"), [
    ({"q": "x" * 1001}, 400, "limit is 1000"),
    ({"q": SEED, "k": "abc"}, 400, "k: must be an integer from 1 to 20"),
    ({"q": SEED, "k": "0"}, 400, "k: must be an integer from 1 to 20"),
    ({"q": "a\x00b"}, 400, "control characters"),
])
def test_api_errors_are_shown_on_the_page(client, query, status, needle):
    response = client.get("/", query_string=query)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = dom(response)
    error = page.one(id="error")
    assert error.attrs["role"] == "alert" and "hidden" not in error.attrs
    assert needle in error.text
    assert results(page) == []


def test_a_blank_question_just_shows_the_form(client):
    response = client.get("/", query_string={"q": "   "})
    assert response.status_code == 200
    page = dom(response)
    assert results(page) == [] and "hidden" in page.one(id="error").attrs


def test_k_chooses_the_number_of_passages(client):
    assert len(results(dom(client.get("/", query_string={"q": SEED, "k": "2"})))) == 2


# -- the reader view --------------------------------------------------------------------------
def test_reader_view_marks_the_cited_span_in_the_full_text(client):
    c = client.get("/api/ask", query_string={"question": SEED}).get_json()["passages"][0]["citation"]
    document = client.get(f"/api/documents/{c['doc_id']}").get_json()
    response = client.get(f"/documents/{c['doc_id']}", query_string={"start": c["start"], "end": c["end"], "q": SEED})
    assert response.status_code == 200
    page = dom(response)
    text = page.one(id="doc-text")
    assert text.text == document["text"], "the reader shows the canonical text exactly (offsets map 1:1)"
    mark = text.one("mark")
    assert mark.attrs["id"] == f"{c['start']}-{c['end']}"
    assert mark.text == document["text"][c["start"]:c["end"]]
    assert "Syngman Rhee" in mark.text
    assert page.one("h1").text == document["title"]
    assert page.one("p", "back").one("a").attrs["href"].startswith("/?q=")
    assert page.one("p", "citation").one("a", "source").attrs["href"] == document["source"]
    # the heading holds the title: the line under it starts with the author, not the title again
    assert not page.one("p", "citation").all("cite") and page.one("p", "citation").text.startswith("Olivia B. Waxman")


@pytest.mark.parametrize("query", [
    {}, {"start": "abc", "end": "9"}, {"start": "50", "end": "10"}, {"start": "-5", "end": "10"},
    {"start": "0", "end": "99999999"}, {"start": "3"}, {"start": "7", "end": "7"},
])
def test_reader_view_ignores_a_missing_or_bad_span(client, query):
    doc_id = client.get("/api/documents").get_json()["documents"][0]["doc_id"]
    response = client.get(f"/documents/{doc_id}", query_string=query)
    assert response.status_code == 200
    page = dom(response)
    assert page.one(id="doc-text").all("mark") == []
    assert page.one(id="doc-text").text == client.get(f"/api/documents/{doc_id}").get_json()["text"]


def test_reader_view_of_an_unknown_document_is_a_404_page(client):
    response = client.get("/documents/no-such-doc")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "no document with id" in dom(response).one(cls="error").text


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/no/such/page", 404), ("GET", "/documents/a/b", 404), ("POST", "/", 405), ("DELETE", "/documents/x", 405),
])
def test_a_browser_gets_an_html_error_page_off_the_api(client, method, path, status):
    response = client.open(path, method=method, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == status and response.mimetype == "text/html"
    page = dom(response)
    assert str(status) in page.one(tag="h1").text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", BROWSER_ACCEPT])
def test_the_api_health_and_json_clients_keep_json_errors(client, accept):
    """Whatever the Accept header, the API's errors and /healthz stay JSON (a browser's
    header asks for HTML, which only the page's own routes give)."""
    headers = {"Accept": accept} if accept else {}
    health = client.get("/healthz", headers=headers)
    assert health.status_code == 200 and health.is_json and health.get_json()["status"] == "ok"
    for path in ("/api/nothing-here", "/api/documents/nope"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    if accept != BROWSER_ACCEPT:  # a JSON client (or curl) off the API still gets JSON
        response = client.get("/no/such/page", headers=headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


# -- headers, assets, routes ------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", f"/?q={SEED}"), ("GET", "/?q=" + "x" * 1001), ("GET", "/documents/korea-armistice-time-2018"),
    ("GET", "/documents/nope"), ("GET", "/static/app.js"), ("GET", "/static/style.css"), ("GET", "/static/nope.js"),
    ("GET", "/api/ask?question=armistice"), ("GET", "/api/ask"), ("POST", "/api/ask"), ("GET", "/api/documents"),
    ("GET", "/healthz"), ("GET", "/api/openapi.json"), ("GET", "/no/such/route"), ("DELETE", "/"),
])
def test_security_headers_on_every_response(client, method, path):
    response = client.open(path, method=method)
    response.close()  # static files are streamed from an open file
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], csp
    assert directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("object-src") == ["'none'"]
    assert directives.get("base-uri") == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin-when-cross-origin")
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_static_assets_are_served_with_their_types(client):
    js = client.get("/static/app.js")
    assert js.status_code == 200 and js.mimetype in ("text/javascript", "application/javascript")
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    icon = client.get("/static/favicon.svg")
    assert icon.mimetype == "image/svg+xml"
    for response in (js, css, icon):
        response.close()


def test_the_script_never_parses_html():
    """Corpus text reaches the DOM only through textContent: forbid the HTML sinks outright."""
    source = (ROOT / "web" / "static" / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "createContextualFragment", "DOMParser", "setAttribute(\"on"):
        assert sink not in source, sink


def test_pages_have_no_inline_script_style_or_handlers(client):
    for path in ("/", f"/?q={SEED}", "/documents/korea-armistice-time-2018?start=0&end=10", "/documents/nope"):
        page = dom(client.get(path))
        for node in page.iter():
            assert not any(name.startswith("on") for name in node.attrs), (path, node.tag, node.attrs)
            assert "style" not in node.attrs, (path, node.tag)
            assert node.tag != "style"
        scripts = page.all("script")
        assert [s.attrs.get("src") for s in scripts] == ["/static/app.js"] and scripts[0].text == ""


def test_page_routes_do_not_shadow_the_api(client):
    assert client.get("/api/ask", query_string={"question": SEED}).mimetype == "application/json"
    assert client.get("/healthz").status_code == 200
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/" not in paths and not any(p.startswith("/documents") or p.startswith("/static") for p in paths)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://time.com/a?b=c", "https://time.com/a?b=c"),
    ("http://example.org/", "http://example.org/"),
    ("  https://example.org/x  ", "https://example.org/x"),
    ("HTTPS://EXAMPLE.ORG/", "HTTPS://EXAMPLE.ORG/"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None), ("vbscript:x", None), ("//evil.example/", None),
    ("/relative", None), ("https://", None), ("http://[::1", None), ("", None), (None, None), (42, None),
])
def test_only_http_and_https_sources_become_links(url, expected):
    assert source_link(url) == expected


@pytest.mark.parametrize(("span", "expected"), [
    ({"start": 2, "end": 4}, ("ab", "cd", "ef")), (None, ("", "abcdef", "")), ({"start": 4, "end": 2}, ("", "abcdef", "")),
    ({"start": 0, "end": 99}, ("", "abcdef", "")), ({"start": None, "end": None}, ("", "abcdef", "")),
])
def test_split_highlight_marks_the_whole_passage_without_a_usable_span(span, expected):
    assert split_highlight("abcdef", span) == expected


# -- hostile corpus text ----------------------------------------------------------------------
ALLOWED_TAGS = {"#document", "html", "head", "meta", "title", "link", "script", "body", "header", "main", "a", "span",
                "h1", "h2", "form", "label", "div", "input", "button", "p", "nav", "ul", "li", "section", "ol",
                "blockquote", "mark", "cite", "time", "article"}


def assert_harmless(page: Node) -> None:
    """Nothing from the corpus became markup: only our tags, no handlers, no script URLs."""
    for node in page.iter():
        assert node.tag in ALLOWED_TAGS, f"corpus markup leaked: <{node.tag} {node.attrs}>"
        for name, value in node.attrs.items():
            assert not name.startswith("on"), (node.tag, name)
            if name in ("href", "src", "action"):
                scheme = urlsplit(value or "").scheme.lower()
                assert scheme in ("", "http", "https"), (node.tag, name, value)
    scripts = page.all("script")
    assert [s.attrs.get("src") for s in scripts] == ["/static/app.js"] and scripts[0].text == ""


def test_hostile_document_is_shown_as_text_in_results(hostile_client):
    # k=10 returns every passage of the four-paragraph document, the template one included
    response = hostile_client.get("/", query_string={"q": "armistice script image link template", "k": 10})
    assert response.status_code == 200
    page = dom(response)
    assert_harmless(page)
    items = results(page)
    assert items
    shown = " ".join(item.text for item in items)
    assert "<script>window.__pwned" in shown
    assert "<img src=x onerror=" in shown
    assert "javascript:window.__pwned" in shown
    assert "{{ 7 * 7 }}" in shown and "and 49 template" not in shown  # Jinja syntax in the corpus is text
    line = items[0].one("p", "citation")
    assert line.one("cite").text.startswith("<script>")
    assert line.all("a", "source") == [], "a javascript: source must not become a link"
    assert line.one("span", "source").text.startswith("javascript:")


def test_hostile_document_is_shown_as_text_in_the_reader(hostile_client):
    passages = hostile_client.get("/api/ask", query_string={"question": "breakout iframe template", "k": 4}).get_json()
    document = hostile_client.get("/api/documents/hostile").get_json()
    for passage in passages["passages"]:
        c = passage["citation"]
        page = dom(hostile_client.get("/documents/hostile", query_string={"start": c["start"], "end": c["end"]}))
        assert_harmless(page)
        assert page.one(id="doc-text").text == document["text"]
        assert page.one("mark").text == document["text"][c["start"]:c["end"]]
    assert "</mark></p></blockquote><script>" in document["text"]


def test_a_hostile_question_is_escaped_everywhere_it_is_echoed(client):
    question = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for path in ("/", "/documents/korea-armistice-time-2018"):
        response = client.get(path, query_string={"q": question})
        page = dom(response)
        assert_harmless(page)
        assert "<script>alert(1)" not in response.get_data(as_text=True)
    page = dom(client.get("/", query_string={"q": question}))
    assert page.one("input", id="q").attrs["value"] == question
    assert question in page.one("title").text


def test_a_long_question_is_cut_to_80_characters_in_the_title_only(client):
    """The tab shows the first 80 characters (as app.js does when it asks); the box keeps
    the whole question, also when it is over the limit (an error page)."""
    for asked, status in (("abc " * 300, 400), ("why didn't South Korea sign? " * 10, 200)):
        response = client.get("/", query_string={"q": asked})
        page = dom(response)
        assert response.status_code == status
        assert page.one("title").text == asked[:79] + "… · qa"
        assert page.one("input", id="q").attrs["value"] == asked


def test_reader_urls_are_built_from_the_citation():
    from qa.web import reader_url

    url = reader_url({"doc_id": "a b/c", "start": 3, "end": 9}, "why? & how")
    assert url == "/documents/a%20b%2Fc?start=3&end=9&q=why%3F+%26+how#3-9"
    assert re.fullmatch(r"/documents/d\?start=0&end=1#0-1", reader_url({"doc_id": "d", "start": 0, "end": 1}))
