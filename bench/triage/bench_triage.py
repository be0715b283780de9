"""Triage benchmark on Banking77: training time, single-inquiry latency, batch throughput.

Our pipeline (normalization, word + char n-grams + word pairs, LinearSVC, settings chosen
by cross-validation, temperature calibration) beside a raw baseline measured in the same
run: a bare TfidfVectorizer + LinearSVC with no normalization, no calibration.

    .venv/bin/python bench/triage/bench_triage.py [--single 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from triage.datasets import read_examples  # noqa: E402
from triage.lanes import worker_seconds  # noqa: E402
from triage.model import TriageClassifier  # noqa: E402
from triage.priority import assess  # noqa: E402
from triage.text import detect_language, detect_script  # noqa: E402

BANKING = ROOT.parent / "shared" / "datasets" / "triage" / "banking77" / "banking_data"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _latencies(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[float, float]:
    for text in texts[:20]:  # warm up
        fn(text)
    times = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), _percentile(times, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=1000, help="inquiries timed one by one")
    args = parser.parse_args()
    train = read_examples(BANKING / "train.csv", label_column="category")
    test = read_examples(BANKING / "test.csv", label_column="category")
    xtr, ytr = [e.text for e in train], [e.label for e in train]
    xte, yte = [e.text for e in test], [e.label for e in test]

    # CPU seconds beside wall seconds: on a shared machine the wall clock mostly measures others.
    # CPU of the fits in the training's worker process (triage/lanes.py) included.
    start, cpu = time.perf_counter(), time.process_time() + worker_seconds()
    ours = TriageClassifier().fit(xtr, ytr)
    ours_train = time.perf_counter() - start
    ours_cpu = time.process_time() + worker_seconds() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    raw: Pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC())
    raw.fit(xtr, ytr)
    raw_train, raw_cpu = time.perf_counter() - start, time.process_time() - cpu

    start = time.perf_counter()
    ours_pred = ours.predict(xte)
    ours_batch = len(xte) / (time.perf_counter() - start)
    start = time.perf_counter()
    raw_pred = raw.predict(xte)
    raw_batch = len(xte) / (time.perf_counter() - start)
    ours_acc = sum(p.label == y for p, y in zip(ours_pred, yte, strict=True)) / len(yte)
    raw_acc = sum(p == y for p, y in zip(raw_pred, yte, strict=True)) / len(yte)

    sample = (xte * (args.single // len(xte) + 1))[: args.single]

    def decision(text: str) -> object:
        # what the service adds around the model: priority cues, language, script
        pred = ours.predict([text])[0]
        return pred, assess(text, pred.label), detect_language(text), detect_script(text)

    ours_p50, ours_p99 = _latencies(lambda t: ours.predict([t]), sample)
    dec_p50, dec_p99 = _latencies(decision, sample)
    raw_p50, raw_p99 = _latencies(lambda t: raw.predict([t]), sample)

    rows = [
        ("accuracy (Banking77 test)", f"{ours_acc:.4f}", f"{raw_acc:.4f}", ours_acc / raw_acc),
        ("training wall time, s", f"{ours_train:.1f}", f"{raw_train:.1f}", ours_train / raw_train),
        ("training CPU time, s", f"{ours_cpu:.1f}", f"{raw_cpu:.1f}", ours_cpu / raw_cpu),
        ("single inquiry p50, ms", f"{ours_p50:.2f}", f"{raw_p50:.2f}", ours_p50 / raw_p50),
        ("single inquiry p99, ms", f"{ours_p99:.2f}", f"{raw_p99:.2f}", ours_p99 / raw_p99),
        ("full decision p50, ms", f"{dec_p50:.2f}", "-", dec_p50 / raw_p50),
        ("full decision p99, ms", f"{dec_p99:.2f}", "-", dec_p99 / raw_p99),
        ("batch throughput, inquiries/s", f"{ours_batch:.0f}", f"{raw_batch:.0f}", ours_batch / raw_batch),
    ]
    print(f"{'Banking77':32} {'ours':>10} {'raw baseline':>13} {'ratio':>7}")
    for name, ours_v, raw_v, ratio in rows:
        print(f"{name:32} {ours_v:>10} {raw_v:>13} {ratio:>7.2f}")
    print(f"(single-inquiry figures over {len(sample)} inquiries, one at a time)")
    # What cross-validation chose within the time budget (on a busy machine it tries fewer).
    print("chosen by cross-validation:", json.dumps(ours.cv))


if __name__ == "__main__":
    main()
