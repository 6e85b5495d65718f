"""Milvus as the index store, for corpora past one machine (``--milvus URI``).

The same windows, sentence vectors and BM25 as the local index, in one Milvus collection
per version (``store.py``): passages and distinct sentences as rows (each with its dense
vector and two BM25 full-text fields over its text: b = 0.75 for passages, b = 0 for
sentences), the documents and the index's own facts (vocabulary, term statistics, page
settings) as rows beside them. An alias (``qa`` unless told) names the version served and
plays the role of ``index/current``: a build switches it atomically once the new collection
is complete and verified.

Serving (``view.py``) asks Milvus for the candidates — dense top-N and BM25 top-N, the
``doc_id`` filter pushed down, ``output_fields`` always explicit — and hands them to the
same fusion, priors, verdict and highlight as the local index, so answers keep their shape
and their citations stay exact. pymilvus is the only client: the same code talks to a
Milvus cluster (``http://host:19530`` with a token) and to ``milvus-lite server``.
"""
