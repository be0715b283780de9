"""Identical columns fitted as one (triage/twins.py) give the model of the unmerged fit."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from triage.twins import Twins, fit_svm, unmerged


def _data(classes: int) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(5)
    base = sp.random(240, 40, density=0.15, format="csr", random_state=rng)
    # Columns 40-49 copy columns 0-9 on every row (the "rare word's n-grams"); column 50 has
    # column 0's rows but other values, column 51 column 1's values on other rows: not copies.
    shuffled = base[rng.permutation(240)][:, [1]]
    x = sp.hstack([base, base[:, :10], base[:, [0]] * 2.0, shuffled], format="csr")
    y = np.array([f"c{i % classes}" for i in range(240)])
    train, held = x[:180], x[180:]
    return train, held, y


def test_copies_are_grouped_and_nothing_else() -> None:
    train, _, _ = _data(3)
    twins = Twins.of(train)
    assert all(twins.group[40 + j] == twins.group[j] for j in range(10))
    assert twins.group[50] != twins.group[0]
    assert twins.group[51] != twins.group[1]
    assert twins.width == train.shape[1] - 10
    assert abs(twins.training(train) - twins.apply(train)).max() < 1e-12


def test_a_merged_fit_scores_as_the_plain_one() -> None:
    # The same dual problem: equal to rounding, or (where rounding tips one of liblinear's
    # shrinking decisions) within its stopping tolerance, tight here.
    for classes in (2, 4):  # liblinear's binary problem and one-vs-rest
        train, held, y = _data(classes)
        plain = LinearSVC(C=1.0, tol=1e-8, max_iter=100_000, random_state=13).fit(train, y[:180])
        svm, twins = fit_svm(train, y[:180], 1.0, 1e-8, 13)
        merged_scores = svm.decision_function(twins.apply(held))
        assert np.allclose(merged_scores, plain.decision_function(held), atol=1e-7)
        model = unmerged(svm, twins)
        assert model.coef_.shape == plain.coef_.shape
        assert np.allclose(model.coef_, plain.coef_, atol=1e-7)
        assert np.allclose(model.decision_function(held), plain.decision_function(held), atol=1e-7)
