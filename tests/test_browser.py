"""The question page in headless Chromium (issue 3): with and without JavaScript,
keyboard only, the reader view, history, error states and a hostile corpus.

Debian's Chromium is driven by the plain ``playwright.sync_api`` (playwright's own
browser download cannot work on these machines). When ``/usr/bin/chromium`` is missing the tests skip
locally but FAIL in CI (``CI`` set), so a broken CI image cannot pass silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from conftest import BROWSER_TIMEOUT_MS, ask_with_box, wait_for_results
from servers import QAServer, serving
from qa.app import create_app

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture (conftest.py) skips, or fails in CI
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "screenshot.png"
SEED = "why didn't South Korea sign?"
UNANSWERABLE = "What is the capital of France?"


@pytest.fixture(scope="module")
def base_url(browser, built_index):
    """The app made from the session's seed index folder alone (its ONNX encoder answers)."""
    with serving(create_app({"QA_INDEX": str(built_index)})) as url:
        yield url


@pytest.fixture(scope="module")
def hostile_url(browser, hostile_index):
    with serving(create_app({"QA_INDEX": str(hostile_index)})) as url:
        yield url


class Watch:
    """What the page did that it must not: dialogs, uncaught errors, CSP violations."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)


def open_page(browser, javascript: bool = True, width: int = 1280, height: int = 900):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": height})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    return context, page, Watch(page)


@pytest.fixture
def page(browser):
    context, page, watch = open_page(browser)
    page.watch = watch
    yield page
    context.close()
    assert watch.dialogs == [] and watch.errors == [] and watch.csp == [], vars(watch)


@pytest.fixture
def static_page(browser):
    """JavaScript disabled: everything must come from the server."""
    context, page, watch = open_page(browser, javascript=False)
    yield page
    context.close()
    assert watch.dialogs == [], watch.dialogs


# -- helpers (ask_with_box, wait_for_results: conftest.py) ---------------------------------------
def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], size["height"] / 2) <= size["height"]


def result_scripts(page) -> list[str | None]:
    return [page.locator("script").nth(i).get_attribute("src") for i in range(page.locator("script").count())]


# -- scenarios --------------------------------------------------------------------------------
def test_seed_question_shows_the_rhee_passage_first_marked(page, base_url):
    page.goto(base_url + "/")
    page.evaluate("window.__samePage = true")
    ask_with_box(page, SEED)
    items = wait_for_results(page)
    assert items.count() == 5
    first = items.nth(0)
    assert "Syngman Rhee" in first.locator("blockquote").inner_text(), "the Rhee passage must rank first"
    mark = first.locator("mark")
    assert mark.count() == 1 and mark.inner_text().strip()
    assert mark.is_visible()
    citation = first.locator(".citation")
    assert citation.locator("cite").inner_text() == "Why North Korea and South Korea Are Technically Still at War"
    assert citation.locator(".author").inner_text() == "Olivia B. Waxman"
    assert citation.locator(".publisher").inner_text() == "TIME"
    assert citation.locator("time").inner_text() == "2018-04-26"
    assert re.fullmatch(r"¶ \d+", citation.locator(".paragraph").inner_text())
    assert citation.locator("a.source").get_attribute("href").startswith("https://time.com/")
    assert page.evaluate("window.__samePage") is True, "JavaScript answered without a page load"
    assert page.url == base_url + "/?q=why+didn%27t+South+Korea+sign%3F"
    assert page.title().startswith(SEED)
    assert "5 passages" in page.inner_text("#status")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOT))


def test_javascript_and_server_render_the_same_results(page, base_url):
    """app.js and the Jinja macros must produce the same markup (one set of selectors, one look)."""
    page.goto(base_url + "/?q=" + SEED)  # server-rendered
    wait_for_results(page)
    server = page.inner_html("#result-list")
    page.evaluate("document.querySelector('#result-list li').dataset.old = '1'")
    page.evaluate("window.dispatchEvent(new PopStateEvent('popstate'))")  # app.js re-asks the URL's question
    expect(page.locator("#result-list li[data-old]")).to_have_count(0)
    wait_for_results(page)

    def normal(html: str) -> str:
        return re.sub(r">\s+<", "><", html).strip()

    assert normal(page.inner_html("#result-list")) == normal(server)


def test_a_passages_section_is_shown_alike_by_the_script_and_the_server(page, mixed):
    """The saved news page's "Businesses hope for a revival" heading is the section of the
    passage under it: both renderings show it after the title, as text."""
    question = "How much had the bakery's takings fallen during the roadworks?"
    with serving(create_app({"QA_INDEX": str(mixed["index"])})) as url:
        page.goto(url + "/?" + urlencode({"q": question}))  # server-rendered
        wait_for_results(page)
        server = page.inner_html("#result-list")
        assert page.locator("#result-list li").first.locator(".citation .section").inner_text() == (
            "Businesses hope for a revival")
        page.evaluate("document.querySelector('#result-list li').dataset.old = '1'")
        page.evaluate("window.dispatchEvent(new PopStateEvent('popstate'))")  # app.js re-asks the question
        expect(page.locator("#result-list li[data-old]")).to_have_count(0)
        wait_for_results(page)
        assert re.sub(r">\s+<", "><", page.inner_html("#result-list")).strip() == re.sub(r">\s+<", "><", server).strip()


def test_reader_view_highlights_the_passage_in_context(page, base_url):
    page.goto(base_url + "/?q=" + SEED)
    first = wait_for_results(page).nth(0)
    passage = first.locator("blockquote").inner_text()
    first.locator("a.reader-link").click()
    page.wait_for_url(re.compile(r"/documents/[^?#]+\?start=\d+&end=\d+&q=.+#\d+-\d+$"))
    start, end = map(int, page.url.rsplit("#", 1)[1].split("-"))
    mark = page.locator(f"#doc-text mark[id='{start}-{end}']")
    assert mark.count() == 1
    assert mark.inner_text() == passage and "Syngman Rhee" in passage
    assert in_viewport(page, mark), "the cited passage is scrolled into view"
    assert page.evaluate("document.activeElement.tagName") == "MARK"
    document = page.request.get(base_url + "/api" + urlsplit(page.url).path).json()
    assert page.locator("#doc-text").text_content() == document["text"]
    assert document["text"][start:end] == passage
    assert "highlighted" in page.inner_text("#reader-status")
    page.click("p.back a")
    page.wait_for_url(re.compile(r"/\?q="))
    assert page.input_value("#q") == SEED


def test_reader_view_marks_a_bare_fragment_with_javascript(page, base_url):
    answer = page.request.get(base_url + "/api/ask", params={"question": SEED}).json()
    c = answer["passages"][0]["citation"]
    page.goto(f"{base_url}/documents/{c['doc_id']}#{c['start']}-{c['end']}")
    mark = page.locator(f"#doc-text mark[id='{c['start']}-{c['end']}']")
    mark.wait_for()
    assert "Syngman Rhee" in mark.inner_text()
    assert in_viewport(page, mark)
    page.evaluate("location.hash = '#0-20'")
    page.wait_for_selector("#doc-text mark[id='0-20']")
    assert page.locator("#doc-text mark").count() == 1


def test_reload_and_shared_links_restore_the_results(page, base_url):
    page.goto(base_url + "/?q=" + SEED)
    assert "Syngman Rhee" in wait_for_results(page).nth(0).inner_text()
    page.reload()
    assert page.input_value("#q") == SEED
    assert "Syngman Rhee" in wait_for_results(page).nth(0).inner_text()


def test_back_and_forward_restore_each_question(page, base_url):
    page.goto(base_url + "/")
    ask_with_box(page, SEED)
    wait_for_results(page)
    expect(page.locator("#status")).to_contain_text("South Korea sign")
    ask_with_box(page, UNANSWERABLE)
    expect(page.locator("#status")).to_contain_text("capital of France")
    page.go_back()
    expect(page.locator("#status")).to_contain_text("South Korea sign")
    assert page.input_value("#q") == SEED and "?q=why" in page.url
    assert "Syngman Rhee" in wait_for_results(page).nth(0).inner_text()
    page.go_forward()
    expect(page.locator("#status")).to_contain_text("capital of France")
    assert page.input_value("#q") == UNANSWERABLE
    page.go_back()
    page.go_back()
    expect(page.locator("#result-list li")).to_have_count(0)
    assert page.input_value("#q") == "" and page.url == base_url + "/"


def test_example_questions_are_clickable(page, base_url):
    page.goto(base_url + "/")
    example = page.locator("a.example").first
    text = example.inner_text()
    example.click()
    wait_for_results(page)
    assert page.input_value("#q") == text
    assert page.evaluate("new URLSearchParams(location.search).get('q')") == text


def test_keyboard_only(page, base_url):
    page.goto(base_url + "/")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q", "the question box is reached by Tab"
    page.keyboard.type(SEED)
    page.keyboard.press("Enter")
    assert "Syngman Rhee" in wait_for_results(page).nth(0).inner_text()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('reader-link')"):
            break
    focused = page.evaluate("document.activeElement.closest('li.result').dataset.rank")
    assert focused == "1", "the first result's reader link is the first one reached"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/documents/"))
    page.locator("#doc-text mark").wait_for()
    assert in_viewport(page, page.locator("#doc-text mark"))
    assert page.evaluate("document.activeElement.tagName") == "MARK"


def test_without_javascript_the_server_renders_everything(static_page, base_url):
    page = static_page
    page.goto(base_url + "/")
    page.fill("#q", SEED)
    page.press("#q", "Enter")  # a plain GET form submission
    page.wait_for_url(re.compile(r"/\?q=why"))
    items = page.locator("#result-list li.result")
    assert items.count() == 5
    assert "Syngman Rhee" in items.nth(0).locator("blockquote").inner_text()
    assert items.nth(0).locator("mark").is_visible()
    assert page.locator("#error").is_hidden()
    items.nth(0).locator("a.reader-link").click()
    page.wait_for_url(re.compile(r"/documents/.*#\d+-\d+$"))
    mark = page.locator("#doc-text mark")
    assert mark.count() == 1 and "Syngman Rhee" in mark.inner_text()
    assert in_viewport(page, mark), "the #start-end fragment is the mark's id: the browser scrolls to it"
    page.goto(base_url + "/")
    page.click("a.example >> nth=0")
    page.wait_for_url(re.compile(r"/\?q="))
    assert page.locator("#result-list li.result").count() > 0
    page.goto(base_url + "/?q=" + "x" * 1001)
    assert "limit is 1000" in page.inner_text("#error")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_hostile_document_renders_harmlessly(browser, hostile_url, javascript):
    context, page, watch = open_page(browser, javascript=javascript)
    try:
        page.goto(hostile_url + "/?q=armistice script image link")
        if javascript:
            ask_with_box(page, "ceasefire onerror template breakout")
            expect(page).to_have_title(re.compile(r"^ceasefire"))
        items = page.locator("#result-list li.result")
        items.first.wait_for()
        shown = page.inner_text("#result-list")
        assert "<script>window.__pwned" in shown and "onerror=" in shown
        links = [items.nth(i).locator("a.reader-link").get_attribute("href") for i in range(items.count())]
        for href in links:
            page.goto(hostile_url + href)
            page.locator("#doc-text mark").wait_for()
            assert "<script>" in page.inner_text("#doc-text")
            check_harmless(page, watch, javascript)
        if javascript:  # the script re-marks from a bare fragment, rebuilding the text node by node
            page.goto(hostile_url + links[0].split("?")[0] + "#10-300")
            page.locator("#doc-text mark[id='10-300']").wait_for()
            check_harmless(page, watch, javascript)
        # the fact comes from the front matter too: its title is a <script>, its publisher an <a> and an <svg>
        if javascript:
            page.goto(hostile_url + "/")
            ask_with_box(page, "Who published the article?")
        else:
            page.goto(hostile_url + "/?" + urlencode({"q": "Who published the article?"}))
        page.locator("#fact").wait_for()  # no passage need come with it
        assert "<svg onload=" in page.inner_text("#fact-value") and "<script>" in page.inner_text("#fact-title")
        check_harmless(page, watch, javascript)
        # a heading of the document is a passage's section: shown as text too
        _ask_with_or_without_script(page, hostile_url, "Did the ceasefire hold?", javascript)
        section = page.locator("#result-list li.result .citation .section").first
        assert "onerror=" in section.inner_text() and "<b>section</b>" in section.inner_text()
        check_harmless(page, watch, javascript)
        page.goto(hostile_url + "/?q=armistice")
        check_harmless(page, watch, javascript)
        assert page.locator("a.source").count() == 0, "a javascript: source is shown as text"
        assert page.locator("span.source").first.inner_text().startswith("javascript:")
    finally:
        context.close()
    assert watch.dialogs == [] and watch.errors == [] and watch.csp == [], vars(watch)


def check_harmless(page, watch, javascript: bool) -> None:
    assert result_scripts(page) == ["/static/app.js"], "no <script> element from the corpus"
    for selector in ("img", "svg", "iframe", "b", "[onerror]", "[onclick]", "[onload]", "a[href^='javascript:' i]"):
        assert page.locator(selector).count() == 0, selector
    if javascript:
        assert page.evaluate("typeof window.__pwned") == "undefined"
    assert watch.dialogs == []


def test_api_errors_are_shown_to_the_user(page, base_url, built_index, tmp_path):
    """Every way an answer can fail, each from a real server: the API's 400, a server with no
    index (503), a proxy of someone else's that answers an HTML page, and a server gone."""
    page.goto(base_url + "/")
    ask_with_box(page, "x" * 1001)
    error = page.locator("#error")
    error.wait_for()
    api = page.request.get(base_url + "/api/ask", params={"question": "x" * 1001, "k": "5"})
    assert api.status == 400
    assert api.json()["error"]["message"] in error.inner_text(), "the API's own message is shown"
    assert error.get_attribute("role") == "alert"
    assert page.locator("#result-list li").count() == 0
    assert page.get_attribute("#results", "aria-busy") == "false"

    (tmp_path / "empty").mkdir()
    with serving(create_app({"QA_INDEX": str(tmp_path / "empty")})) as without_index:
        page.goto(without_index + "/")
        ask_with_box(page, SEED)
        expect(error).to_contain_text("Could not answer: no index in")
        assert page.request.get(without_index + "/api/ask", params={"question": SEED}).status == 503

    with serving(_answering_api_with_an_html_502(create_app({"QA_INDEX": str(built_index)}))) as proxied:
        page.goto(proxied + "/")
        ask_with_box(page, SEED)
        expect(error).to_contain_text("HTTP 502")

    served = QAServer(built_index, tmp_path / "server.log", "--workers", "1")
    try:
        served.wait_healthy(180)
        page.goto(served.url + "/")
        ask_with_box(page, SEED)
        wait_for_results(page)
    finally:
        served.stop()  # its process group ends: its kept-alive connections with it
    ask_with_box(page, SEED + "?")
    expect(error).to_contain_text("Could not reach")


