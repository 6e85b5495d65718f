"""The Milvus side of an index: the collection's schema, building a version into it and
switching the alias, and every call made with a timeout and its failures translated.

Rows, by ``kind``: 0 a passage (window) with its citation fields, its sentences' spans,
rows and anchors (``info``); 1 a distinct sentence; 2 a part of a document's canonical
text with its metadata; 3 a part of the index's facts (model, chunking, page settings,
vocabulary, term statistics). Every row has the same fields (Milvus wants them all).

Each kind lives in its own partition (``PARTITIONS``), and every search names the partition
it reads: Milvus counts every row it searches in BM25's statistics, empty text included
(document count, average length), so passages, sentences and the rest must not share one.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from ..errors import IndexUnavailable

log = logging.getLogger(__name__)

SENTENCE_ID, DOCUMENT_ID, FACTS_ID = 1_000_000_000, 2_000_000_000, 3_000_000_000
PASSAGE, SENTENCE, DOCUMENT, FACTS = 0, 1, 2, 3
PARTITIONS = {PASSAGE: "passages", SENTENCE: "sentences", DOCUMENT: "documents", FACTS: "facts"}
FORMAT = 2  # 2: a partition per kind (1 mixed them, and BM25's statistics with them)
PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: 16,000 characters of UTF-8 always fit
TIMEOUT = 10.0  # seconds, on every call (pymilvus's client timeout only bounds connecting)
KEEP_COLLECTIONS = 2  # the version served and the one before it, for a rollback


class MilvusUnavailable(IndexUnavailable):
    code = "milvus_unavailable"


def analyzer(stopwords: list[str]) -> dict[str, Any]:
    """As close to bm25s's analyzer as Milvus allows: a cluster applies all of it; milvus-lite
    only lowercases and drops the stop words (it ignores asciifolding and the stemmer)."""
    return {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", {"type": "stop", "stop_words": stopwords},
                                                {"type": "stemmer", "language": "english"}]}


class MilvusStore:
    def __init__(self, uri: str, *, token: str = "", alias: str = "qa", timeout: float = TIMEOUT):
        self.uri, self.token, self.alias, self.timeout = uri, token, alias, timeout
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from pymilvus import MilvusClient

            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # we report failures ourselves, once
            self._client = self._translated(lambda: MilvusClient(uri=self.uri, token=self.token, timeout=self.timeout))
        return self._client

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One client call with a timeout; a collection left released by a Milvus restart
        is loaded again and the call retried once. Failures become MilvusUnavailable."""
        return self._reloading(args[0] if args else None,
                               lambda: getattr(self.client, method)(*args, timeout=self.timeout, **kwargs))

    def _reloading(self, collection: str | None, run: Callable[[], Any]) -> Any:
        """``run``, and once more after loading ``collection`` again if Milvus says it is released."""
        from pymilvus.exceptions import MilvusException

        try:
            return self._translated(run, keep=MilvusException)
        except MilvusException as exc:
            if exc.code == 101 and collection:  # "collection ... is in state 'released'" after a restart
                self._translated(lambda: self.client.load_collection(collection, timeout=60))
                return self._translated(run)
            raise self._unavailable(exc) from None

    def _translated(self, run: Callable[[], Any], keep: type | None = None) -> Any:
        import grpc
        from pymilvus.exceptions import MilvusException

        try:
            return run()
        except MilvusException as exc:
            if keep is not None:
                raise
            raise self._unavailable(exc) from None
        except (grpc.RpcError, OSError) as exc:  # a timeout against a hung server is a raw gRPC error
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: BaseException) -> MilvusUnavailable:
        reason = getattr(exc, "message", None) or (exc.details() if hasattr(exc, "details") else str(exc))
        return MilvusUnavailable(f"Milvus at {self.uri}: {str(reason).splitlines()[0][:200]}")

    def pointer(self) -> str | None:
        """The collection the alias names (``None`` before the first build): ``current``."""
        from pymilvus.exceptions import MilvusException

        try:
            return self._translated(lambda: self.client.describe_alias(self.alias, timeout=self.timeout),
                                    keep=MilvusException)["collection_name"]
        except MilvusException as exc:
            if exc.code == 100 or "does not exist" in str(exc):
                return None
            raise self._unavailable(exc) from None

    def ping(self) -> str | None:
        """``None`` when Milvus answers, else why not."""
        try:
            self.pointer()
        except MilvusUnavailable as exc:
            return exc.message
        return None

    def switch(self, collection: str) -> None:
        """Point the alias at ``collection`` (atomic), then drop all but KEEP_COLLECTIONS."""
        previous = self.pointer()
        if previous is None:
            self.call("create_alias", collection, self.alias)
        else:
            self.call("alter_alias", collection, self.alias)
        keep = {collection, previous}
        mine = sorted(c for c in self.call("list_collections") if c.startswith(f"{self.alias}_v_"))
        for name in mine:
            if name not in keep and name < collection:
                self.drop(name)

    def drop(self, collection: str) -> None:
        if self.pointer() == collection:  # never the one served (milvus-lite would drop the alias with it)
            return
        self.call("release_collection", collection)
        self.call("drop_collection", collection)

    def remove(self) -> None:
        """Drop the alias and every collection of it (``qa eval``'s temporary indexes)."""
        if self.pointer() is not None:
            self.call("drop_alias", self.alias)
        for name in self.call("list_collections"):
            if name.startswith(f"{self.alias}_v_"):
                self.call("release_collection", name)
                self.call("drop_collection", name)

    def count(self, collection: str, kind: int) -> int:
        rows = self.call("query", collection, filter=f"kind == {kind}", output_fields=["count(*)"],
                         partition_names=[PARTITIONS[kind]])
        return int(rows[0]["count(*)"])

    def facts(self, collection: str) -> dict[str, Any]:
        """The build's facts (the local manifest's counterpart: model, chunking, corpus files…)."""
        return json.loads("".join(row["body"] for row in self.parts(collection, FACTS)))

    def parts(self, collection: str, kind: int, filter_: str = "") -> list[dict[str, Any]]:
        """Rows of a kind split in parts (documents, facts), in order. Filtered by kind, not by
        partition: a collection of an older format has none, and must still say which it is."""
        condition = f"kind == {kind}" + (f" and {filter_}" if filter_ else "")

        def read_all() -> list[dict[str, Any]]:  # a plain query stops at 16,384 rows: iterate
            batches = self.client.query_iterator(collection, batch_size=4096, filter=condition, timeout=self.timeout,
                                                 output_fields=["id", "doc_id", "body", "info"])
            rows: list[dict[str, Any]] = []
            try:
                while batch := batches.next():
                    rows.extend(batch)
            finally:
                batches.close()
            return rows

        return sorted(self._reloading(collection, read_all), key=lambda r: r["id"])


def split(text: str) -> list[str]:
    return [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]


def facts_rows(facts: dict[str, Any], dimension: int) -> list[dict[str, Any]]:
    body = json.dumps(facts, ensure_ascii=False)
    return [blank_row(FACTS_ID + n, FACTS, dimension, body=part, info={"part": n})
            for n, part in enumerate(split(body))]


def blank_row(row_id: int, kind: int, dimension: int, **fields: Any) -> dict[str, Any]:
    row = {"id": row_id, "kind": kind, "doc_id": "", "start": 0, "end": 0, "paragraph": 0, "text": "", "body": "",
           "info": {}, "dense": [0.0] * dimension}
    row.update(fields)
    return row
