"""Build a version into Milvus: chunked and embedded exactly as the local index, written to
a new collection, verified (row counts of every kind, a dense and a BM25 probe), and only
then made the one served by switching the alias. A build that fails anywhere before the
switch drops its collection and leaves the alias as it was."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ..chunking import ChunkingParams
from ..corpus import Corpus
from ..index.build import Embedded, embed_corpus
from ..index.load import chunk_facts, offsets_of
from ..lexical import LEXICAL_ANALYZER, K1, PASSAGE_B, SENTENCE_B, tokenize
from ..settings import default
from ..spelling import vocabulary
from .store import (DOCUMENT, DOCUMENT_ID, FORMAT, PARTITIONS, PASSAGE, SENTENCE, SENTENCE_ID, MilvusStore,
                    MilvusUnavailable, analyzer, blank_row, facts_rows, split)

BATCH = 500


def build_milvus(corpus: Corpus, corpus_dir: str, store: MilvusStore, embedder: Any, params: ChunkingParams, *,
                 count_tokens: Any = None, progress: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    embedded = embed_corpus(corpus, embedder, params, count_tokens, progress)
    version = "v-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    collection = f"{store.alias}_{version.replace('-', '_')}"
    dimension = int(embedded.vectors.shape[1])
    facts = _facts(corpus, corpus_dir, embedder, embedded, params, version, collection)
    create_collection(store, collection, dimension)
    try:
        for batch in _batches(_rows(corpus, embedded, facts, dimension)):
            store.call("insert", collection, batch, partition_name=PARTITIONS[batch[0]["kind"]])
        store.call("flush", collection)
        store.call("create_index", collection, _index_params(store, len(embedded.chunks)))
        store.call("load_collection", collection)
        _verify(store, collection, corpus, embedded)
    except BaseException:
        try:
            store.call("drop_collection", collection)
        except MilvusUnavailable:
            pass
        raise
    store.switch(collection)  # outside the try: once the alias moved, this collection is the one served
    facts["build_seconds"] = round(time.perf_counter() - started, 3)
    return {key: value for key, value in facts.items() if key not in ("vocabulary", "df")}


def create_collection(store: MilvusStore, name: str, dimension: int) -> None:
    from bm25s.stopwords import STOPWORDS_EN
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    for name_ in ("start", "end", "paragraph"):
        schema.add_field(name_, DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                     analyzer_params=analyzer(list(STOPWORDS_EN)))
    schema.add_field("body", DataType.VARCHAR, max_length=65_535)
    schema.add_field("info", DataType.JSON)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("bm25_passage", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("bm25_sentence", DataType.SPARSE_FLOAT_VECTOR)
    for output in ("bm25_passage", "bm25_sentence"):
        schema.add_function(Function(name=f"{output}_fn", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=[output]))
    store.call("create_collection", name, schema=schema)
    for partition in PARTITIONS.values():
        store.call("create_partition", name, partition)


def _index_params(store: MilvusStore, passages: int) -> Any:
    index = store.client.prepare_index_params()
    if passages > default("ann_threshold"):  # as FAISS: exact up to the threshold, HNSW above
        index.add_index(field_name="dense", index_type="HNSW", metric_type="IP", params={"params": {
            "M": default("hnsw_m"), "efConstruction": default("hnsw_ef_construction")}})
    else:
        index.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    # nested "params": pymilvus flattens a plain dict, and Milvus then drops k1 and b silently
    index.add_index(field_name="bm25_passage", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"params": {"bm25_k1": K1, "bm25_b": PASSAGE_B}})
    index.add_index(field_name="bm25_sentence", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"params": {"bm25_k1": K1, "bm25_b": SENTENCE_B}})
    index.add_index(field_name="doc_id", index_type="INVERTED")
    index.add_index(field_name="kind", index_type="INVERTED")
    return index


def _facts(corpus: Corpus, corpus_dir: str, embedder: Any, embedded: Embedded, params: ChunkingParams,
           version: str, collection: str) -> dict[str, Any]:
    """What the local manifest and vocabulary hold, for servers that only see Milvus."""
    df: dict[str, int] = {}
    for terms in tokenize([c.text for c in embedded.chunks]):
        for term in set(terms):
            df[term] = df.get(term, 0) + 1
    return {"format": FORMAT, "version": version, "collection": collection,
            "model": {"id": embedder.spec.model_id, "dimension": int(embedded.vectors.shape[1])},
            "chunking": params.to_json(), "lexical": LEXICAL_ANALYZER, "page": corpus.page,
            "corpus": {"path": str(Path(corpus_dir).resolve()), "files": corpus.files},
            "passage_count": len(embedded.chunks), "sentence_count": len(embedded.sentences),
            "documents": [d.summary() for d in corpus.documents],
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "vocabulary": vocabulary([d.text for d in corpus.documents]), "df": df}


def _rows(corpus: Corpus, embedded: Embedded, facts: dict[str, Any], dimension: int) -> Iterator[dict[str, Any]]:
    offsets = offsets_of(embedded.chunks)
    for c, vector, first in zip(embedded.chunks, embedded.vectors, offsets):
        rows = [int(r) for r in embedded.sentence_rows[first : first + len(c.sentences)]]
        yield blank_row(c.chunk_id, PASSAGE, dimension, doc_id=c.doc_id, start=c.start, end=c.end,
                        paragraph=c.paragraph, text=c.text, dense=vector.tolist(),
                        info={"sentences": [list(s) for s in c.sentences], "rows": rows, "anchors": list(c.anchors),
                              # filterable: "Who wrote the article about X?" asks for bylines sharing no word with X
                              "byline": chunk_facts(c)[1]})
    for row, (text, vector) in enumerate(zip(embedded.sentences, embedded.sentence_vectors)):
        yield blank_row(SENTENCE_ID + row, SENTENCE, dimension, text=text, dense=vector.tolist())
    number = 0
    for document in corpus.documents:
        summary = {k: v for k, v in document.summary().items() if k != "length"}
        for part, text in enumerate(split(document.text)):
            yield blank_row(DOCUMENT_ID + number, DOCUMENT, dimension, doc_id=document.doc_id, body=text,
                            info={"part": part, **({"document": summary} if part == 0 else {})})
            number += 1
    yield from facts_rows(facts, dimension)


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Up to BATCH rows of one kind (one partition) each."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        if batch and (len(batch) == BATCH or row["kind"] != batch[0]["kind"]):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _verify(store: MilvusStore, collection: str, corpus: Corpus, embedded: Embedded) -> None:
    """Every row arrived, and both searches find the first passage by its own vector and text."""
    expected = {PASSAGE: len(embedded.chunks), SENTENCE: len(embedded.sentences),
                DOCUMENT: sum(len(split(d.text)) for d in corpus.documents)}
    for kind, count in expected.items():
        found = store.count(collection, kind)
        if found != count:
            raise MilvusUnavailable(f"{collection}: {found} rows of kind {kind} instead of {count}; the alias stays")
    probe = store.call("search", collection, data=[embedded.vectors[0].tolist()], anns_field="dense", limit=1,
                       filter=f"kind == {PASSAGE}", output_fields=["id"], search_params={"metric_type": "IP"},
                       partition_names=[PARTITIONS[PASSAGE]])[0]
    text = store.call("search", collection, data=[embedded.chunks[0].text], anns_field="bm25_passage", limit=5,
                      filter=f"kind == {PASSAGE}", output_fields=["id"], search_params={"metric_type": "BM25"},
                      partition_names=[PARTITIONS[PASSAGE]])[0]
    if not probe or probe[0]["id"] != 0 or 0 not in [hit["id"] for hit in text]:
        raise MilvusUnavailable(f"{collection}: the probe queries do not find the first passage; the alias stays")
