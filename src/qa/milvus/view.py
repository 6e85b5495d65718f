"""Serve from Milvus: a version bound to its collection, and for each question a small
index of its candidates that the local ranking, verdict and highlight run on unchanged.

``view`` asks Milvus for the dense top-N and the BM25 top-N passages (``doc_id`` filter
pushed down, ``output_fields`` explicit), the exact BM25 and dense scores of the ones only
one list found, the vectors and texts of their sentences, and the anchor sentences' BM25
(b = 0); it renumbers them into a LoadedIndex holding only those candidates. FAISS over a
few hundred vectors is exact and takes microseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import IndexMismatch
from ..index.load import LoadedIndex, PassageFacts, assemble
from ..lexical import bm25_idf, tokenize
from ..query import Query
from ..records import Chunk, Document, Span
from ..settings import default
from ..spelling import Speller
from .store import DOCUMENT, FORMAT, PARTITIONS, PASSAGE, SENTENCE, SENTENCE_ID, MilvusStore

PASSAGE_FIELDS = ["id", "doc_id", "start", "end", "paragraph", "text", "info"]
SEARCHED = {"dense": PARTITIONS[PASSAGE], "bm25_passage": PARTITIONS[PASSAGE], "bm25_sentence": PARTITIONS[SENTENCE]}


class TermStats:
    """BM25 facts of the whole collection (document frequencies, from the build), and the
    candidates' scores: what search.py and verdict.py ask of a LexicalIndex."""

    def __init__(self, df: dict[str, int], documents: int, scores: np.ndarray | None = None,
                 terms: Sequence[frozenset[str]] | Callable[[], Sequence[frozenset[str]]] = ()):
        """``terms``: each text's terms, or a function making them when first asked (the
        passages' are only asked for by a question about a document that names its topic)."""
        self.df, self.documents, self._scores, self._terms = df, documents, scores, terms

    def knows(self, term: str) -> bool:
        return term in self.df

    def idf(self, term: str) -> float:
        return bm25_idf(self.df.get(term, 0), self.documents)

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        return self._scores

    def term_matches(self, terms: Sequence[str]) -> np.ndarray:
        if callable(self._terms):
            self._terms = self._terms()
        wanted = set(terms)
        return np.array([len(wanted & t) for t in self._terms], dtype=np.int32)