def _answering_api_with_an_html_502(app):
    """The real app behind a proxy that fails the API with its own HTML page (not JSON)."""
    def proxy(environ, start_response):
        if environ["PATH_INFO"] == "/api/ask":
            start_response("502 Bad Gateway", [("Content-Type", "text/html")])
            return [b"<html><body><h1>502 Bad Gateway</h1></body></html>"]
        return app(environ, start_response)

    return proxy


def test_loading_no_results_and_not_found_states(page, base_url):
    page.goto(base_url + "/")
    page.evaluate("""() => {
        window.__states = [];
        const status = document.querySelector('#status'), region = document.querySelector('#results');
        new MutationObserver(() => window.__states.push(region.getAttribute('aria-busy') + ' ' + status.textContent))
            .observe(region, {attributes: true, childList: true, subtree: true, characterData: true});
    }""")
    ask_with_box(page, SEED)
    wait_for_results(page)
    states = page.evaluate("window.__states")
    assert any(s.startswith("true Searching") for s in states), states

    ask_with_box(page, UNANSWERABLE)
    expect(page.locator("#status")).to_contain_text("capital of France")
    notice = page.locator("#notice")
    assert notice.is_visible() and "Not found in the article" in notice.inner_text()

    ask_with_box(page, "qwrtp")  # shares nothing with the article: no passage at all, and "not found"
    page.locator("#empty").wait_for()
    assert page.locator("#result-list li").count() == 0 and page.locator("#uncertain").is_hidden()
    # one message, not "0 passages …, best first" above "the passages below are the closest matches"
    assert "Not found in the article: no passage" in page.locator("#empty").inner_text()
    assert notice.is_hidden() and page.locator("#status").inner_text() == ""


