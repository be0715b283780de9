"""The two lanes that run a training's SVM fits: one queue, each lane takes what it may run."""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from triage.lanes import Lanes, held_out_scores

HANG_GUARD = 120  # seconds: only so that a broken queue fails instead of hanging the suite


def _fold() -> tuple[sp.csr_matrix, np.ndarray, sp.csr_matrix]:
    rng = np.random.default_rng(1)
    x = sp.random(60, 30, density=0.2, format="csr", random_state=1)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    return x[:40], y[:40], x[40:]


def test_a_fit_for_any_lane_runs_while_the_other_lane_is_busy() -> None:
    """Fold fits queued behind a long job pinned to this process's lane (the final model)
    are all taken by the worker's lane instead of waiting for it (lanes taken in turn left
    every other fit waiting); their scores are the same as where they were fitted here."""
    lanes = Lanes()
    release = threading.Event()
    try:
        busy = lanes.local(release.wait, HANG_GUARD)
        x_train, y_train, x_held = _fold()
        here, here_classes, _ = held_out_scores(x_train, y_train, x_held, 1.0, 0.1, 13)
        folds = [lanes.submit(x_train, y_train, x_held, 1.0, 0.1, 13) for _ in range(3)]
        for fold in folds:
            raw, classes, _ = fold.result(timeout=HANG_GUARD)  # the local lane is still waiting
            assert classes == here_classes and np.array_equal(raw, here)
        assert not busy.done()
    finally:
        release.set()
        lanes.close()
    assert busy.result() is True


def test_a_cancelled_job_never_runs() -> None:
    lanes = Lanes()
    release = threading.Event()
    ran: list[str] = []
    try:
        lanes.local(release.wait, HANG_GUARD)
        dropped = lanes.local(ran.append, "dropped")
        kept = lanes.local(ran.append, "kept")
        assert dropped.cancel()
    finally:
        release.set()
        lanes.close()
    assert kept.done() and ran == ["kept"]
