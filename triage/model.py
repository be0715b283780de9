"""The triage classifier: TF-IDF features, a linear SVM, a calibrated confidence, abstention.

Training prepares every text once and fits the vectorizers once. A held-out split of the
training data (grouped by normalized text) then does three jobs: it chooses C (and whether
the plain word-TF-IDF baseline beats our features on this office's data), it fits the
softmax temperature (lowest log-loss) and it picks the abstention threshold when the data
has an out-of-scope label. The final SVM, on all the training data, is fitted beside the
first held-out fit and the plain baseline's fit (liblinear releases the GIL), so the usual
case costs one full fit of wall time after the features; other C values are tried only
while the time budget allows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from triage.features import bare_blocks, prepare, prepared_blocks
from triage.vectors import FeatureBlocks

Progress = Callable[[str, float], None]
_TEMPERATURES = np.geomspace(0.02, 2.0, 60)


def _no_progress(stage: str, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    # False when the model abstains: an out-of-scope label, or confidence under the threshold.
    in_scope: bool


@dataclass
class ModelConfig:
    # None: chosen on the held-out split from C_grid (the first value is fitted first).
    C: float | None = None
    C_grid: tuple[float, ...] = (1.0, 0.5, 2.0)
    holdout: float = 0.15
    # Wall seconds the search for C may use; the first C is always fitted.
    time_budget: float = 8.0
    seed: int = 13
    min_df: int = 2
    # Out-of-scope threshold policy: the largest threshold whose in-scope accuracy on the
    # held-out split stays within `max_in_scope_loss` of the accuracy without abstaining.
    max_in_scope_loss: float = 0.005


def softmax(scores: NDArray[np.floating], temperature: float) -> NDArray[np.float64]:
    z = np.asarray(scores, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _split(
    prepared: Sequence[str], labels: Sequence[str], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """A split stratified by label and grouped by normalized text.

    Grouping keeps one inquiry's Cyrillic, Latin and folded spellings on the same side, so
    the held-out part measures new inquiries, not transliterations of training ones.
    Classes with a single group stay in the training part.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str, dict[str, list[int]]] = {}
    for i, (text, lab) in enumerate(zip(prepared, labels, strict=True)):
        groups.setdefault(lab, {}).setdefault(text, []).append(i)
    train: list[int] = []
    held: list[int] = []
    for by_text in groups.values():
        members = list(by_text.values())
        order = rng.permutation(len(members))
        k = int(round(len(members) * fraction)) if len(members) > 1 else 0
        for rank, g in enumerate(order):
            (held if rank < k else train).extend(members[g])
    return sorted(train), sorted(held)


def _svm(x: object, y: NDArray[np.str_], c: float, seed: int) -> LinearSVC:
    return LinearSVC(C=c, random_state=seed).fit(x, y)  # random_state: reproducible


def _scores(svm: LinearSVC, x: object) -> NDArray[np.float64]:
    scores = np.asarray(svm.decision_function(x), dtype=np.float64)
    if scores.ndim == 1:  # two classes: sklearn returns one column
        scores = np.column_stack([-scores, scores])
    return scores


@dataclass
class _Candidate:
    name: str  # "ours" or "bare"
    c: float
    svm: LinearSVC
    held_scores: NDArray[np.float64]
    held_accuracy: float