class MilvusIndex:
    def __init__(self, store: MilvusStore, collection: str, expect_model_id: str | None = None):
        self.store, self.collection = store, collection
        facts = store.facts(collection)
        if facts.get("format") != FORMAT:
            raise IndexMismatch(f"Milvus collection {collection} has format {facts.get('format')}, this qa reads "
                                f"format {FORMAT}: rebuild it with `qa index build --milvus`")
        if expect_model_id is not None and facts["model"]["id"] != expect_model_id:
            raise IndexMismatch(f"Milvus collection {collection} was built with model {facts['model']['id']!r} but "
                                f"this server uses {expect_model_id!r}")
        self.manifest = {**{k: v for k, v in facts.items() if k not in ("vocabulary", "df")},
                         "encoder": {"use_onnx": False}}
        self.folder = Path(".")
        self.speller = Speller(facts["vocabulary"])
        self.lexical = TermStats(facts["df"], facts["passage_count"])
        self.passage_facts = PassageFacts()  # each candidate's flags, made once, not per question
        self._sentence_terms: dict[str, frozenset[str]] = {}  # the same for sentences' BM25 terms
        self.documents = self._documents()

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def summary(self) -> dict[str, Any]:
        m = self.manifest
        return {"version": m["version"], "store": "milvus", "alias": self.store.alias, "collection": self.collection,
                "model": m["model"]["id"], "dimension": m["model"]["dimension"], "documents": len(self.documents),
                "passages": m["passage_count"], "built_at": m["built_at"]}

    def unavailable(self) -> str | None:
        return self.store.ping()

    def _documents(self) -> dict[str, Document]:
        texts: dict[str, list[str]] = {}
        summaries: dict[str, dict[str, Any]] = {}
        for row in self.store.parts(self.collection, DOCUMENT):
            texts.setdefault(row["doc_id"], []).append(row["body"])
            if "document" in row["info"]:
                summaries[row["doc_id"]] = row["info"]["document"]
        return {doc_id: Document(doc_id=doc_id, path=s["path"], title=s["title"], text="".join(texts[doc_id]),
                                 metadata=s["metadata"], fingerprint=s["fingerprint"])
                for doc_id, s in summaries.items()}

    def view(self, query: Query, vector: np.ndarray, doc_ids: tuple[str, ...] = ()) -> LoadedIndex:
        """A LoadedIndex of this question's candidates."""
        where = f"kind == {PASSAGE}" + (f" and doc_id in {json.dumps(list(doc_ids))}" if doc_ids else "")
        wanted = default("candidates")
        dense = {h["id"]: (h["distance"], h["entity"]) for h in self._search(vector.tolist(), "dense", wanted, where)}
        bm25 = {h["id"]: (abs(h["distance"]), h["entity"]) for h in self._search(query.search_text, "bm25_passage",
                                                                                   wanted, where)}
        rows = {**{i: e for i, (_, e) in bm25.items()}, **{i: e for i, (_, e) in dense.items()}}
        rows.update(self._bylines(query, where, wanted, {e["doc_id"] for e in rows.values()}))
        ids = sorted(rows)
        if not ids:
            return _empty(self)
        missing = [i for i in ids if i not in bm25]
        if missing:  # exact BM25 for the candidates only the dense list found
            bm25.update({h["id"]: (abs(h["distance"]), None) for h in self._search(
                query.search_text, "bm25_passage", len(missing), f"id in {missing}")})
        chunks = [_chunk(n, rows[i]) for n, i in enumerate(ids)]
        return self._assemble(query, ids, chunks, [rows[i]["info"]["rows"] for i in ids],
                              np.array([bm25.get(i, (0.0, None))[0] for i in ids], dtype=np.float32))

    def _bylines(self, query: Query, where: str, limit: int, documents: set[str]) -> dict[int, dict[str, Any]]:
        """For "Who wrote …?" and "When was … published?" the bylines too, as search.py adds
        them locally: "the article about the armistice" shares no word with "Write to Olivia B.
        Waxman", so neither search finds it in a large corpus (a collection built before the
        flag has none to add). A question naming a topic wants its document's byline: only the
        bylines of the candidates' ``documents``, where the best passage's document is."""
        if query.about not in ("author", "published") or (query.topic and not documents):
            return {}
        if query.topic:
            where += f" and doc_id in {json.dumps(sorted(documents))}"
        found = self.store.call("query", self.collection, filter=f'{where} and info["byline"] == true',
                                output_fields=PASSAGE_FIELDS, limit=max(limit, 4 * len(documents)))
        return {row["id"]: row for row in found}

    def _assemble(self, query: Query, ids: list[int], chunks: list[Chunk], sentence_rows: list[list[int]],
                  bm25: np.ndarray) -> LoadedIndex:
        import faiss

        distinct = sorted({r for rows in sentence_rows for r in rows})
        local = {r: n for n, r in enumerate(distinct)}
        # one round trip for the passages' vectors and their sentences' texts and vectors
        fetched = {row["id"]: row for row in self.store.call("get", self.collection,
                                                            ids=ids + [SENTENCE_ID + r for r in distinct],
                                                            output_fields=["id", "text", "dense"])}
        vectors = np.array([fetched[i]["dense"] for i in ids], dtype=np.float32)
        texts = [fetched[SENTENCE_ID + r]["text"] for r in distinct]
        sentence_vectors = np.array([fetched[SENTENCE_ID + r]["dense"] for r in distinct], dtype=np.float32)
        anchors = sorted({rows[a] for rows, c in zip(sentence_rows, chunks) for a in c.anchors})
        anchor_bm25 = {h["id"] - SENTENCE_ID: abs(h["distance"]) for h in self._search(
            query.search_text, "bm25_sentence", len(anchors), f"id in {[SENTENCE_ID + r for r in anchors]}")}
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        documents = {c.doc_id: self.documents[c.doc_id] for c in chunks}
        return assemble(self.folder, self.manifest, documents, chunks, flat,
                        TermStats(self.lexical.df, self.lexical.documents, bm25,
                                  lambda: self._terms_of([c.text for c in chunks])),
                        TermStats(self.lexical.df, self.lexical.documents,
                                  np.array([anchor_bm25.get(r, 0.0) for r in distinct], dtype=np.float32),
                                  self._terms_of(texts)),
                        sentence_vectors, np.array([local[r] for rows in sentence_rows for r in rows]),
                        self.speller, self.passage_facts)

    def _terms_of(self, texts: list[str]) -> list[frozenset[str]]:
        """Each text's BM25 terms (a sentence's for the highlight, a passage's for a topic), tokenized once."""
        if len(self._sentence_terms) > self.passage_facts.limit:
            self._sentence_terms = {}
        known = self._sentence_terms  # one dict for this call, whatever another thread clears meanwhile
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            known.update(zip(new, map(frozenset, tokenize(new))))
        return [known[t] for t in texts]

    def _search(self, data: Any, field: str, limit: int, where: str) -> list[dict[str, Any]]:
        metric = "IP" if field == "dense" else "BM25"
        return self.store.call("search", self.collection, data=[data], anns_field=field, limit=max(1, limit),
                               filter=where, output_fields=PASSAGE_FIELDS,
                               search_params={"metric_type": metric}, partition_names=[SEARCHED[field]])[0]


def _chunk(number: int, row: dict[str, Any]) -> Chunk:
    info = row["info"]
    return Chunk(chunk_id=number, doc_id=row["doc_id"], paragraph=int(row["paragraph"]), start=int(row["start"]),
                 end=int(row["end"]), text=row["text"], sentences=tuple(Span(a, b) for a, b in info["sentences"]),
                 anchors=tuple(info["anchors"]))


def _empty(index: MilvusIndex) -> LoadedIndex:
    import faiss

    dimension = index.manifest["model"]["dimension"]
    none = TermStats(index.lexical.df, index.lexical.documents, np.zeros(0, dtype=np.float32))
    return assemble(index.folder, index.manifest, {}, [], faiss.IndexFlatIP(dimension), none, none,
                    np.zeros((0, dimension), dtype=np.float32), np.zeros(0, dtype=np.int64), index.speller)

