"""Training analyses each text once (triage/counts.py): the model must still see exactly the
features scikit-learn's TfidfVectorizer would give, and score new text with them."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.counts import count, fitted, tfidf
from triage.datasets import Example
from triage.features import feature_blocks, prepare


def _sklearn(min_df: int) -> list[TfidfVectorizer]:
    """The production blocks as plain scikit-learn vectorizers (char_wb built in)."""
    out = []
    for name, v in feature_blocks("full", min_df)[0]:
        if name == "chars":
            v = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False, min_df=min_df)
        out.append(v.set_params(sublinear_tf=True, dtype=np.float64))
    return out


def test_counted_features_equal_fitted_vectorizers_on_all_rows_and_on_a_fold(
    seed_examples: list[Example],
) -> None:
    texts = [e.text for e in seed_examples] + ["  Izgubio   sam\tkarticu  ", "a", "Љубав је 100 дин"]
    docs = [prepare(t) for t in texts]
    blocks = count(feature_blocks("full")[0], docs)

    train = np.arange(0, len(docs), 2)
    held = np.arange(1, len(docs), 2)
    x_train, x_held = tfidf(blocks, train, held)
    reference = _sklearn(1)  # a fold this small keeps terms seen once
    fold_docs = [docs[i] for i in train]
    expected_train = sp.hstack([v.fit_transform(fold_docs) for v in reference], format="csr")
    expected_held = sp.hstack([v.transform([docs[i] for i in held]) for v in reference], format="csr")
    # A fold's columns come in first-seen order: compare what the SVM sees, the dot products.
    assert x_train.shape == expected_train.shape  # the same vocabulary size
    _close(x_train @ x_train.T, expected_train @ expected_train.T)
    _close(x_held @ x_train.T, expected_held @ expected_train.T)

    vectorizers, x_all = fitted(blocks)
    reference = _sklearn(1)
    _close(x_all, sp.hstack([v.fit_transform(docs) for v in reference], format="csr"))
    # The fitted vectorizers score new text as the training matrix was built.
    fresh = [prepare(t) for t in ("Kartica mi ne radi", "porez na imovinu 2024")]
    _close(
        sp.hstack([v.transform(fresh) for _, v in vectorizers], format="csr"),
        sp.hstack([v.transform(fresh) for v in reference], format="csr"),
    )


def _close(a: sp.spmatrix, b: sp.spmatrix) -> None:
    assert a.shape == b.shape
    assert abs(sp.csr_matrix(a) - sp.csr_matrix(b)).max() < 1e-6