@dataclass
class TriageClassifier:
    config: ModelConfig = field(default_factory=ModelConfig)
    out_of_scope_label: str | None = None
    # Models saved before FeatureBlocks used a FeatureUnion that prepared text itself.
    features: FeatureUnion | None = None
    blocks: FeatureBlocks | None = None
    svm: LinearSVC | None = None
    temperature: float = 1.0
    threshold: float = 0.0
    labels: list[str] = field(default_factory=list)
    # Held-out figures from the calibration split, and what the split chose.
    holdout_metrics: dict[str, float] = field(default_factory=dict)

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], progress: Progress = _no_progress
    ) -> TriageClassifier:
        if len(texts) != len(labels) or not texts:
            raise ValueError("need as many labels as texts, and at least one of each")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError("need at least two categories to train")
        started = time.perf_counter()
        texts = [str(t) for t in texts]
        y = np.array([str(label) for label in labels])
        progress("features", 0.0)
        prepared = [prepare(t) for t in texts]  # the one normalization pass
        min_df = self.config.min_df if len(texts) > 2000 else 1
        ours = FeatureBlocks(prepared_blocks(min_df))
        x = ours.fit_transform(prepared, min_df)
        self.features = None
        seed = self.config.seed
        grid = [self.config.C] if self.config.C is not None else list(self.config.C_grid)
        train_idx, held_idx = _split(prepared, list(y), self.config.holdout, seed)
        if not held_idx:  # too little data to hold any out: one fit, no calibration
            progress("training", 0.3)
            self._set(ours, _svm(x, y, grid[0], seed))
            progress("done", 1.0)
            return self
        tr, held = np.array(train_idx), np.array(held_idx)
        with ThreadPoolExecutor(max_workers=1) as pool:
            full = pool.submit(_svm, x, y, grid[0], seed)
            progress("calibrating", 0.2)
            fit_start = time.perf_counter()
            best = self._candidate("ours", grid[0], x, y, tr, held)
            fit_cost = time.perf_counter() - fit_start
            # The plain baseline competes too, so the product never does worse than it would.
            # Fitted while the full fit still runs on the other core (it is shorter).
            bare = FeatureBlocks(bare_blocks(), prepared=False)
            xb = bare.fit_transform(texts, 1)
            base = self._candidate("bare", 1.0, xb, y, tr, held)
            first = full.result()
            # Each further C costs a held-out fit and, if it wins, a full refit.
            for c in grid[1:]:
                if time.perf_counter() - started + 2.2 * fit_cost > self.config.time_budget:
                    break
                progress("choosing C", 0.6)
                cand = self._candidate("ours", c, x, y, tr, held)
                if cand.held_accuracy > best.held_accuracy:
                    best = cand
        progress("training", 0.8)
        if base.held_accuracy > best.held_accuracy:
            best, blocks, final = base, bare, _svm(xb, y, base.c, seed)
        elif best.c != grid[0]:
            blocks, final = ours, _svm(x, y, best.c, seed)
        else:
            blocks, final = ours, first
        self._set(blocks, final)
        self._calibrate(best.held_scores, y[held])
        self.holdout_metrics.update(
            {
                "C": best.c,
                "bare_features": float(best.name == "bare"),
                "baseline_accuracy": base.held_accuracy,
            }
        )
        progress("done", 1.0)
        return self

    def _candidate(
        self, name: str, c: float, x: Any, y: NDArray[np.str_], tr: NDArray[np.intp], held: NDArray[np.intp]
    ) -> _Candidate:
        svm = _svm(x[tr], y[tr], c, self.config.seed)
        scores = _scores(svm, x[held])
        pred = svm.classes_[scores.argmax(axis=1)]
        return _Candidate(name, c, svm, scores, float((pred == y[held]).mean()))

    def _set(self, blocks: FeatureBlocks, svm: LinearSVC) -> None:
        self.blocks, self.svm = blocks, svm
        self.labels = [str(c) for c in svm.classes_]

    def _calibrate(self, scores: NDArray[np.float64], labels: NDArray[np.str_]) -> None:
        # The held-out model and the final one share classes unless a class lives only in
        # the held-out part (impossible: single-group classes stay in training).
        truth = np.array([self.labels.index(y) if y in self.labels else -1 for y in labels])
        known = truth >= 0
        best_t, best_nll = 1.0, np.inf
        for t in _TEMPERATURES:
            p = softmax(scores[known], float(t))
            nll = -np.mean(np.log(p[np.arange(known.sum()), truth[known]] + 1e-12))
            if nll < best_nll:
                best_t, best_nll = float(t), float(nll)
        self.temperature = best_t
        probs = softmax(scores, best_t)
        pred = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        correct = pred == truth
        self.holdout_metrics = {"accuracy": float(correct.mean()), "log_loss": best_nll}
        self.threshold = self._pick_threshold(conf, pred, truth, correct)

    def _pick_threshold(
        self,
        conf: NDArray[np.float64],
        pred: NDArray[np.intp],
        truth: NDArray[np.intp],
        correct: NDArray[np.bool_],
    ) -> float:
        oos = self.out_of_scope_label
        if oos is None or oos not in self.labels:
            return 0.0
        oos_i = self.labels.index(oos)
        is_oos = truth == oos_i
        if not is_oos.any() or is_oos.all():
            return 0.0
        inscope_base = float(correct[~is_oos].mean())
        best = 0.0
        for t in np.unique(np.round(conf, 4)):
            keep = conf >= t
            in_acc = float((correct & keep & (pred != oos_i))[~is_oos].mean())
            if in_acc >= inscope_base - self.config.max_in_scope_loss:
                best = float(t)
        oos_recall = float(((pred == oos_i) | (conf < best))[is_oos].mean())
        self.holdout_metrics.update(
            {
                "threshold": best,
                "in_scope_accuracy": inscope_base,
                "out_of_scope_recall": oos_recall,
            }
        )
        return best

    def decision_scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        if self.svm is None or (self.blocks is None and self.features is None):
            raise RuntimeError("the model is not trained")
        texts = list(texts)
        if self.blocks is None:  # a model saved by an earlier version
            return _scores(self.svm, self.features.transform(texts))  # type: ignore[union-attr]
        if len(texts) == 1:
            return self._one(texts[0])[None, :]
        return _scores(self.svm, self.blocks.transform(self.blocks.inputs(texts)))

    def _one(self, text: str) -> NDArray[np.float64]:
        """One inquiry without sparse matrices: its few non-zero weights times their SVM columns."""
        assert self.blocks is not None and self.svm is not None
        idx, val = self.blocks.one(prepare(text) if self.blocks.prepared else text)
        coef: NDArray[np.float64] = self.svm.coef_
        scores = coef[:, idx] @ val + self.svm.intercept_
        if scores.shape[0] == 1:
            scores = np.concatenate([-scores, scores])
        return np.asarray(scores, dtype=np.float64)

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return softmax(self.decision_scores(texts), self.temperature)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = self.predict_proba(texts)
        out = []
        for row in probs:
            i = int(row.argmax())
            label, conf = self.labels[i], float(row[i])
            in_scope = label != self.out_of_scope_label and conf >= self.threshold
            out.append(Prediction(label=label, confidence=conf, in_scope=in_scope))
        return out
