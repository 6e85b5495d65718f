"""Request and response shapes (marshmallow, via APIFlask): the one place requests are
validated — the JSON API through APIFlask, the page and the CLI through ``parse_ask``.

They also generate ``/api/openapi.json``, so the document and the behaviour come from
one source.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Field, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import RAISE, ValidationError, validates

from .errors import BadRequest
from .records import AskRequest
from .settings import MODES, default

MAX_QUESTION_CHARS, MAX_K = default("max_question_chars"), default("max_k")

# Allowed: any text with at least one visible character; no control characters except tab
# and newlines, no unpaired surrogates (checked beside the pattern: a surrogate range would
# make the pattern invalid for regex engines that work on code points, such as Rust's).
_NOT_CONTROL = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
_VISIBLE = "[^\\s\\x00-\\x1f\\x7f-\\x9f]"
QUESTION_PATTERN = f"^{_NOT_CONTROL}*{_VISIBLE}{_NOT_CONTROL}*$"
_QUESTION = {"required": True,
             "validate": [Length(min=1, error="is empty"),
                          Length(max=MAX_QUESTION_CHARS, error="the limit is {max} characters"),
                          Regexp(QUESTION_PATTERN, error="must contain visible text and no control characters "
                                                        "(such as NUL)")],
             "error_messages": {"required": "a question is required", "invalid": "must be a string"},
             "metadata": {"description": f"The question, 1 to {MAX_QUESTION_CHARS} characters.",
                          "example": "why didn't South Korea sign?"}}
_K_RANGE = f"must be an integer from 1 to {MAX_K}"
_K = {"load_default": default("k"), "validate": Range(min=1, max=MAX_K, error=_K_RANGE),
      "error_messages": {"invalid": _K_RANGE},
      "metadata": {"description": f"How many passages to return, at most (1-{MAX_K}): furniture and fillers "
                                  "are never returned."}}
_MODE = {"load_default": default("mode"), "validate": OneOf(MODES, error=f"must be one of {', '.join(MODES)}"),
         "metadata": {"description": "Retrieval: hybrid (default), dense (embeddings only) or bm25 (terms only)."}}


class JsonInteger(Integer):
    """A JSON integer as JSON Schema defines it: 7 and 7.0 yes; "7", 7.5 and true no."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.make_error("invalid")
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class DocIds(Field):
    """One document id or a list of them: ``"doc_id": "a"``, ``"doc_id": ["a", "b"]``, or in
    a query string ``doc_id=a&doc_id=b`` (the one parameter that may repeat)."""

    default_error_messages = {"invalid": "must be a document id or a list of 1 to 50 of them"}

    def _deserialize(self, value, attr, data, **kwargs):
        ids = [value] if isinstance(value, str) else value
        if not isinstance(ids, list) or not 1 <= len(ids) <= 50 or not all(
                isinstance(i, str) and 0 < len(i) <= 200 for i in ids):
            raise self.make_error("invalid")
        return tuple(dict.fromkeys(ids))


