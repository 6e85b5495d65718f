"""The question page: server-rendered with Jinja, enhanced by ``web/static/app.js``.

Why the server renders too: ``GET /?q=...`` must answer without JavaScript (and a reload
or a shared link shows results at once), so the same markup is produced here and by the
script, which only takes over the form to avoid full page loads. The script builds the
DOM with ``textContent`` and Jinja autoescapes, so corpus text is never parsed as HTML.

Files live in ``<repo>/web`` (``templates/`` and ``static/``), found from this file's
location: the package is installed editable (src layout), so ``parents[2]`` is the
repository. ``QA_WEB_DIR`` (config or environment) points elsewhere when needed.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, render_template, request
from werkzeug.datastructures import MultiDict

from .errors import BadRequest, QAError
from .facts import FACT_LABELS
from .service import current_service
from .settings import default
from .views import answer


def _default_web_dir() -> Path:
    """``web/`` of the checkout; in an installed wheel, the same files as package ``qa_web``."""
    checkout = Path(__file__).resolve().parents[2] / "web"
    if (checkout / "templates").is_dir():
        return checkout
    spec = importlib.util.find_spec("qa_web")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return checkout


DEFAULT_WEB_DIR = _default_web_dir()


def web_dir(app: Flask) -> Path:
    return Path(app.config.get("QA_WEB_DIR") or os.environ.get("QA_WEB_DIR") or DEFAULT_WEB_DIR)


def register_web(app: Flask) -> None:
    """Mount the page (``/``, ``/documents/<doc_id>``, ``/static/...``) and the headers.

    A blueprint carries its own template and static folders because ``create_app``
    turns the app's static folder off (APIFlask would otherwise claim ``/static``).
    """
    folder = web_dir(app)
    pages = Blueprint("web", __name__, template_folder=str(folder / "templates"),
                      static_folder=str(folder / "static"), static_url_path="/static")
    pages.add_url_rule("/", "index", index_page, methods=["GET"])
    pages.add_url_rule("/documents/<doc_id>", "document", document_page, methods=["GET"])
    app.register_blueprint(pages)
    app.jinja_env.globals["source_link"] = source_link
    app.jinja_env.globals["reader_url"] = reader_url
    app.jinja_env.globals["fact_labels"] = FACT_LABELS
    app.context_processor(lambda: {"corpus": corpus_copy()})


def corpus_copy() -> dict[str, Any]:
    """What the page says of what is indexed: one document may be named, several are never
    called "the article"; the heading and examples are settings of the deployment
    (``qa serve --page-title/--examples``, then corpus/qa.toml kept in the index)."""
    config, service = current_app.config, current_service()
    index = service.holder.index
    documents = service.documents() if index is not None else []
    page = index.manifest.get("page", {}) if index is not None else {}
    single = len(documents) == 1
    title = config.get("QA_PAGE_TITLE") or page.get("title")
    heading = title or (f"Ask: {documents[0]['title']}" if single
                        else f"Ask these {len(documents)} documents" if documents else "Ask a question")
    return {"documents": documents, "several": len(documents) > 1, "heading": heading,
            "noun": "the article" if single or not documents else "these documents",
            "examples": list(config.get("QA_EXAMPLES") or page.get("examples") or [])}


def source_link(url: Any) -> str | None:
    """The URL if it is safe to put in ``href`` (http or https with a host), else None.

    Corpus front matter is untrusted: a ``javascript:`` or ``data:`` source is shown as
    plain text instead of becoming a link.
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def reader_url(citation: dict[str, Any], question: str | None = None) -> str:
    """Reader view of a passage: ``?start&end`` lets the server mark it without JavaScript,
    and the ``#start-end`` fragment (the mark's id) scrolls to it, with or without."""
    start, end = citation["start"], citation["end"]
    params: dict[str, Any] = {"start": start, "end": end}
    if question:
        params["q"] = question
    return f"{_root()}/documents/{quote(citation['doc_id'], safe='')}?{urlencode(params)}#{start}-{end}"


def _root() -> str:
    """Where the app is mounted ("" or "/qa" behind a proxy's sub-path: SCRIPT_NAME)."""
    return request.script_root if has_request_context() else ""


def split_highlight(text: str, span: dict[str, int] | None) -> tuple[str, str, str]:
    """``(before, marked, after)``; without a usable span the whole text is marked."""
    if span:
        start, end = span.get("start"), span.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            return text[:start], text[start:end], text[end:]
    return "", text, ""


def index_page():
    """The question page; with ``?q=`` it also answers, so no JavaScript is needed.
    ``doc`` (repeatable; the selector) asks only those documents."""
    question, chosen = request.args.get("q", ""), [d for d in request.args.getlist("doc") if d]
    context: dict[str, Any] = {"question": question, "chosen": chosen, "answer": None, "error": None,
                               "k": default("k")}
    status = 200
    if question.strip():
        try:
            if len(request.args.getlist("q")) > 1 or len(request.args.getlist("k")) > 1:
                raise BadRequest("q and k may be given once each")
            asked = MultiDict([("question", question), ("k", request.args.get("k") or str(default("k")))]
                              + [("doc_id", d) for d in chosen])
            result = answer(asked, query_string=True).to_json()
            for passage in result["passages"]:
                passage["parts"] = split_highlight(passage["text"], passage.get("highlight"))
            context["answer"] = result
        except QAError as exc:
            context["error"], status = exc.message, exc.status
    return render_template("index.html", **context), status


def document_page(doc_id: str):
    """The reader view: the whole canonical text, the cited span in ``<mark>``.

    The text is one ``white-space: pre-wrap`` block so that character offsets map to it
    one to one (the script re-marks from the ``#start-end`` fragment the same way).
    """
    question = request.args.get("q", "")
    try:
        document = current_service().document(doc_id)
    except QAError as exc:
        return render_template("document.html", document=None, error=exc.message, question=question), exc.status
    text = document["text"]
    start, end = _int_arg("start"), _int_arg("end")
    span = None
    if start is not None and end is not None and 0 <= start < end <= len(text):
        span = (start, end)
    parts = (text[: span[0]], text[span[0] : span[1]], text[span[1] :]) if span else (text, "", "")
    return render_template("document.html", document=document, parts=parts, span=span, question=question,
                           error=None)


def _int_arg(name: str) -> int | None:
    """An offset of the reader view; junk gives ``None`` (the span is ignored), never a 500."""
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None

