"""The index folder: built offline (``build``), its on-disk format and checks (``layout``),
read back for serving (``load``). The only package that imports faiss.

Layout of ``--index DIR``::

    DIR/current -> v-20261127T105501-3f2a1c   (symlink, swapped atomically)
    DIR/encoders/<key>/model.onnx   the ONNX question encoder, exported once per model
    DIR/v-.../manifest.json         format version, model, dimension, chunking, fingerprints, checksums
    DIR/v-.../vectors.faiss         FAISS's own format; row i = chunk i (the window embedding)
    DIR/v-.../chunks.jsonl          one chunk (window) per line, line i = row i
    DIR/v-.../documents.jsonl       documents with their canonical text (citations are checkable)
    DIR/v-.../sentences.npy         one embedding per distinct sentence (float16)
    DIR/v-.../sentence_rows.npy     for every sentence slot of every chunk, in order: its row in sentences.npy
    DIR/v-.../bm25/                 bm25s's JSON and .npy files over the chunks
    DIR/v-.../bm25_sentences/       the same over the distinct sentences (b = 0)
    DIR/v-.../vocabulary.json       the corpus's words with their counts (spelling.py corrects towards them)

A build writes everything into ``DIR/.tmp-*``, renames it to ``DIR/v-*`` and only then
points ``current`` at it with ``os.replace`` on a symlink, which is atomic: a failed or
killed build leaves the previous index in place, and a server that has the old version
loaded keeps serving it.
"""
