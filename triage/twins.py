"""Identical training columns fitted as one: the same linear SVM, fewer non-zeros for liblinear.

Many terms occur in exactly the same training texts with the same counts: the character
n-grams of a rare word, a word trigram and its bigrams, the stem pairs of a rare phrase. In
one block their TF-IDF columns are then identical (same texts, same document frequency so the
same IDF, the same row norm). On Banking77 the 128,762 columns are 74,073 distinct ones (13 %
of the non-zeros are copies); on a 1,330-text fold, 59,634 columns are 19,882 (27 %).

Replacing m identical columns f by the one column sqrt(m)·f keeps every dot product between
two rows, so liblinear's dual problem (which sees the data only through those products) is the
same one, solved along the same path; the merged column's weight v is sqrt(m) times each
original column's weight (w = Σ α_i y_i x_i), so each gets v/sqrt(m) back. The fitted model and
its decision scores are those of the unmerged fit up to rounding (1e-14 on Banking77; where
rounding tips one of the solver's shrinking decisions, within its stopping tolerance), for
about half the CPU of a fold fit and ~10 % less for the calibration fit: fewer non-zeros, and a
weight vector small enough to stay in the cache (merged columns are numbered by document
frequency, the most often used first).

Columns are grouped by their number of non-zeros and two random projections of their values:
copies have equal keys to the last bit (the same sums in the same order), distinct columns do
not (the projections are continuous random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.svm import LinearSVC


@dataclass(frozen=True)
class Twins:
    group: NDArray[np.intp]  # original column -> merged column
    scale: NDArray[np.float64]  # per original column: 1 / sqrt(the size of its group)
    first: NDArray[np.intp]  # per merged column: its first original column
    width: int  # merged columns

    @classmethod
    def of(cls, x: sp.csr_matrix) -> Twins:
        """The groups of identical columns of `x` (the rows a model is trained on)."""
        x = sp.csr_matrix(x)
        n, d = x.shape
        projections = np.asarray(x.T @ np.random.default_rng(0).standard_normal((n, 2)))
        nonzeros = np.bincount(x.indices, minlength=d)
        order = np.lexsort((projections[:, 1], projections[:, 0], -nonzeros))
        keys = np.column_stack([nonzeros[order], projections[order]])
        starts = np.ones(d, dtype=bool)
        starts[1:] = np.any(keys[1:] != keys[:-1], axis=1)
        group = np.empty(d, dtype=np.intp)
        group[order] = np.cumsum(starts) - 1
        width = int(starts.sum())
        first = np.full(width, d, dtype=np.intp)
        np.minimum.at(first, group, np.arange(d))
        return cls(group, 1.0 / np.sqrt(np.bincount(group, minlength=width)[group]), first, width)

    def training(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """The merged form of the very matrix `of` grouped: each group's first column, scaled
        (its copies are equal, so no sums are needed)."""
        x = sp.csr_matrix(x)
        kept = np.zeros(len(self.group), dtype=bool)
        kept[self.first] = True
        keep = kept[x.indices]
        columns = x.indices[keep]
        indptr = np.concatenate([[0], np.cumsum(keep)])[x.indptr]
        data = x.data[keep] / self.scale[columns]
        return sp.csr_matrix((data, self.group[columns], indptr), shape=(x.shape[0], self.width))

    def apply(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Any rows in the merged columns (a group's values summed, over sqrt of its size):
        their scores under a merged fit equal those under the unmerged one."""
        x = sp.csr_matrix(x)
        out = sp.csr_matrix(
            (x.data * self.scale[x.indices], self.group[x.indices], x.indptr.copy()),
            shape=(x.shape[0], self.width),
        )
        out.sum_duplicates()
        return out

    def weights(self, coef: NDArray[np.float64]) -> NDArray[np.float64]:
        """A merged fit's coefficients for the original columns."""
        return np.asarray(coef[:, self.group] * self.scale, dtype=np.float64)


def fit_svm(
    x: sp.csr_matrix, y: NDArray[np.str_], c: float, tol: float, seed: int
) -> tuple[LinearSVC, Twins]:
    """LinearSVC on `x` with identical columns merged; its coef_ still on the merged columns
    (see `unmerged` for a model on the original ones)."""
    twins = Twins.of(x)
    svm = LinearSVC(C=c, tol=tol, random_state=seed).fit(twins.training(x), y)  # random_state: reproducible
    return svm, twins


def unmerged(svm: LinearSVC, twins: Twins) -> LinearSVC:
    """The model on the original columns, as a fit without merging would have left it."""
    svm.coef_ = twins.weights(svm.coef_)
    svm.n_features_in_ = len(twins.group)
    return svm
