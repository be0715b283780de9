"""Where the SVM fits of one training run: two lanes, each fitting one model at a time.

scikit-learn's liblinear draws the order in which its dual solver visits the examples from
one random generator per process, reseeded by each fit from its `random_state`. Two fits in
two threads of one process interleave their draws, so the same training gave different fold
scores from run to run, depending on thread timing (on Banking77 the choice between C=1 and
C=3 flipped). Here one lane is a thread of this process and the other a worker process (its
own generator): each lane runs one fit at a time, so every fit draws only its own sequence,
and what a fit returns does not depend on which lane ran it, or when.

The worker is a fresh interpreter running this module (`python -m triage.lanes`), started
once per process and kept for later trainings: no fork of a process that runs threads
(such as the web server), and unlike multiprocessing's spawn it never re-imports the
caller's main script. Requests and results travel as pickles over its stdin and stdout;
only small results come back (held-out decision scores, never a fitted model): the final
model is fitted in this process.
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from triage.twins import fit_svm

_HEADER = struct.Struct("<Q")


def _send(stream: IO[bytes], obj: object) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(blob)))
    stream.write(blob)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the fit worker closed its pipe")
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))  # noqa: S301 - a pipe between this process and its own child


class _Worker:
    """The worker process: one request at a time, in the order sent."""

    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])  # where `triage` is importable from
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triage.lanes"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )

    def call(self, args: tuple[Any, ...]) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        _send(self.process.stdin, args)
        status, value = _receive(self.process.stdout)
        if status != "ok":
            raise RuntimeError(f"the fit worker failed: {value}")
        return value

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_worker: _Worker | None = None
_worker_lock = threading.Lock()  # one request at a time, whoever sends it
_worker_seconds = [0.0]  # fit CPU the worker reported, over this process's life


def worker_seconds() -> float:
    """CPU seconds of the fits done in the worker process so far (the benchmark adds them to
    this process's own CPU time)."""
    return _worker_seconds[0]


def _remote_call(args: tuple[Any, ...]) -> Any:
    global _worker
    with _worker_lock:
        if _worker is None or _worker.process.poll() is not None:
            _worker = _Worker()
        try:
            answer = _worker.call(args)
            if len(args) > 1:
                _worker_seconds[0] += answer[2]
            return answer
        except (EOFError, BrokenPipeError, OSError):
            _worker = None  # died (killed, out of memory): started anew for the next request
            raise


@atexit.register
def _stop_worker() -> None:
    with _worker_lock:
        if _worker is not None:
            _worker.close()


def held_out_scores(
    x_train: Any, y_train: NDArray[np.str_], x_held: Any, c: float, tol: float, seed: int
) -> tuple[NDArray[np.float64], list[str], float]:
    """Fit on one part, score another: (decision scores, their column labels, fit CPU seconds).

    Runs in either lane; the worker process returns only the scores, not the model.
    """
    start = time.thread_time()
    svm, twins = fit_svm(x_train, y_train, c, tol, seed)  # identical columns as one: same scores
    seconds = time.thread_time() - start
    raw = np.asarray(svm.decision_function(twins.apply(x_held)), dtype=np.float64)
    if raw.ndim == 1:  # two classes: one column
        raw = np.column_stack([-raw, raw])
    return raw, [str(c) for c in svm.classes_], seconds


class Lanes:
    """A thread of this process and the worker process, fed from one queue in order.

    Each lane takes the oldest job it may run as soon as it is free: a fit pinned to one lane
    (the final model here, the calibration fit in the worker) waits for that lane, a fold fit
    goes to whichever is free first. So neither lane idles while the other has a queue (the
    final fit is the longest job: fixed turns left the other lane waiting at the end), and
    the order in which results arrive follows the order of `submit` calls. What a fit returns
    does not depend on its lane (see the module docstring).
    """

    LOCAL, REMOTE, ANY = 0, 1, 2

    def __init__(self) -> None:
        self._jobs: list[tuple[int, dict[int, Callable[[], Any]], Future[Any]]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._remote_seconds = 0.0  # fit CPU of the worker, for `clock`
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(lane,), daemon=True) for lane in (0, 1)]
        for thread in self._threads:
            thread.start()
        # The worker starts while the caller counts terms.
        self._queue(self.REMOTE, {self.REMOTE: lambda: _remote_call(("ready",))})

    def _queue(self, lane: int, work: dict[int, Callable[[], Any]]) -> Future[Any]:
        job: Future[Any] = Future()
        with self._ready:
            self._jobs.append((lane, work, job))
            self._ready.notify_all()
        return job

    def _next(self, lane: int) -> tuple[Callable[[], Any], Future[Any]] | None:
        with self._ready:
            while True:
                for i, (wanted, work, job) in enumerate(self._jobs):
                    if wanted in (lane, self.ANY):
                        del self._jobs[i]
                        return work[lane], job
                if self._closed:
                    return None
                self._ready.wait()

    def _run(self, lane: int) -> None:
        while (taken := self._next(lane)) is not None:
            fn, job = taken
            if not job.set_running_or_notify_cancel():
                continue
            try:
                job.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the job
                job.set_exception(exc)

    def _charged(self, args: tuple[Any, ...]) -> tuple[NDArray[np.float64], list[str], float]:
        answer: tuple[NDArray[np.float64], list[str], float] = _remote_call(args)
        with self._lock:
            self._remote_seconds += answer[2]
        return answer

    def local(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """`fn(*args)` in this process's lane (the final model: it is not sent back)."""
        return self._queue(self.LOCAL, {self.LOCAL: lambda: fn(*args)})

    def remote(self, *args: Any) -> Future[tuple[NDArray[np.float64], list[str], float]]:
        """`held_out_scores(*args)` in the worker process."""
        return self._queue(self.REMOTE, {self.REMOTE: lambda: self._charged(args)})

    def submit(self, *args: Any) -> Future[tuple[NDArray[np.float64], list[str], float]]:
        """`held_out_scores(*args)` in whichever lane is free first."""
        return self._queue(
            self.ANY, {self.LOCAL: lambda: held_out_scores(*args), self.REMOTE: lambda: self._charged(args)}
        )

    def clock(self) -> float:
        """The time budget's clock: CPU seconds of this process and of the worker's fits,
        over the two cores (see triage.cv.cpu_clock)."""
        with self._lock:
            return (time.process_time() + self._remote_seconds) / 2

    def close(self) -> None:
        """Wait for the jobs queued and stop both lanes (the worker process stays)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        for thread in self._threads:
            thread.join()


def _serve() -> None:
    """The worker's loop: fit, score, answer; exit when the parent closes the pipe."""
    requests, answers = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the answers
    while True:
        try:
            args = _receive(requests)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", True if len(args) == 1 else held_out_scores(*args))
        except Exception as exc:  # noqa: BLE001 - sent back: the caller raises it
            answer = ("error", repr(exc))
        _send(answers, answer)


if __name__ == "__main__":
    _serve()
