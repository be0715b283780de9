"""LinearSVC (one-vs-rest) whose classes are fitted on two cores.

liblinear fits one binary problem per class, one after the other, on one core. The binary
problem of class i is "i against everything else" whatever the other labels are, so the
classes can be split into groups and each group fitted in its own thread (liblinear
releases the GIL) with the other groups' examples relabelled as one "rest" class: the
rows we keep are the same binary problems the single call would have solved. The rest
class costs one extra binary fit per group, which two cores pay back many times.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.svm import LinearSVC

# Under this many examples a fit takes a fraction of a second: one thread is simpler.
PARALLEL_MIN_EXAMPLES = 3000
_REST = -1


def fit_svm(x: Any, y: NDArray[np.str_], c: float, seed: int, workers: int = 2) -> LinearSVC:
    classes, codes = np.unique(y, return_inverse=True)
    if workers < 2 or len(classes) < 2 * workers or x.shape[0] < PARALLEL_MIN_EXAMPLES:
        return LinearSVC(C=c, random_state=seed).fit(x, y)  # random_state: reproducible
    x = sp.csr_matrix(x, dtype=np.float64)  # liblinear's type, converted once for all threads
    groups = np.array_split(np.arange(len(classes)), workers)

    def fit_group(group: NDArray[np.intp]) -> dict[int, tuple[NDArray[np.float64], float]]:
        relabelled = np.where(np.isin(codes, group), codes, _REST)
        svm = LinearSVC(C=c, random_state=seed).fit(x, relabelled)
        rows = {int(k): (svm.coef_[i], float(svm.intercept_[i])) for i, k in enumerate(svm.classes_)}
        return {k: rows[k] for k in group.tolist()}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        fitted: dict[int, tuple[NDArray[np.float64], float]] = {}
        for part in pool.map(fit_group, groups):
            fitted.update(part)
    svm = LinearSVC(C=c, random_state=seed)
    svm.classes_ = classes
    svm.coef_ = np.vstack([fitted[k][0] for k in range(len(classes))])
    svm.intercept_ = np.array([fitted[k][1] for k in range(len(classes))])
    svm.n_features_in_ = x.shape[1]
    return svm