def test_readable_at_phone_width(browser, base_url):
    context, page, watch = open_page(browser, width=360, height=740)
    try:
        page.goto(base_url + "/?q=" + SEED)
        wait_for_results(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        box = page.locator("#q").bounding_box()
        assert box["width"] > 250, "the question box uses the width"
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
        page.goto(base_url + "/documents/korea-armistice-time-2018?start=3199&end=3636#3199-3636")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
    assert watch.errors == [] and watch.csp == []


def test_a_wrong_address_shows_an_html_404_page(browser, base_url):
    context, page, watch = open_page(browser)
    try:
        response = page.goto(base_url + "/no/such/page")
        assert response.status == 404
        assert "404" in page.locator("h1").inner_text()
        page.get_by_role("link", name="Ask a question").click()
        page.wait_for_url(base_url + "/")
        assert page.locator("#q").is_visible()
    finally:
        context.close()
    assert watch.errors == [] and watch.csp == []


# Candidates for each state of the verdict; the test asks the API which state each is in, so a
# refitted model only changes which question stands for a state, not what the page must show.
STATE_CANDIDATES = [SEED, "Rhee", "What does Armstrong expect from the summit?",
                    "What did officers fear they would be accused of?", "Has Seoul talked about a peace treaty?",
                    "Why did the Geneva talks fail?", "What role did General Douglas MacArthur play in the war?",
                    "How many people died in the Korean War?", UNANSWERABLE, "What is the best recipe for sourdough?"]
STATE_NOTES = {"answered": None, "uncertain": "#uncertain", "not_found": "#notice"}


def _question_per_state(base_url) -> dict[str, str]:
    found: dict[str, str] = {}
    for question in STATE_CANDIDATES:
        verdict = requests.get(base_url + "/api/ask", params={"question": question}, timeout=30).json()["verdict"]
        found.setdefault(verdict, question)
    assert set(found) == set(STATE_NOTES), found
    return found


def _ask_with_or_without_script(page, base_url: str, question: str, javascript: bool) -> None:
    """Through the box (the script asks the API) or, without JavaScript, the server's ``/?q=``."""
    if javascript:
        page.goto(base_url + "/")
        ask_with_box(page, question)
    else:
        page.goto(base_url + "/?" + urlencode({"q": question}))
    wait_for_results(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_three_verdict_states_are_shown_plainly_quietly_or_as_not_found(browser, base_url, javascript):
    context, page, watch = open_page(browser, javascript=javascript)
    try:
        for verdict, question in _question_per_state(base_url).items():
            _ask_with_or_without_script(page, base_url, question, javascript)
            for note, selector in (("uncertain", "#uncertain"), ("not_found", "#notice")):
                assert page.locator(selector).is_visible() is (verdict == note), (question, verdict, selector)
            if verdict == "uncertain":
                assert "may not answer" in page.locator("#uncertain").inner_text()
            if verdict == "not_found":
                assert "Not found" in page.locator("#notice").inner_text()
    finally:
        context.close()
    assert watch.errors == [] and watch.csp == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_when_it_was_published_is_shown_from_the_metadata_above_the_passages(browser, base_url, javascript):
    context, page, watch = open_page(browser, javascript=javascript)
    try:
        for question, line in (("When was it published?", "Published 2018-04-26"),
                               ("Who published the article?", "Published by TIME")):
            _ask_with_or_without_script(page, base_url, question, javascript)
            fact = " ".join(page.locator("#fact").inner_text().split())
            assert fact == f"{line} from the metadata of Why North Korea and South Korea Are Technically Still at War"
            assert not page.locator("#uncertain").is_visible() and not page.locator("#notice").is_visible()
        if javascript:  # the next question clears it
            ask_with_box(page, "Why didn't South Korea sign?")
            wait_for_results(page)
            assert not page.locator("#fact").is_visible()
    finally:
        context.close()
    assert watch.errors == [] and watch.csp == []


def test_a_corrected_question_says_what_was_searched(page, base_url):
    page.goto(base_url + "/")
    ask_with_box(page, "wen was the armistise sined")
    wait_for_results(page)
    assert page.locator("#corrected").is_visible()
    assert page.locator("#corrected-text").inner_text() == "when was the armistice signed"


def test_a_long_question_is_cut_to_80_characters_in_the_tab_title(page, base_url):
    """As the server's title: 79 code points and "…" (the emoji at 79 is not cut in half)."""
    question = "x" * 78 + "😀" + "y" * 100 + " armistice?"
    page.goto(base_url + "/")
    ask_with_box(page, question)
    wait_for_results(page)
    assert page.title() == "x" * 78 + "😀…" + " · qa"
    page.reload()  # the server renders the same title
    assert page.title() == "x" * 78 + "😀…" + " · qa"


@pytest.fixture(scope="module")
def mixed_url(browser, mixed):
    """Three documents (conftest.mixed): the Korea article, a saved news page and a text file."""
    with serving(create_app({"QA_INDEX": str(mixed["index"])})) as url:
        yield url


def test_with_several_documents_the_page_lists_them_and_asks_the_one_chosen(page, mixed_url):
    page.goto(mixed_url + "/")
    assert page.locator("h1").inner_text() == "Ask these 3 documents" and page.title() == "Ask these 3 documents · qa"
    assert "the article" not in page.locator("body").inner_text()
    assert page.locator(".document-list li").count() == 3
    assert "Jane Doe" in page.locator(".document-list").inner_text()
    page.select_option("#doc", "molasses")
    ask_with_box(page, "How many people died?")
    results = wait_for_results(page)
    assert "doc=molasses" in page.url and "molasses" in results.first.inner_text()
    assert all("Molasses" in results.nth(i).locator("cite").inner_text() for i in range(results.count()))
    page.reload()  # the choice is kept in the URL, and the server renders it
    assert page.locator("#doc").input_value() == "molasses"
    cited = wait_for_results(page).locator("cite").all_inner_texts()
    assert cited and all("Molasses" in t for t in cited)
    page.select_option("#doc", "")
    ask_with_box(page, "How much did the Riverside tram line cost?")
    wait_for_results(page)
    expect(page.locator("#result-list li.result cite").first).to_contain_text("Riverside tram line")