class QueryInteger(Integer):
    """An integer in a query string as people write one: ASCII digits only. int() would also
    take "٥" (an Arabic-Indic digit), "1_0" and "+5"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,9}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _Ask(Schema):
    class Meta:
        unknown = RAISE

    question = String(**_QUESTION)
    mode = String(**_MODE)
    # load_default=tuple (a callable) so that the API document shows no default: [] would not
    # be a valid value itself (minItems 1); leaving doc_id out means every document
    doc_id = DocIds(load_default=tuple, metadata={
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 50}],
        "description": "Only passages of this document, or of these documents (GET: repeat doc_id=). "
                       "Ids are listed by /api/documents; an unknown one is a 400 (bad_doc_id)."})

    @validates("question")
    def no_surrogates(self, value: str, **kwargs: Any) -> None:
        if any(unicodedata.category(ch) == "Cs" for ch in value):
            raise ValidationError("question contains unpaired surrogates")


class AskBody(_Ask):
    k = JsonInteger(**_K)


class AskQuery(_Ask):
    k = QueryInteger(**_K)


class Span(Schema):
    start = Integer(required=True)
    end = Integer(required=True)


class CitationOut(Schema):
    doc_id = String(required=True)
    title = String(required=True)
    author = String(allow_none=True)
    publisher = String(allow_none=True)
    published = String(allow_none=True)
    source = String(allow_none=True)
    paragraph = Integer(required=True, metadata={"description": "1-based; paragraphs are separated by blank lines"})
    start = Integer(required=True, metadata={"description": "document text[start:end] == passage text"})
    end = Integer(required=True)
    section = String(allow_none=True, metadata={
        "description": "the headings above the passage, outermost first, joined by \" › \" (\"2.4.0 — 2025-05-20 › "
                       "Added\"); null before any heading"})


class PassageOut(Schema):
    rank = Integer(required=True)
    score = Float(required=True)
    text = String(required=True)
    highlight = Nested(Span, allow_none=True, metadata={"description": "the answering sentence, offsets within text"})
    citation = Nested(CitationOut, required=True)
    scores = Dict(keys=String(), values=Float(), metadata={"description": "the signals behind score"})


class DocumentFactOut(Schema):
    doc_id = String(required=True)
    title = String(required=True)
    field = String(required=True, validate=OneOf(("author", "published", "publisher")))
    value = String(required=True, metadata={
        "description": "from the document's metadata (front matter, a page's meta tags, a byline opening a text)"})


class AnswerOut(Schema):
    question = String(required=True)
    k = Integer(required=True)
    mode = String(required=True)
    answered = Boolean(required=True, metadata={"description": "verdict == answered: the corpus seems to answer"})
    confidence = Float(required=True, metadata={
        "description": "fitted probability (0-1) that the first passage answers the question; at least the "
                       "answered point when document_fact answers it"})
    verdict = String(required=True, validate=OneOf(("answered", "uncertain", "not_found")), metadata={
        "description": "answered; uncertain (the passages may not answer); not_found (confidence very low)"})
    corrected = String(allow_none=True, metadata={
        "description": "the question as searched when misspelled words were corrected or a capital the corpus "
                       "lacks was searched as its country (\"Seoul\" as \"South Korea\"), else null"})
    doc_id = List(String(), allow_none=True, metadata={"description": "the documents asked; null: all"})
    document_fact = Nested(DocumentFactOut, allow_none=True, metadata={
        "description": "for a question about the document itself (\"When was it published?\"): the fact, from "
                       "its metadata; else null"})
    passages = List(Nested(PassageOut), required=True)
    took_ms = Float(required=True)
    index_version = String(required=True, metadata={"description": "the index version that answered"})


class DocumentSummaryOut(Schema):
    doc_id = String(required=True)
    title = String(required=True)
    path = String(required=True)
    author = String(allow_none=True)
    publisher = String(allow_none=True)
    published = String(allow_none=True)
    source = String(allow_none=True)
    metadata = Dict(required=True)
    length = Integer(required=True)
    fingerprint = String(required=True)


class DocumentListOut(Schema):
    documents = List(Nested(DocumentSummaryOut), required=True)


class DocumentOut(DocumentSummaryOut):
    text = String(required=True, metadata={"description": "the canonical text all offsets refer to"})


class HealthOut(Schema):
    status = String(required=True)
    index = Dict(allow_none=True)
    error = String(allow_none=True)
    reloads = Integer()


class ErrorDetail(Schema):
    code = String(required=True)
    message = String(required=True)


class ErrorOut(Schema):
    error = Nested(ErrorDetail, required=True)


def parse_ask(data: Mapping[str, Any], *, query_string: bool = False) -> AskRequest:
    """Validate a question with its options: the one validation of the API, the page and
    the CLI. A query string must not repeat a parameter (``?k=1&k=2`` is ambiguous, as a
    duplicate JSON key is)."""
    if query_string and hasattr(data, "getlist"):
        repeated = sorted(key for key in data.keys() if key != "doc_id" and len(data.getlist(key)) > 1)
        if repeated:
            raise BadRequest(f"{repeated[0]} is given more than once in the query string")
        data = {key: data.getlist(key) if key == "doc_id" else data.get(key) for key in data.keys()}
    try:
        values = (AskQuery() if query_string else AskBody()).load(dict(data))
    except ValidationError as exc:
        code, message = validation_message({"request": exc.messages})
        raise BadRequest(message, code=code) from None
    return AskRequest(values["question"], values["k"], values["mode"], values["doc_id"])


def validation_message(detail: dict[str, Any]) -> tuple[str, str]:
    """``{"json": {"k": ["Must be ..."]}}`` -> ``("bad_k", "k: Must be ...")``: the first
    reason of each field is enough."""
    parts, fields = [], []
    for location in detail.values():
        if not isinstance(location, dict):
            continue
        for field, messages in location.items():
            reasons = _flatten(messages)
            text = reasons[0] if reasons else "invalid"
            if field == "_schema":
                parts.append(text)
            else:
                fields.append(field)
                parts.append(f"{field}: {text}")
    code = _FIELD_CODES.get(fields[0], "bad_request") if fields else "bad_request"
    return code, " ".join(parts) or "invalid request"


_FIELD_CODES = {"question": "bad_question", "k": "bad_k", "mode": "bad_mode", "doc_id": "bad_doc_id"}


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in _flatten(v)]
    return [str(messages)]
