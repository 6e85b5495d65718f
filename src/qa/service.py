"""Answer a question: the one place where a question meets the encoder and the index.

``QAService`` orchestrates only: the index and its reloads live in ``IndexHolder``
(reloading.py), ranking in search.py, the verdict in verdict.py, the cache is cachetools'
LRU. Requests reach it validated (schemas.py), as an ``AskRequest``. The encoder is chosen
when the first index loads (its verified ONNX export when it has one), so a missing index
is reported before any model is loaded.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from cachetools import LRUCache

from . import settings
from .embedding import ModelSpec, model_dimension
from .errors import BadRequest, IndexUnavailable, NotFound
from .facts import document_fact, subject_document
from .index.layout import version_folder, versions_built_after
from .index.load import LoadedIndex, load_index
from .query import Query, analyse, normalize
from .records import Answer, AskRequest, Citation, Passage
from .reloading import IndexHolder
from .search import Hit, highlight, rank
from .sections import document_section
from .verdict import METADATA_ANSWER, VERDICT_DEPTH, VerdictModel, features, load_model


class QAService:
    def __init__(
        self,
        index_dir: str,
        *,
        model: str | None = None,
        threads: int | None = None,
        cache_size: int = settings.default("cache_size"),
        reload_interval: float = settings.default("reload_interval"),
        embedder: Any = None,
        backend: str = "auto",
        on_reload: Callable[[], None] | None = None,
        verdict_model: str | None = None,
        answer_slots: int | None = None,
        milvus: Any = None,
    ):
        """``embedder``: used as is when given (tests, ``qa eval``); otherwise the encoder is
        chosen per ``backend`` (onnx_encoder.question_encoder) when an index loads."""
        self.index_dir = str(index_dir)
        # None in a serve-only install: the index's own model and ONNX encoder answer
        self.spec = embedder.spec if embedder is not None else ModelSpec.installed(model)
        self.embedder = embedder
        self.backend = backend
        self.threads = threads
        self.verdict_model: VerdictModel = load_model(verdict_model)
        self.milvus = milvus  # a milvus.store.MilvusStore: the index lives there, not in index_dir
        self.holder = IndexHolder(self.index_dir, self._load_index, interval=reload_interval, on_reload=on_reload,
                                  pointer=milvus.pointer if milvus is not None else None,
                                  fallbacks=None if milvus is not None else self._newer_versions)
        self._cache: LRUCache | None = LRUCache(cache_size) if cache_size > 0 else None
        self._cache_lock = threading.Lock()
        self._summaries: tuple[str | None, list[dict[str, Any]]] = (None, [])
        # the CPU-bound part (encode, rank) at most this many at a time; None: no bound
        self._slots = threading.BoundedSemaphore(answer_slots) if answer_slots else None

    def load(self, *, strict: bool = False) -> "QAService":
        """Load the index, then its encoder. An unusable index is recorded and reported by
        ``health()`` (a server waits for a good version), or raised when ``strict``."""
        self.holder.refresh(force=True, strict=strict)
        if self.holder.index is not None:
            _ = self._encoder(self.holder.index).model  # torch weights load now, before gunicorn forks
        return self

    def _newer_versions(self, refused: str | None, held: Any) -> list[str]:
        """The local versions built after the one held, newest first: when ``current`` is
        refused, a worker holding an older version (forked from a master that loaded it, after
        a HUP or a crash) catches up with the others instead of answering from the past."""
        built_at = held.manifest.get("built_at") if held is not None else None
        return versions_built_after(self.index_dir, built_at, exclude=refused)

    def _load_index(self, pointer: str | None) -> Any:
        """The version ``pointer`` names, read once by the holder: a collection behind the Milvus
        alias, or a version folder (``current`` itself when the index folder is one version)."""
        if self.milvus is not None:
            from .milvus.view import MilvusIndex

            collection = pointer
            if collection is None:
                raise IndexUnavailable(f"no index behind the Milvus alias {self.milvus.alias!r} at {self.milvus.uri}: "
                                       f"build one with `qa index build --milvus {self.milvus.uri} "
                                       f"--milvus-alias {self.milvus.alias}`")
            return MilvusIndex(self.milvus, collection, self._expected_model()[0])
        folder = version_folder(self.index_dir, pointer) if pointer else self.index_dir  # the one the holder read
        model_id, dimension = self._expected_model()
        return load_index(folder, expect_model_id=model_id, expect_dimension=dimension)

    def _expected_model(self) -> tuple[str | None, int | None]:
        """The model every version must be built with: the configured one, or on a serve-only
        install (no model package) the one of the first index loaded, whose encoder it keeps."""
        if self.spec is not None:
            return self.spec.model_id, model_dimension(self.spec)
        if self.embedder is None or self.holder.index is None:
            return None, None
        model = self.holder.index.manifest["model"]
        return model["id"], model["dimension"]

    def _encoder(self, index: LoadedIndex) -> Any:
        if self.embedder is None:
            from .onnx_encoder import question_encoder

            self.embedder = question_encoder(self.spec, index.folder, index.manifest, threads=self.threads,
                                             backend=self.backend)
        return self.embedder

    @property
    def index(self) -> LoadedIndex:
        """The index serving now; raises IndexUnavailable when there is none, or when its store
        (Milvus) did not answer the last look: a request then fails at once, not after another
        timeout of its own."""
        failure = self.holder.failure  # read once: a reload look may change it meanwhile
        if failure is not None:
            raise IndexUnavailable(failure[0], code=failure[1])
        return self.holder.require()

    def ask(self, request: AskRequest) -> Answer:
        started = time.perf_counter()
        index = self.index
        unknown = [d for d in request.doc_ids if d not in index.documents]
        if unknown:
            raise BadRequest(f"unknown doc_id {unknown[0]!r}; the ids are listed by /api/documents and `qa index info`",
                             code="bad_doc_id")
        key = (normalize(request.question), request.k, request.mode, request.doc_ids, index.version)
        found = self._cached(key)  # before the analysis: a hit needs no spelling or tokenizing
        cached = found is not None
        if found is None:
            query = analyse(request.question, index.speller)
            if self._slots is None:
                found = self._answer(index, query, request) + (query.corrected,)
            else:
                with self._slots:
                    found = self._answer(index, query, request) + (query.corrected,)
            self._remember(key, found)
        values, passages, fact, corrected = found
        confidence = self.verdict_model.confidence(values) if values else 0.0
        return Answer(request.question.strip(), request.k, request.mode, confidence,
                      self.verdict_model.verdict(confidence), list(passages), (time.perf_counter() - started) * 1000,
                      index_version=index.version, corrected=corrected, doc_ids=request.doc_ids, cached=cached,
                      features=values, document_fact=fact)

    def _cached(self, key: tuple) -> Any:
        if self._cache is None:
            return None
        with self._cache_lock:
            return self._cache.get(key)

    def _remember(self, key: tuple, value: Any) -> None:
        if self._cache is not None:
            with self._cache_lock:
                self._cache[key] = value

    def _answer(self, index: Any, query: Query, request: AskRequest) -> tuple[dict, tuple[Passage, ...], Any]:
        """The verdict's features (empty without a passage or fact), the passages and the
        document's fact a question about the document asks for. ``index.view`` is the index
        itself, or for Milvus a small index of the question's candidates. A question that looks
        up nothing ("?", "Who are they?") gets no passage, as a search engine's query analysed to
        no terms matches nothing: its vector is near any question's, and nothing is searched."""
        if query.looks_up_nothing:
            return {}, (), None
        vector = self._encoder(index).encode_one(query.search_text)
        view = index.view(query, vector, request.doc_ids)
        # the verdict compares the first passage with the second: rank two even when one is asked
        # for, so that the confidence never depends on k
        subject = subject_document(index.documents, view, query, request.doc_ids)  # "Who wrote it?": of which
        # "When was the CI post published?": passages of that post, not a council story's date
        searched = (subject,) if subject is not None and query.topic else request.doc_ids
        hits = rank(view, query, vector, max(request.k, VERDICT_DEPTH), request.mode, searched, subject)
        term_matches = view.sentence_lexical.term_matches(query.terms)
        passages = tuple(_passage(view, position, hit, highlight(view, hit, query, vector, term_matches))
                         for position, hit in enumerate(hits[:request.k], start=1))
        values = features(view, query, hits, subject) if hits else {}
        fact = document_fact(index.documents, query, subject)
        if fact is not None:
            values[METADATA_ANSWER] = 1.0
        return values, passages, fact

    def documents(self) -> list[dict[str, Any]]:
        """The served documents' summaries, made once per index version (every page shows them)."""
        index = self.index
        version, summaries = self._summaries
        if version != index.version:
            summaries = [d.summary() for d in index.documents.values()]
            self._summaries = (index.version, summaries)
        return summaries

    def document(self, doc_id: str) -> dict[str, Any]:
        document = self.index.documents.get(doc_id)
        if document is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return {**document.summary(), "text": document.text}

    def health(self) -> dict[str, Any]:
        """``index`` is None when nothing can answer: no usable version, or its store (Milvus)
        unreachable; ``error`` says why."""
        index = self.holder.index
        problem = self.holder.unreachable or (index.unavailable() if index is not None else None)
        usable = index is not None and problem is None
        return {
            "status": "ok" if usable else "unavailable",
            "index": index.summary() if usable else None,
            "error": problem or self.holder.error,
            "reloads": self.holder.reloads,
        }

    def refresh(self, force: bool = False) -> bool:
        """Swap in a new index version if ``current`` moved (see IndexHolder)."""
        return self.holder.refresh(force)


def _passage(index: LoadedIndex, position: int, hit: Hit, marked) -> Passage:
    chunk = index.chunks[hit.chunk_id]
    document = index.documents[chunk.doc_id]
    citation = Citation(
        doc_id=document.doc_id, title=document.title, author=document.author, publisher=document.publisher,
        published=document.published, source=document.source, paragraph=chunk.paragraph,
        start=chunk.start, end=chunk.end,
        section=document_section(document, chunk.start),
    )
    return Passage(rank=position, score=hit.score, text=chunk.text, citation=citation, highlight=marked,
                   scores={"dense": hit.dense, "sentence": hit.sentence, "bm25": hit.bm25})


def current_service() -> QAService:
    """The app's service (as flaskr's ``get_db``): made once by ``create_app``, never per
    request; each use first checks whether a new index version was published."""
    from flask import current_app

    service: QAService = current_app.extensions["qa"]
    service.refresh()
    return service
