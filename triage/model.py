"""The triage classifier: TF-IDF features, a linear SVM, a calibrated confidence, abstention.

Calibration: the SVM's decision scores go through a softmax whose temperature is fitted on
a held-out split of the training data (lowest log-loss). The same split picks the
abstention threshold when the data has an out-of-scope label. The final model is then
refitted on all the training data, so nothing is wasted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from triage.features import build_features, prepare

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
    C: float = 1.0
    holdout: float = 0.2
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
    texts: Sequence[str], labels: Sequence[str], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """A split stratified by label and grouped by normalized text.

    Grouping keeps one inquiry's Cyrillic, Latin and folded spellings on the same side, so
    the held-out part measures new inquiries, not transliterations of training ones.
    Classes with a single group stay in the training part.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str, dict[str, list[int]]] = {}
    for i, (text, lab) in enumerate(zip(texts, labels, strict=True)):
        groups.setdefault(lab, {}).setdefault(prepare(text), []).append(i)
    train: list[int] = []
    held: list[int] = []
    for by_text in groups.values():
        members = list(by_text.values())
        order = rng.permutation(len(members))
        k = int(round(len(members) * fraction)) if len(members) > 1 else 0
        for rank, g in enumerate(order):
            (held if rank < k else train).extend(members[g])
    return sorted(train), sorted(held)


@dataclass
class TriageClassifier:
    config: ModelConfig = field(default_factory=ModelConfig)
    out_of_scope_label: str | None = None
    features: FeatureUnion | None = None
    svm: LinearSVC | None = None
    temperature: float = 1.0
    threshold: float = 0.0
    labels: list[str] = field(default_factory=list)
    # Held-out figures from the calibration split (before the final refit).
    holdout_metrics: dict[str, float] = field(default_factory=dict)

    def _fit_once(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.features = build_features(self.config.min_df if len(texts) > 2000 else 1)
        x = self.features.fit_transform(texts)
        for _, vectorizer in self.features.transformer_list:
            # Terms dropped by min_df are kept only for introspection: rare words (names)
            # must not ride along into the model file.
            vectorizer.stop_words_ = None
        self.svm = LinearSVC(C=self.config.C, random_state=self.config.seed)  # reproducible
        self.svm.fit(x, labels)
        self.labels = [str(c) for c in self.svm.classes_]

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], progress: Progress = _no_progress
    ) -> TriageClassifier:
        if len(texts) != len(labels) or not texts:
            raise ValueError("need as many labels as texts, and at least one of each")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError("need at least two categories to train")
        texts = [str(t) for t in texts]
        labels = [str(label) for label in labels]
        train_idx, held_idx = _split(texts, labels, self.config.holdout, self.config.seed)
        if held_idx:
            progress("calibrating", 0.0)
            self._fit_once([texts[i] for i in train_idx], [labels[i] for i in train_idx])
            progress("calibrating", 0.4)
            self._calibrate([texts[i] for i in held_idx], [labels[i] for i in held_idx])
        progress("training", 0.5)
        self._fit_once(texts, labels)
        progress("done", 1.0)
        return self

    def _calibrate(self, texts: list[str], labels: list[str]) -> None:
        scores = self.decision_scores(texts)
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
        if self.features is None or self.svm is None:
            raise RuntimeError("the model is not trained")
        scores = np.asarray(self.svm.decision_function(self.features.transform(list(texts))))
        if scores.ndim == 1:  # two classes: sklearn returns one column
            scores = np.column_stack([-scores, scores])
        return scores

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
