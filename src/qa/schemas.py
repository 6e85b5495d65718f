"""Request and response shapes of the JSON API (marshmallow, via APIFlask).

They validate requests and generate ``/api/openapi.json``, so the document and the
behaviour come from one source.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import RAISE

from .search import DEFAULT_MODE, MODES
from .service import DEFAULT_K, MAX_K, MAX_QUESTION_CHARS

# Allowed: any text with at least one visible character; no control characters except tab
# and newlines, no unpaired surrogates (service.check_question enforces the same rule).
# (Unpaired surrogates are refused too, but a surrogate range would make the pattern
# invalid for regex engines that work on code points, such as Rust's.)
_NOT_CONTROL = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
_VISIBLE = "[^\\s\\x00-\\x1f\\x7f-\\x9f]"
QUESTION_PATTERN = f"^{_NOT_CONTROL}*{_VISIBLE}{_NOT_CONTROL}*$"
_QUESTION = {"required": True,
             "validate": [Length(min=1, max=MAX_QUESTION_CHARS),
                          Regexp(QUESTION_PATTERN, error="question must contain visible text and no control characters")],
             "metadata": {"description": "The question, 1 to 1000 characters.", "example": "why didn't South Korea sign?"}}
_K = {"load_default": DEFAULT_K, "validate": Range(min=1, max=MAX_K),
      "metadata": {"description": "How many passages to return (1-20)."}}
_MODE = {"load_default": DEFAULT_MODE, "validate": OneOf(MODES),
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


class AskBody(Schema):
    class Meta:
        unknown = RAISE

    question = String(**_QUESTION)
    k = JsonInteger(**_K)
    mode = String(**_MODE)


class AskQuery(Schema):
    class Meta:
        unknown = RAISE

    question = String(**_QUESTION)
    k = Integer(**_K)
    mode = String(**_MODE)


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


class PassageOut(Schema):
    rank = Integer(required=True)
    score = Float(required=True)
    text = String(required=True)
    highlight = Nested(Span, allow_none=True, metadata={"description": "the answering sentence, offsets within text"})
    citation = Nested(CitationOut, required=True)
    scores = Dict(keys=String(), values=Float(), metadata={"description": "the signals behind score"})


class AnswerOut(Schema):
    question = String(required=True)
    k = Integer(required=True)
    mode = String(required=True)
    answered = Boolean(required=True, metadata={"description": "false when the corpus does not seem to answer"})
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
