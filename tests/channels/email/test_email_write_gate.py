"""On SQLite, a group commit of the SMTP spool goes before the spool worker's next write."""

from __future__ import annotations

import threading
import time

from channels.email.write_gate import QUIET, WriteGate


def test_a_waiting_group_commit_goes_before_the_workers_next_write() -> None:
    gate, order = WriteGate(), []
    holding, release = threading.Event(), threading.Event()

    def worker_write(name: str, hold: bool = False) -> None:
        with gate.worker():
            if hold:
                holding.set()
                release.wait(10)
            order.append(name)

    def spool_write() -> None:
        with gate.spool():
            order.append("spool")

    first = threading.Thread(target=worker_write, args=("worker 1", True))
    first.start()
    holding.wait(10)  # the worker is storing a mail ...
    spool = threading.Thread(target=spool_write)
    spool.start()  # ... a session's mail arrives ...
    while not gate._spool_waiting:  # (it waits for the write under way)
        threading.Event().wait(0.001)
    second = threading.Thread(target=worker_write, args=("worker 2",))
    second.start()  # ... and the worker would store the next one
    release.set()
    for t in (first, spool, second):
        t.join(10)
    assert order == ["worker 1", "spool", "worker 2"]


def test_off_on_postgresql_nothing_waits() -> None:
    gate = WriteGate(enabled=False)
    with gate.worker(), gate.spool(), gate.worker():  # nested: would deadlock if it gated
        pass


def test_during_a_burst_the_worker_reads_in_a_gap_and_claims_once_the_oldest_mail_is_due() -> None:
    gate = WriteGate()
    gate.yield_to_burst(time.monotonic() + 60)  # no mail has come in: at once
    with gate.spool():  # a group commit: mail is arriving
        pass
    assert gate._unclaimed_since is not None  # the claim will wait for a gap, up to the budget
    gate.yield_to_burst(time.monotonic() + 60)
    assert time.monotonic() >= gate._spool_ended + QUIET  # returned in the gap after the commit
    with gate.spool():
        pass
    gate.yield_to_burst(0.0)  # the oldest mail in hand is due: no wait, burst or not
    with gate.claim():
        assert gate._unclaimed_since is None  # what this claim reads is no longer waiting
    with gate.spool():
        pass
    assert gate._unclaimed_since is not None  # mail after the claim: noted for the next one
    off = WriteGate(enabled=False)  # PostgreSQL: no lock handed over, the burst still counts
    with off.spool():
        pass
    assert off._unclaimed_since is not None
