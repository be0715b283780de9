"""Retraining: seed data plus agents' corrections -> a new version, activated only if not worse.

The gate compares the candidate with the active model on the same evaluation set: a
stable slice of the seed data (chosen by a hash of the text), which no version ever trains
on. So the comparison is fair across versions, and a batch of bad labels that breaks
what the seed data teaches does not reach production. Agents' labels are always trained on.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.datasets import Example
from triage.model import ModelConfig, Progress, TriageClassifier, _no_progress
from triage.store import ModelError, ModelStore
from triage.text import normalize

EVAL_SLICE = 5  # one seed example in five is held out for the gate
TOLERANCE = 0.01  # a candidate within one point of the active model still counts as not worse


def is_gate_example(text: str) -> bool:
    # Hash the normalized text, so one inquiry's Cyrillic, Latin and folded spellings land on
    # the same side: the gate never scores a model on a mere transliteration of its training.
    digest = hashlib.sha256(normalize(text).strip().encode("utf-8")).digest()
    return digest[0] % EVAL_SLICE == 0


def split_for_gate(seed: Sequence[Example], extra: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in seed if not is_gate_example(e.text)] + list(extra)
    gate = [e for e in seed if is_gate_example(e.text)]
    return train, gate


def accuracy(model: TriageClassifier, examples: Sequence[Example]) -> float:
    if not examples:
        return 0.0
    preds = model.predict([e.text for e in examples])
    return sum(p.label == e.label for p, e in zip(preds, examples, strict=True)) / len(examples)


@dataclass(frozen=True)
class TrainResult:
    version: str
    activated: bool
    accuracy: float
    active_version: str | None
    active_accuracy: float | None
    train_size: int
    reason: str
    settings: dict[str, Any] = field(default_factory=dict)  # what cross-validation chose


def train_version(
    store: ModelStore,
    seed: Sequence[Example],
    extra: Sequence[Example] = (),
    progress: Progress = _no_progress,
    force: bool = False,
    now: datetime | None = None,
    config: ModelConfig | None = None,
) -> TrainResult:
    """Train, save a new version, and activate it unless it evaluates worse than the active one."""
    train, gate = split_for_gate(seed, extra)
    start = time.perf_counter()
    model = TriageClassifier(config=config or ModelConfig())

    def sub(stage: str, fraction: float) -> None:
        progress(stage, 0.85 * fraction)

    model.fit([e.text for e in train], [e.label for e in train], progress=sub)
    seconds = time.perf_counter() - start
    progress("evaluating", 0.9)
    acc = accuracy(model, gate)

    active_version = store.active_version()
    active_acc: float | None = None
    if active_version is not None:
        try:
            active_acc = accuracy(store.load(active_version).model, gate)
        except ModelError:
            active_version = None  # a damaged active model never blocks its replacement
    meta: dict[str, Any] = {
        "train_size": len(train),
        "seed_examples": len(seed),
        "agent_labels": len(extra),
        "eval_size": len(gate),
        "eval_accuracy": round(acc, 4),
        "holdout": {k: round(v, 4) for k, v in model.holdout_metrics.items()},
        "settings": model.cv,  # chosen by cross-validation; `helpdesk triage status` shows them
        "labels": dict(sorted(Counter(e.label for e in train).items())),
        "train_seconds": round(seconds, 2),
    }
    version = store.save(model, meta, now=now)
    if force or active_acc is None or acc >= active_acc - TOLERANCE:
        store.activate(version)
        activated = True
        reason = "forced" if force else ("first model" if active_acc is None else "not worse")
    else:
        activated = False
        reason = f"evaluates worse than the active model ({acc:.3f} < {active_acc:.3f})"
    progress("done", 1.0)
    return TrainResult(version, activated, acc, active_version, active_acc, len(train), reason, model.cv)
