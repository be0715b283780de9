"""Train on one file, test on another, report accuracy, macro-F1 and out-of-scope figures.

Beside the production pipeline the report gives a bare TF-IDF + LinearSVC trained and tested
on the same split, so an office sees at once whether the pipeline earns its keep on its data.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, f1_score

from triage.datasets import Example
from triage.model import ModelConfig, Progress, TriageClassifier, _no_progress


def evaluate_predictions(
    model: TriageClassifier, test: Sequence[Example], out_of_scope_label: str | None = None
) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class report; with an OOS label also the abstention figures.

    An abstention (confidence under the threshold) counts as predicting the out-of-scope
    label, so in-scope accuracy already pays for every in-scope inquiry sent to a person.
    """
    preds = model.predict([e.text for e in test])
    truth = [e.label for e in test]
    if out_of_scope_label is None:
        guessed = [p.label for p in preds]
    else:
        guessed = [p.label if p.in_scope else out_of_scope_label for p in preds]
    y, g = np.array(truth), np.array(guessed)
    result: dict[str, Any] = {
        "accuracy": round(float((y == g).mean()), 4),
        "macro_f1": round(float(f1_score(y, g, average="macro", zero_division=0)), 4),
        "test_size": len(test),
    }
    if out_of_scope_label is not None:
        oos = y == out_of_scope_label
        result["in_scope_accuracy"] = round(float((y == g)[~oos].mean()), 4) if (~oos).any() else None
        result["out_of_scope_recall"] = (
            round(float((g == out_of_scope_label)[oos].mean()), 4) if oos.any() else None
        )
        result["threshold"] = round(model.threshold, 4)
    report = classification_report(y, g, output_dict=True, zero_division=0)
    result["per_class"] = {
        label: {k: round(float(v), 4) for k, v in stats.items()}
        for label, stats in report.items()
        if isinstance(stats, dict) and label not in {"macro avg", "weighted avg"}
    }
    return result


def train_and_evaluate(
    train: Sequence[Example],
    test: Sequence[Example],
    out_of_scope_label: str | None = None,
    config: ModelConfig | None = None,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Fit the production pipeline on `train`, score it on `test`; times included."""
    model = TriageClassifier(config=config or ModelConfig(), out_of_scope_label=out_of_scope_label)
    start = time.perf_counter()
    model.fit([e.text for e in train], [e.label for e in train], progress=progress)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = evaluate_predictions(model, test, out_of_scope_label)
    result["train_size"] = len(train)
    result["train_seconds"] = round(train_seconds, 2)
    result["test_seconds"] = round(time.perf_counter() - start, 2)
    result["holdout"] = {k: round(v, 4) for k, v in model.holdout_metrics.items()}
    # What cross-validation chose on this training data, and the bare pipeline on the same split.
    result["settings"] = model.cv
    result["baseline"] = bare_baseline(train, test)
    return result


def bare_baseline(train: Sequence[Example], test: Sequence[Example]) -> dict[str, Any]:
    """Word 1-2-gram TF-IDF + LinearSVC on the raw text: the floor the pipeline must beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    start = time.perf_counter()
    raw = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC(random_state=13))
    raw.fit([e.text for e in train], [e.label for e in train])
    seconds = time.perf_counter() - start
    y, g = np.array([e.label for e in test]), raw.predict([e.text for e in test])
    return {
        "accuracy": round(float((y == g).mean()), 4),
        "macro_f1": round(float(f1_score(y, g, average="macro", zero_division=0)), 4),
        "train_seconds": round(seconds, 2),
    }
