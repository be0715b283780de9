"""One inquiry takes the direct path (no sparse matrices); it must score exactly like a batch."""

from __future__ import annotations

import io

import joblib
import numpy as np

from triage.datasets import Example
from triage.model import ModelConfig, TriageClassifier


def test_single_inquiry_scores_like_the_batch_path_also_after_saving(
    seed_examples: list[Example], seed_model: TriageClassifier
) -> None:
    texts = [e.text for e in seed_examples[:60]] + ["", "123 !!!", "Изгубио сам личну карту"]
    batch = seed_model.decision_scores(texts)
    single = np.vstack([seed_model.decision_scores([t]) for t in texts])
    np.testing.assert_allclose(single, batch, atol=1e-5)
    buffer = io.BytesIO()
    joblib.dump(seed_model, buffer)
    loaded = joblib.load(io.BytesIO(buffer.getvalue()))
    assert [p.label for p in loaded.predict(texts[:1])] == [p.label for p in seed_model.predict(texts[:1])]
    np.testing.assert_allclose(loaded.decision_scores(texts[5:6]), batch[5:6], atol=1e-5)


def test_c_is_chosen_by_cross_validation_and_the_bare_baseline_competes(
    seed_examples: list[Example],
) -> None:
    model = TriageClassifier(config=ModelConfig(C_grid=(1.0, 0.1, 10.0)))
    model.fit([e.text for e in seed_examples], [e.label for e in seed_examples])
    chosen = model.holdout_metrics
    assert chosen["C"] in (1.0, 0.1, 10.0)
    # The chosen model scores at least as well out of fold as the plain baseline.
    assert chosen["accuracy"] >= chosen["baseline_accuracy"] or chosen["bare_features"] == 1.0
    assert 0.0 < model.temperature <= 2.0
