"""Answer a question: the one place where a question meets the embedder and the index.

``QAService`` owns the model and the loaded index for the life of the process (loaded
once, never per request). Every request takes one reference to the current index and
uses only it, so a live reload (a new ``current`` version) can never mix two indexes
in one answer. A new version is loaded and verified in full before it replaces the old
one; one that fails verification is refused, logged and reported by ``health()``,
while the old index keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections import OrderedDict
from typing import Any

from .embedding import Embedder, ModelSpec, OnnxEncoder
from .errors import BadQuestion, IndexUnavailable, NotFound
from .index import LoadedIndex, current_version, load_index, onnx_encoder_file, read_manifest, resolve_folder
from .judge import is_answered
from .records import Answer, Citation, Passage
from .search import DEFAULT_MODE, MODES, highlight, rank

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
MAX_K = 20
DEFAULT_K = 5


def check_question(question: Any) -> str:
    if not isinstance(question, str):
        raise BadQuestion("question must be a string")
    if any((unicodedata.category(ch) == "Cc" and ch not in "\t\n\r") or unicodedata.category(ch) == "Cs"
           for ch in question):
        raise BadQuestion("question contains control characters (such as NUL) or unpaired surrogates")
    stripped = question.strip()
    if not stripped:
        raise BadQuestion("question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return stripped


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadQuestion(f"k must be an integer from 1 to {MAX_K}", code="bad_k")
    return k


def check_mode(mode: Any) -> str:
    if mode not in MODES:
        raise BadQuestion(f"mode must be one of {', '.join(MODES)}", code="bad_mode")
    return mode


def cache_key(question: str) -> str:
    """Questions that differ only in case, width or spacing share one cache entry."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


class AnswerCache:
    """A bounded LRU of ranked answers, keyed by normalized question, k, mode and index
    version (so a reload never serves an old index's answer), with hit/miss counters."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        if self.maxsize <= 0:
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def info(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "size": len(self._entries), "maxsize": self.maxsize}


class QAService:
    def __init__(
        self,
        index_dir: str,
        *,
        model: str | None = None,
        threads: int | None = None,
        cache_size: int = 1024,
        reload_check_seconds: float = 1.0,
        embedder: Embedder | None = None,
        backend: str = "auto",
    ):
        """``backend``: ``auto`` answers with the index's ONNX encoder when it has a
        verified one (no torch in the server), else torch; ``torch`` forces torch.
        An ``embedder`` given explicitly is used as is (tests, ``qa eval``)."""
        self.index_dir = str(index_dir)
        self.spec = embedder.spec if embedder is not None else ModelSpec.resolve(model)
        self.embedder = embedder
        self.backend = backend
        self.threads = threads
        self._index: LoadedIndex | None = None
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._loaded_pointer: str | None = None
        self._failed_pointer: str | None = None
        self._reload_check_seconds = reload_check_seconds
        self._last_check = 0.0
        self.last_error: str | None = None
        self.reloads = 0
        self.cache = AnswerCache(cache_size)

    # -- lifecycle -----------------------------------------------------------------------
    def load(self) -> "QAService":
        """Load the encoder, then the index; an unusable index is recorded, not raised."""
        if self.embedder is None:
            self.embedder = self._choose_encoder()
        _ = self.embedder.model
        self.dimension = self.embedder.dimension
        pointer = current_version(self.index_dir)
        if not self._try_load(pointer):
            self._failed_pointer = pointer
        return self

    def _choose_encoder(self):
        if self.backend == "auto":
            try:
                folder = resolve_folder(self.index_dir)
                onnx_file = onnx_encoder_file(folder, read_manifest(folder))
            except IndexUnavailable:
                onnx_file = None
            if onnx_file is not None:
                log.info("answering with the ONNX encoder %s", onnx_file)
                return OnnxEncoder(self.spec, onnx_file, threads=self.threads)
        log.info("answering with the torch encoder")
        return Embedder(self.spec, threads=self.threads)

    def _try_load(self, version: str | None) -> bool:
        try:
            index = load_index(self.index_dir, expect_model_id=self.spec.model_id, expect_dimension=self.dimension)
        except IndexUnavailable as exc:
            self.last_error = exc.message
            log.error("index refused: %s", exc.message)
            return False
        with self._lock:
            self._index = index
            self._loaded_pointer = version
            self.last_error = None
        log.info("index %s loaded: %d passages", index.version, len(index.chunks))
        return True

    def maybe_reload(self, force: bool = False) -> bool:
        """Cheap check (one readlink, at most every ``reload_check_seconds``); swap if the
        ``current`` pointer moved. Returns True when a new index was swapped in."""
        now = time.monotonic()
        if not force and now - self._last_check < self._reload_check_seconds:
            return False
        self._last_check = now
        pointer = current_version(self.index_dir)
        if not force:
            if pointer is None and self._index is not None:
                return False  # pointer vanished (someone deleting by hand): keep serving
            if self._index is not None and pointer == self._loaded_pointer:
                return False
            if pointer is not None and pointer == self._failed_pointer:
                return False  # already refused this version; don't re-verify on every request
        with self._reload_lock:
            if self._index is not None and pointer == self._loaded_pointer and not force:
                return False
            if self._try_load(pointer):
                self.reloads += 1
                self._failed_pointer = None
                return True
            self._failed_pointer = pointer
            return False

    @property
    def index(self) -> LoadedIndex:
        index = self._index
        if index is None:
            raise IndexUnavailable(self.last_error or f"no usable index in {self.index_dir}")
        return index

    # -- questions -----------------------------------------------------------------------
    def ask(self, question: Any, k: Any = DEFAULT_K, mode: Any = DEFAULT_MODE) -> Answer:
        started = time.perf_counter()
        question = check_question(question)
        k, mode = check_k(k), check_mode(mode)
        index = self.index
        key = (cache_key(question), k, mode, index.version)
        result = self.cache.get(key)
        cached = result is not None
        if result is None:
            result = self._rank(index, question, k, mode)
            self.cache.put(key, result)
        passages, answered = result
        return Answer(question, k, mode, answered, list(passages), (time.perf_counter() - started) * 1000,
                      index_version=index.version, cached=cached)

    def _rank(self, index: LoadedIndex, question: str, k: int, mode: str) -> tuple[tuple[Passage, ...], bool]:
        vector = self.embedder.encode_one(question)
        hits = rank(index, question, vector, k, mode)
        answered = is_answered(index, question, hits)
        passages = []
        for position, hit in enumerate(hits, start=1):
            chunk = index.chunks[hit.chunk_id]
            document = index.documents[chunk.doc_id]
            citation = Citation(
                doc_id=document.doc_id, title=document.title, author=document.author,
                publisher=document.publisher, published=document.published, source=document.source,
                paragraph=chunk.paragraph, start=chunk.start, end=chunk.end,
            )
            passages.append(
                Passage(
                    rank=position, score=hit.score, text=chunk.text, citation=citation,
                    highlight=highlight(index, hit, question, vector),
                    scores={"dense": hit.dense, "sentence": hit.sentence, "bm25": hit.bm25},
                )
            )
        return tuple(passages), answered

    # -- documents -----------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        return [d.summary() for d in self.index.documents.values()]

    def document(self, doc_id: str) -> dict[str, Any]:
        document = self.index.documents.get(doc_id)
        if document is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return {**document.summary(), "text": document.text}

    def health(self) -> dict[str, Any]:
        index = self._index
        return {
            "status": "ok" if index is not None else "unavailable",
            "index": index.summary() if index is not None else None,
            "error": self.last_error,
            "reloads": self.reloads,
        }
