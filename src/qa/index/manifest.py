"""The shape of ``manifest.json``, checked before anything in it is used.

A version whose manifest has a value of the wrong type (``checksums`` a list, ``model`` a
string), a missing entry (``faiss_index``) or an inconsistent one (``efSearch`` on a flat
index) is refused with one reason, as a truncated or corrupted version is: the server keeps
serving the version it has and reports the reason in ``/healthz``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

_HEX64 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a sha256 digest")
_POSITIVE = validate.Range(min=1)


class _Model(Schema):
    id = fields.String(required=True)
    path = fields.String(required=True)
    dimension = fields.Integer(required=True, strict=True, validate=_POSITIVE)


class _Faiss(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["IndexFlatIP", "IndexHNSWFlat"]))
    exact = fields.Boolean(required=True)
    M = fields.Integer(strict=True, validate=_POSITIVE)
    efConstruction = fields.Integer(strict=True, validate=_POSITIVE)
    efSearch = fields.Integer(strict=True, validate=_POSITIVE)
    ann_threshold = fields.Integer(required=True, strict=True)

    @validates_schema
    def graph_settings_match_the_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        hnsw = data.get("type") == "IndexHNSWFlat"
        if hnsw and "efSearch" not in data:
            raise ValidationError("an HNSW index needs efSearch", "efSearch")
        if not hnsw and any(key in data for key in ("M", "efConstruction", "efSearch")):
            raise ValidationError(f"{data.get('type')} takes no HNSW settings", "efSearch")


class _Encoder(Schema):
    use_onnx = fields.Boolean(required=True)
    onnx_key = fields.String()
    onnx_file = fields.String()
    min_cosine_vs_torch = fields.Float()
    checked_texts = fields.Integer(strict=True)
    error = fields.String()


class _Document(Schema):
    doc_id = fields.String(required=True)
    path = fields.String(required=True)
    title = fields.String(required=True)
    fingerprint = fields.String(required=True)
    length = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class _Corpus(Schema):
    path = fields.String(required=True)
    files = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    warnings = fields.List(fields.String(), required=True)


class _Page(Schema):
    title = fields.String()
    examples = fields.List(fields.String())


class ManifestSchema(Schema):
    class Meta:
        unknown = RAISE

    format_version = fields.Integer(required=True, strict=True)
    version = fields.String(required=True, validate=validate.Regexp(r"^v-[\w.-]+$"))
    qa_version = fields.String(required=True)
    model = fields.Nested(_Model, required=True)
    encoder = fields.Nested(_Encoder, required=True)
    faiss_index = fields.Nested(_Faiss, required=True)
    chunking = fields.Dict(keys=fields.String(), required=True)
    lexical = fields.String(required=True)
    corpus = fields.Nested(_Corpus, required=True)
    page = fields.Nested(_Page, required=True)
    documents = fields.List(fields.Nested(_Document), required=True)
    passage_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    built_at = fields.String(required=True)
    build_seconds = fields.Float(required=True)
    checksums = fields.Dict(keys=fields.String(), values=fields.String(validate=_HEX64), required=True)


def first_problem(manifest: dict[str, Any]) -> str | None:
    """``None`` when the manifest has the expected shape, else one reason ("model.dimension:
    Not a valid integer.")."""
    errors = ManifestSchema().validate(manifest)
    if not errors:
        return None
    path, message = _first(errors)
    return f"{path}: {message}"


def _first(errors: Any, prefix: str = "") -> tuple[str, str]:
    if isinstance(errors, dict):
        key = sorted(errors, key=str)[0]
        name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
        return _first(errors[key], name)
    if isinstance(errors, list) and errors:
        return _first(errors[0], prefix) if not isinstance(errors[0], str) else (prefix, errors[0])
    return prefix, str(errors)
