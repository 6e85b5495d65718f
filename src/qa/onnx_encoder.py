"""The question encoder used when serving: the model exported once to ONNX and run with
onnxruntime plus the model's own fast tokenizer, with the same mean pooling and
normalization as sentence-transformers.

It answers a question in about 7 ms instead of 12-19 ms on torch, and the server never
imports torch (start-up in about a second). The export happens at index build (it needs
torch); the build checks the ONNX vectors against torch's on every passage and sentence
(min cosine recorded in the manifest) and falls back to torch when they drift below
``ONNX_MIN_COSINE``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .embedding import Embedder, ModelSpec, set_offline_environment
from .errors import ModelError
from .index.layout import ENCODERS

log = logging.getLogger(__name__)

ONNX_MIN_COSINE = 0.9999
ONNX_CHECK_TEXTS = 2000  # texts compared torch vs ONNX at build (all of them in small corpora)
ONNX_FILE = "model.onnx"
# copied beside the ONNX file: a server answers from the index folder alone, without the model
# package (which pulls torch); see the serve-only install in the README. Only what OnnxEncoder
# reads: the tokenizer and max_seq_length (its mean pooling is its own, checked against torch at build).
TOKENIZER_FILES = ("tokenizer.json", "sentence_bert_config.json")


def _max_seq_length(folder: Path) -> int:
    config = Path(folder) / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256


def export_onnx(spec: ModelSpec, target: Path) -> Path:
    """Export the transformer to ONNX once (needs torch and onnx: build time only).

    Written to a temporary name and renamed, so a concurrent reader never sees half a file.
    """
    set_offline_environment()
    import torch
    from transformers import AutoModel, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(spec.path, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(spec.path, local_files_only=True)
    sample = tokenizer(["a question", "a somewhat longer passage of text"], padding=True, return_tensors="pt")

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    axes = {0: "batch", 1: "tokens"}
    temporary = target.with_name(target.name + f".tmp-{os.getpid()}")
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer warns about shape checks it freezes; the build verifies the result
        # against torch on the corpus (min cosine in the manifest), so they are noise here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(temporary),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17,
            dynamo=False,
        )
    os.replace(temporary, target)
    return target


class OnnxEncoder:
    """Question encoder on onnxruntime: same tokenizer, pooling and normalization as torch.

    The session is created lazily in each process (gunicorn workers fork after the app is
    loaded, and thread pools do not survive a fork).
    """

    def __init__(self, folder: Path, *, threads: int | None = None):
        """``folder``: the encoder folder of an index (``model.onnx`` and the tokenizer files)."""
        self.folder = Path(folder)
        self.onnx_path = self.folder / ONNX_FILE
        self.threads = threads or 1
        self._session = None
        self._pid = None
        if not self.onnx_path.is_file() or not (self.folder / "tokenizer.json").is_file():
            raise ModelError(f"{self.folder} lacks {ONNX_FILE} or tokenizer.json; rebuild the index to export the "
                             "ONNX encoder")
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_seq_length(self.folder))
        self._tokenizer.enable_padding()

    def _get_session(self):
        if self._session is None or self._pid != os.getpid():
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(str(self.onnx_path), options,
                                                         providers=["CPUExecutionProvider"])
            self._pid = os.getpid()
        return self._session

    @property
    def model(self) -> "OnnxEncoder":
        """Parity with Embedder. Deliberately does *not* start a session: the gunicorn
        master must never touch onnxruntime, or forked workers inherit its threads and
        abort at exit; each process starts its own session on first use."""
        return self

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        session = self._get_session()
        parts = []
        for begin in range(0, len(texts), batch_size):
            encodings = self._tokenizer.encode_batch(list(texts[begin : begin + batch_size]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            parts.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def prepare_onnx_encoder(embedder: Any, encoders: Path, texts: list[str], reference: np.ndarray) -> dict[str, Any]:
    """Export the ONNX question encoder once per model and check it against torch.

    Returns the manifest's ``encoder`` entry; ``use_onnx`` is false (queries then use
    torch) when the export is impossible or its vectors drift from torch's."""
    spec = embedder.spec
    weights = sorted((p.name, p.stat().st_size) for p in Path(spec.path).glob("*") if p.is_file())
    key = hashlib.sha256(f"{spec.model_id}|{weights}".encode()).hexdigest()[:16]
    target = encoders / key / ONNX_FILE
    try:
        if not target.is_file():
            export_onnx(spec, target)
        _copy_tokenizer(Path(spec.path), target.parent)
        count = min(len(texts), ONNX_CHECK_TEXTS)
        vectors = OnnxEncoder(target.parent).encode(texts[:count])
        min_cosine = float(np.min(np.sum(vectors * reference[:count], axis=1))) if count else 1.0
    except Exception as exc:  # no onnx package, exporter change...: serve with torch instead
        log.warning("ONNX question encoder unavailable, queries will use torch: %s", exc)
        return {"use_onnx": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    use = min_cosine >= ONNX_MIN_COSINE
    if not use:
        log.warning("ONNX encoder differs from torch (min cosine %.6f); queries will use torch", min_cosine)
    return {"use_onnx": use, "onnx_key": key, "onnx_file": str(target.resolve()),
            "min_cosine_vs_torch": round(min_cosine, 7), "checked_texts": count}


def _copy_tokenizer(model: Path, folder: Path) -> None:
    for name in TOKENIZER_FILES:
        source, target = model / name, folder / name
        if source.is_file() and not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + f".tmp-{os.getpid()}")
            shutil.copyfile(source, partial)
            os.replace(partial, target)


def onnx_encoder_folder(folder: Path, manifest: dict[str, Any]) -> Path | None:
    """The ONNX encoder folder of this index version, if it has a usable one: beside the
    version (``../encoders/<key>``, so a copied index folder keeps working), else where built."""
    encoder = manifest.get("encoder") or {}
    if not encoder.get("use_onnx"):
        return None
    for candidate in (folder.parent / ENCODERS / str(encoder.get("onnx_key")),
                      Path(str(encoder.get("onnx_file"))).parent):
        if (candidate / ONNX_FILE).is_file() and (candidate / "tokenizer.json").is_file():
            return candidate
    return None


def question_encoder(spec: ModelSpec | None, folder: Path, manifest: dict[str, Any], *, threads: int | None,
                     backend: str = "auto") -> "OnnxEncoder | Embedder":
    """``auto``: the index's verified ONNX encoder when it has one (no torch, no model
    package in the server), else torch; ``torch`` forces torch."""
    onnx_folder = onnx_encoder_folder(folder, manifest) if backend == "auto" else None
    if onnx_folder is not None:
        log.info("answering with the ONNX encoder in %s", onnx_folder)
        return OnnxEncoder(onnx_folder, threads=threads)
    if spec is None:
        raise ModelError("this index has no ONNX question encoder and the model is not installed: rebuild it "
                         "with the ONNX export, or install the build extra: pip install 'qa[build]'")
    log.info("answering with the torch encoder")
    return Embedder(spec, threads=threads)
