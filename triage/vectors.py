"""Feature blocks fitted once, applied to a batch or to a single inquiry without overhead.

A batch goes through the fitted TF-IDF vectorizers (sparse matrices, for training and
evaluation). One inquiry, the service's everyday case, skips the sparse machinery: the
analyzers give the terms, the fitted vocabulary and IDF give the weights, and the caller
multiplies the handful of non-zero weights with the matching SVM columns. Both paths give
the same vector (sublinear TF times IDF, L2-normalized per block, blocks side by side).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.features import prepare

# Per block: analyzer, vocabulary, IDF weights, the block's first column.
_Fast = list[tuple[Callable[[str], list[str]], dict[str, int], NDArray[np.float64], int]]


@dataclass
class FeatureBlocks:
    blocks: list[tuple[str, TfidfVectorizer]]
    # True: the vectorizers read text already through `prepare`; False: the raw text.
    prepared: bool = True
    _fast: _Fast | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fast"] = None  # analyzers are rebuilt after loading, never pickled
        return state

    def inputs(self, texts: Sequence[str], prepared: Sequence[str] | None = None) -> list[str]:
        """What the vectorizers read: the prepared texts, or the raw ones for the bare baseline."""
        if not self.prepared:
            return list(texts)
        return list(prepared) if prepared is not None else [prepare(t) for t in texts]

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack([v.transform(docs) for _, v in self.blocks], format="csr")

    def _prepare_fast(self) -> _Fast:
        fast = []
        offset = 0
        for _, vectorizer in self.blocks:
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            fast.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, idf, offset))
            offset += len(idf)
        self._fast = fast
        return fast

    def one(self, doc: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Column indices and weights of one document's non-zero features."""
        fast = self._fast if self._fast is not None else self._prepare_fast()
        all_idx: list[NDArray[np.intp]] = []
        all_val: list[NDArray[np.float64]] = []
        for analyze, vocabulary, idf, offset in fast:
            counts = Counter(j for j in map(vocabulary.get, analyze(doc)) if j is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            val = (np.log(tf) + 1.0) * idf[idx]
            val /= np.sqrt(val @ val)
            all_idx.append(idx + offset)
            all_val.append(val)
        if not all_idx:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64)
        return np.concatenate(all_idx), np.concatenate(all_val)
