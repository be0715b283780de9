"""Term counts of the training texts, each text analysed once; every TF-IDF derived from them.

Cross-validation needs each fold's TF-IDF (vocabulary, min_df and IDF from the fold's
training part only) and the final model needs the TF-IDF of all the data. Fitting a
TfidfVectorizer for each would analyse the same texts again every time, and analysing
(n-grams, stems, counting in Python) is the costly part. Here each text is analysed once
per block; any TF-IDF is then sparse arithmetic on rows of the counts, as TfidfVectorizer
computes it (sublinear TF, smoothed IDF, L2 per block), and the final vectorizers get
their vocabulary and IDF from the same counts, ready for `FeatureBlocks.transform`/`one`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from triage.features import PAIR_STEMS, char_ngrams, pairs_of_prepared, stems, word_char_ngrams

# Fewer training texts than this keep terms seen once (they are most of a small vocabulary).
MIN_DF_FROM = 2000


@dataclass
class BlockCounts:
    name: str
    vectorizer: TfidfVectorizer  # the block's settings (analyzer, min_df); fitted by `fitted`
    counts: sp.csr_matrix  # texts x terms, float64
    terms: list[str]  # column order of `counts`


# Each counter appends every text's term ids to `indices` and the running total to `indptr`.
_Out = tuple[dict[str, int], list[int], list[int]]  # vocabulary, indices, indptr


def _vocabulary() -> defaultdict[str, int]:
    """Term -> id, a term not seen yet getting the next id on lookup: the lookups then run in
    C (`map`), not one Python call per term (as scikit-learn's CountVectorizer does it)."""
    vocabulary: defaultdict[str, int] = defaultdict()
    vocabulary.default_factory = vocabulary.__len__
    return vocabulary


def _terms_by_text(analyze: Any, docs: Sequence[str], out: _Out) -> None:
    vocabulary, indices, indptr = out
    term_id = vocabulary.__getitem__  # a new term gets the next id (see `_vocabulary`)
    for doc in docs:
        indices.extend(map(term_id, analyze(doc)))
        indptr.append(len(indices))


def _terms_by_word(grams: Any, docs: Sequence[str], out: _Out) -> None:
    # The analyzer is `grams` of each word in turn: each distinct word's term ids are looked
    # up once (Banking77: ~2.5 million character n-grams, ~8,000 distinct words). Ids are
    # given in the order the per-term loop would give them (first seen, text by text).
    vocabulary, indices, indptr = out
    term_id = vocabulary.__getitem__
    ids_of: dict[str, list[int]] = {}
    for doc in docs:
        for word in doc.split():
            known = ids_of.get(word)
            if known is None:
                known = ids_of[word] = list(map(term_id, grams(word)))
            indices.extend(known)
        indptr.append(len(indices))


def _terms_by_pair(stems: Any, docs: Sequence[str], out: _Out) -> None:
    # `pairs_of_prepared` without a Python step per pair (Banking77: ~800,000): each text's
    # distinct stems (sorted, the first PAIR_STEMS) become ids, the pairs are index arithmetic,
    # and a pair's "a|b" term is made once, in the order the per-term loop would first see it.
    vocabulary, indices, indptr = out
    stem_ids: dict[str, int] = {}
    flat: list[int] = []
    sizes: list[int] = []
    for doc in docs:
        unique = sorted(set(stems(doc)))[:PAIR_STEMS]
        flat.extend([stem_ids.setdefault(s, len(stem_ids)) for s in unique])
        sizes.append(len(unique))
    stem_of = list(stem_ids)
    sid = np.array(flat, dtype=np.int64)
    starts = np.cumsum([0, *sizes])
    triu = {m: np.triu_indices(m, 1) for m in set(sizes)}  # pairs (i < j) in loop order
    none = np.zeros(0, dtype=np.intp)
    left = np.concatenate([none, *(starts[d] + triu[m][0] for d, m in enumerate(sizes))])
    right = np.concatenate([none, *(starts[d] + triu[m][1] for d, m in enumerate(sizes))])
    keys = sid[left] * len(stem_of) + sid[right]
    unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # first-seen order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    for key in unique_keys[order].tolist():
        a, b = divmod(key, len(stem_of))
        vocabulary[stem_of[a] + "|" + stem_of[b]] = len(vocabulary)
    indices.extend(rank[inverse].tolist())
    indptr.extend(np.cumsum([m * (m - 1) // 2 for m in sizes]).tolist())


def count(blocks: Sequence[tuple[str, TfidfVectorizer]], docs: Sequence[str]) -> list[BlockCounts]:
    """Each block's analyzer over every text, once."""
    out = []
    for name, vectorizer in blocks:
        vocabulary = _vocabulary()
        indices: list[int] = []
        indptr = [0]
        if vectorizer.analyzer is char_ngrams:
            _terms_by_word(word_char_ngrams, docs, (vocabulary, indices, indptr))
        elif vectorizer.analyzer is pairs_of_prepared:
            _terms_by_pair(stems, docs, (vocabulary, indices, indptr))
        else:
            _terms_by_text(vectorizer.build_analyzer(), docs, (vocabulary, indices, indptr))
        counts = sp.csr_matrix(
            (np.ones(len(indices)), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
            shape=(len(docs), len(vocabulary)),
        )
        counts.sum_duplicates()
        out.append(BlockCounts(name, vectorizer, counts, list(vocabulary)))
    return out


def _min_df(block: BlockCounts, n_train: int) -> int:
    # Terms seen once are noise on large data only (as the vectorizers' min_df meant).
    return int(block.vectorizer.min_df) if n_train > MIN_DF_FROM else 1


def _idf(block: BlockCounts, train: NDArray[np.intp] | slice) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The columns kept (df >= min_df in the training rows) and their smoothed IDF."""
    fit = block.counts[train]
    n = fit.shape[0]
    df = np.bincount(fit.indices, minlength=fit.shape[1])
    keep = np.flatnonzero(df >= _min_df(block, n))
    if not len(keep):
        raise ValueError(f"empty vocabulary in the {block.name!r} features")
    # Rounded to the vectorizers' float32, so training and prediction use the same weights.
    idf = (np.log((1 + n) / (1 + df[keep])) + 1).astype(np.float32).astype(np.float64)
    return keep, idf


def _weigh(counts: sp.csr_matrix, keep: NDArray[np.intp], idf: NDArray[np.float64]) -> sp.csr_matrix:
    m = sp.csr_matrix(counts[:, keep])
    m.data = (np.log(m.data) + 1) * idf[m.indices]  # sublinear TF times IDF
    return normalize(m)


def tfidf(
    blocks: Sequence[BlockCounts], train: NDArray[np.intp], held: NDArray[np.intp]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """One fold's TF-IDF of its training and held-out rows, learnt from the training rows only."""
    out_tr, out_te = [], []
    for block in blocks:
        keep, idf = _idf(block, train)
        out_tr.append(_weigh(block.counts[train], keep, idf))
        out_te.append(_weigh(block.counts[held], keep, idf))
    return sp.hstack(out_tr, format="csr"), sp.hstack(out_te, format="csr")


def fitted(blocks: Sequence[BlockCounts]) -> tuple[list[tuple[str, TfidfVectorizer]], Any]:
    """The blocks' vectorizers fitted on all the rows, and the rows' TF-IDF matrix.

    Terms are in sorted order, as TfidfVectorizer.fit would leave them.
    """
    out, parts = [], []
    for block in blocks:
        keep, idf = _idf(block, slice(None))
        order = sorted(range(len(keep)), key=lambda i: block.terms[keep[i]])
        keep, idf = keep[order], idf[order]
        vectorizer = block.vectorizer
        if vectorizer.min_df != 1:  # what was applied, for whoever inspects the model
            vectorizer.set_params(min_df=_min_df(block, block.counts.shape[0]))
        vectorizer.vocabulary_ = {block.terms[j]: i for i, j in enumerate(keep.tolist())}
        vectorizer.fixed_vocabulary_ = False
        vectorizer.stop_words_ = None  # rare words (names) must not ride along into the model file
        vectorizer.idf_ = idf.astype(np.float32)
        out.append((block.name, vectorizer))
        parts.append(_weigh(block.counts, keep, idf))
    return out, sp.hstack(parts, format="csr")
