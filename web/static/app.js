/* Enhances the server-rendered page; everything also works without it.
 *
 * Question page: asks /api/ask without a page load, keeps the question in the URL
 * (/?q=..., pushState; back/forward re-ask) and shows loading, error, no-result and
 * "not found" states. Reader view: marks and scrolls to the #start-end fragment.
 *
 * Safety: corpus text only ever reaches the DOM through textContent / createTextNode,
 * and only http(s) URLs become links. No HTML strings are parsed here.
 */
(function () {
  "use strict";

  /* Where the app is mounted: "" at the site's root, "/qa" under a proxy's sub-path. Every
     URL below is built from it, as the server builds its own with url_for. */
  var ROOT = document.documentElement.getAttribute("data-root") || "";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* Offsets from the API count Unicode code points (Python); JS strings count UTF-16 units. */
  function splitSpan(text, start, end) {
    var chars = Array.from(text);
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= chars.length) {
      return [chars.slice(0, start).join(""), chars.slice(start, end).join(""), chars.slice(end).join("")];
    }
    return null;
  }

  function safeHref(url) {
    if (typeof url !== "string") return null;
    try {
      var parsed = new URL(url.trim());
      if ((parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname) return url.trim();
    } catch (e) { /* not an absolute URL: shown as text */ }
    return null;
  }

  function readerUrl(c, question) {
    var params = new URLSearchParams({ start: String(c.start), end: String(c.end) });
    if (question) params.set("q", question);
    return ROOT + "/documents/" + encodeURIComponent(c.doc_id) + "?" + params.toString() + "#" + c.start + "-" + c.end;
  }

  /* Same markup as the citation_line macro in web/templates/_macros.html. */
  function citationLine(c) {
    var line = el("p", "citation");
    line.appendChild(el("cite", "title", c.title));
    if (c.section) {
      line.appendChild(el("span", "sep", " \u203a "));
      line.appendChild(el("span", "section", c.section));
    }
    [["author", "span"], ["publisher", "span"], ["published", "time"]].forEach(function (pair) {
      if (!c[pair[0]]) return;
      line.appendChild(el("span", "sep", ", "));
      line.appendChild(el(pair[1], pair[0], c[pair[0]]));
    });
    line.appendChild(el("span", "sep", ", "));
    line.appendChild(el("span", "paragraph", "\u00b6 " + c.paragraph));
    if (c.source) {
      line.appendChild(el("span", "sep", " \u00b7 "));
      var href = safeHref(c.source);
      var source = el(href ? "a" : "span", "source", c.source);
      if (href) { source.href = href; source.rel = "noopener noreferrer"; }
      line.appendChild(source);
    }
    return line;
  }

  /* Same markup as the passage_item macro. */
  function passageItem(p, question) {
    var li = el("li", "result");
    li.dataset.rank = String(p.rank);
    var quote = el("blockquote", "passage");
    var para = el("p");
    var hl = p.highlight || {};
    var parts = splitSpan(p.text, hl.start, hl.end) || ["", p.text, ""];
    para.append(parts[0], el("mark", null, parts[1]), parts[2]);
    quote.appendChild(para);
    li.appendChild(quote);
    li.appendChild(citationLine(p.citation));
    var actions = el("p", "actions");
    var link = el("a", "reader-link", "Read \u00b6 " + p.citation.paragraph + " in context");
    link.href = readerUrl(p.citation, question);
    link.appendChild(el("span", "visually-hidden", " (result " + p.rank + ")"));
    actions.appendChild(link);
    li.appendChild(actions);
    return li;
  }

  function initAsk(form) {
    var input = document.getElementById("q");
    var region = document.getElementById("results");
    var status = document.getElementById("status");
    var error = document.getElementById("error");
    var notice = document.getElementById("notice");
    var uncertain = document.getElementById("uncertain");
    var fact = document.getElementById("fact");
    var factLabels = JSON.parse(form.dataset.factLabels || "{}");  /* facts.FACT_LABELS, from the server */
    var corrected = document.getElementById("corrected");
    var empty = document.getElementById("empty");
    var list = document.getElementById("result-list");
    var controller = null;
    var k = form.dataset.k;  /* the server's default (settings.py), so the two never differ */
    var noun = form.dataset.noun || "the documents";  /* "the article" or "these documents" */
    var scope = document.getElementById("doc");  /* the document selector, when there are several */

    function reset() {
      list.replaceChildren();
      status.textContent = "";
      status.classList.remove("loading");
      error.hidden = true; error.textContent = "";
      notice.hidden = true; uncertain.hidden = true; corrected.hidden = true; empty.hidden = true;
      fact.hidden = true;
      region.setAttribute("aria-busy", "false");
    }

    function showError(message) {
      reset();
      error.textContent = message;
      error.hidden = false;
    }

    function show(data) {
      reset();
      var passages = data.passages || [];
      var n = passages.length;
      /* no passage at all: the one "empty" line says so, with no count and no "passages below" */
      status.textContent = n === 0 ? "" : n + " passage" + (n === 1 ? "" : "s") + " for \u201c" + data.question +
        "\u201d, best first.";
      /* three states: answered (plain), uncertain (a quiet note), not found */
      uncertain.hidden = data.verdict !== "uncertain" || n === 0;
      notice.hidden = data.verdict !== "not_found" || n === 0;
      if (data.corrected) {
        document.getElementById("corrected-text").textContent = data.corrected;
        corrected.hidden = false;
      }
      /* "When was it published?": the document's metadata answers, above the passages */
      if (data.document_fact) {
        document.getElementById("fact-label").textContent = factLabels[data.document_fact.field] || "";
        document.getElementById("fact-value").textContent = data.document_fact.value;
        document.getElementById("fact-title").textContent = data.document_fact.title;
        fact.hidden = false;
      }
      empty.hidden = n > 0 || Boolean(data.document_fact);
      passages.forEach(function (p) { list.appendChild(passageItem(p, data.question)); });
    }

    function ask(question) {
      if (controller) controller.abort();
      controller = new AbortController();
      var mine = controller;
      /* at most 80 characters of the question, as the server's title (index.html) */
      var letters = Array.from(question);  /* code points: an emoji is not cut in half */
      document.title = (letters.length > 80 ? letters.slice(0, 79).join("") + "\u2026" : question) + " \u00b7 qa";
      list.replaceChildren();
      error.hidden = true; notice.hidden = true; uncertain.hidden = true; corrected.hidden = true; empty.hidden = true;
      fact.hidden = true;
      region.setAttribute("aria-busy", "true");
      status.classList.add("loading");
      status.textContent = "Searching " + noun + "\u2026";
      var params = new URLSearchParams({ question: question, k: k });
      if (scope && scope.value) params.append("doc_id", scope.value);
      var url = ROOT + "/api/ask?" + params.toString();
      fetch(url, { headers: { Accept: "application/json" }, signal: mine.signal })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (mine !== controller) return;
            if (response.ok && body && Array.isArray(body.passages)) { show(body); return; }
            var message = body && body.error && body.error.message;
            showError(message ? "Could not answer: " + message
                              : "The server could not answer (HTTP " + response.status + "). Please try again.");
          });
        })
        .catch(function (err) {
          if (err && err.name === "AbortError") return;
          if (mine === controller) showError("Could not reach the server. Check the connection and try again.");
        });
    }

    function go(question) {
      var query = new URLSearchParams({ q: question });
      if (scope && scope.value) query.append("doc", scope.value);
      var target = ROOT + "/?" + query.toString();
      if (location.pathname + location.search !== target) history.pushState({ q: question }, "", target);
      ask(question);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = input.value;
      if (!question.trim()) { showError("Type a question first."); input.focus(); return; }
      go(question);
    });

    document.querySelectorAll("a.example").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        input.value = link.textContent;
        go(link.textContent);
      });
    });

    window.addEventListener("popstate", function () {
      var search = new URLSearchParams(location.search);
      var question = search.get("q") || "";
      input.value = question;
      if (scope) scope.value = search.get("doc") || "";
      if (question.trim()) { ask(question); return; }
      if (controller) controller.abort();
      document.title = form.dataset.heading + " \u00b7 qa";
      reset();
    });
  }

  function initReader(text) {
    var status = document.getElementById("reader-status");

    function markFragment() {
      var match = /^#(\d+)-(\d+)$/.exec(location.hash);
      if (!match) return;
      var id = match[1] + "-" + match[2];
      var mark = document.getElementById(id);
      if (!mark || !text.contains(mark)) {
        var parts = splitSpan(text.textContent, Number(match[1]), Number(match[2]));
        if (!parts) return;
        mark = el("mark", null, parts[1]);
        mark.id = id;
        mark.tabIndex = -1;
        text.replaceChildren(parts[0], mark, parts[2]);
        if (status) status.textContent = "The cited passage (characters " + match[1] + "\u2013" + match[2] + ") is highlighted.";
      }
      mark.scrollIntoView({ block: "center" });
      mark.focus({ preventScroll: true });
    }

    markFragment();
    window.addEventListener("hashchange", markFragment);
  }

  var form = document.getElementById("ask-form");
  if (form) initAsk(form);
  var text = document.getElementById("doc-text");
  if (text) initReader(text);
})();
