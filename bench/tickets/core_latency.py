"""Why the slow core creates are slow: each ``receive_inbound`` (SQLite) timed on its own, with
what happened during it: a WAL restart (the writer began again at the WAL's start, so the commit
before it had checkpointed the whole WAL), the WAL's growth in pages, and garbage-collector passes.

    .venv/bin/python bench/tickets/core_latency.py [--count 2000] [--warm 200] [--runs 1]
        [--autocheckpoint N] [--no-0035] [--dump FILE] [--checkout DIR] [--rate R]

Prints the latency quantiles, the slowest creates with their number and what they coincided
with, and the spacing of the WAL restarts, so a periodic cost shows as such.
``--autocheckpoint N``: PRAGMA wal_autocheckpoint on the app's connections (-1: as the app sets it).
``--rate R``: one create every 1/R s (a paced arrival, with idle time between writes) instead of
back to back.
``--no-0035``: drop migration 0035's three indexes first (their write cost).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parents[2]
# --checkout DIR: the code to measure (e.g. a worktree of main for "before"), first on the path.
_at = sys.argv.index("--checkout") + 1 if "--checkout" in sys.argv else 0
sys.path.insert(0, str(Path(sys.argv[_at]).resolve() if _at else ROOT))

from helpdesk.db import Database  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import Queue  # noqa: E402
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402
from helpdesk.tickets import Identity, InboundMessage, receive_inbound  # noqa: E402


def wal_state(wal: Path) -> tuple[int, int]:
    """(checkpoint sequence number from the WAL header, WAL file size in bytes)."""
    try:
        with open(wal, "rb") as f:
            head = f.read(16)
        size = wal.stat().st_size
    except FileNotFoundError:
        return (-1, 0)
    if len(head) < 16:
        return (-1, size)
    return (struct.unpack(">I", head[12:16])[0], size)


def run(args: argparse.Namespace) -> list[float]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-corelat-"))
    url = f"sqlite:///{tmp / 'helpdesk.db'}"
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        channels=(),
        triage="local",
        log_level="WARNING",
        socketio_channel=f"lat-{uuid.uuid4().hex[:6]}",
    ).resolved()
    db = Database(url)
    if args.autocheckpoint >= 0:

        @event.listens_for(db.engine, "connect")
        def _auto(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={args.autocheckpoint}")  # type: ignore[attr-defined]

        db.engine.dispose()
    upgrade(db)
    with db.transaction() as s:
        if args.no_0035:
            for name in ("ix_tickets_due_order", "ix_tickets_status_due_order", "ix_tickets_category"):
                s.execute(text(f"DROP INDEX IF EXISTS {name}"))
        s.add(Queue(name="triage", title="Triage"))
    svc = Services(settings=settings, db=db)
    wal = tmp / "helpdesk.db-wal"
    collections: list[int] = []
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))

    def one(i: int) -> None:
        receive_inbound(
            svc,
            InboundMessage(
                channel="web",
                sender=Identity("email", f"gradjanin{i}@example.rs"),
                sender_name="Građanin",
                subject="Ne mogu da se prijavim",
                text="Lozinka ne radi posle resetovanja.",
            ),
        )

    for i in range(args.warm):
        one(i)
    lat, cpu, restarts, grown, gcs = [], [], [], [], []
    before = wal_state(wal)
    print(f"measured from {time.time():.6f}", flush=True)  # for a trace of the syscalls (strace -ttt)
    start = time.perf_counter()
    for i in range(args.warm, args.warm + args.count):
        if args.rate:  # paced: create n starts at n / rate seconds (at once when behind)
            time.sleep(max(0.0, start + (i - args.warm) / args.rate - time.perf_counter()))
        collections.clear()
        t, c = time.perf_counter(), time.thread_time()
        one(i)
        lat.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        after = wal_state(wal)
        restarts.append(after[0] != before[0])
        grown.append(max(0, after[1] - before[1]) // 4096)
        gcs.append(max(collections, default=-1))
        before = after
    print(f"measured until {time.time():.6f}", flush=True)
    q = statistics.quantiles(lat, n=100)
    print(
        f"{len(lat)} creates: p50 {q[49] * 1e3:.2f} p90 {q[89] * 1e3:.2f} p95 {q[94] * 1e3:.2f} "
        f"p99 {q[98] * 1e3:.2f} max {max(lat) * 1e3:.2f} ms; mean {statistics.mean(lat) * 1e3:.2f} ms"
    )
    q = statistics.quantiles(cpu, n=100)
    print(
        f"this thread's CPU per create (load aside): p50 {q[49] * 1e3:.2f} p90 {q[89] * 1e3:.2f} "
        f"p95 {q[94] * 1e3:.2f} p99 {q[98] * 1e3:.2f} ms; mean {statistics.mean(cpu) * 1e3:.2f} ms"
    )
    at = [n for n, r in enumerate(restarts) if r]
    print(
        f"WAL restarts: {len(at)} (every {statistics.mean(b - a for a, b in zip(at, at[1:])):.1f} creates)"
        if len(at) > 1
        else f"WAL restarts: {len(at)}"
    )
    slow = sorted(range(len(lat)), key=lat.__getitem__, reverse=True)[: max(1, len(lat) // 20)]
    # A restart at create n means create n-1's commit checkpointed.
    ck = {n - 1 for n in at}
    print(
        f"slowest 5%: {sum(n in ck for n in slow)} checkpointed, "
        f"{sum(gcs[n] == 2 for n in slow)} with a full GC, {sum(gcs[n] >= 0 for n in slow)} with any GC; "
        f"all creates: {len(ck)} checkpointed, {sum(g == 2 for g in gcs)} full GCs"
    )
    if ck:
        ckl = [lat[n] for n in ck if n < len(lat)]
        rest = [lat[n] for n in range(len(lat)) if n not in ck]
        print(
            f"checkpointing creates: median {statistics.median(ckl) * 1e3:.2f} ms; "
            f"others median {statistics.median(rest) * 1e3:.2f} p95 "
            f"{statistics.quantiles(rest, n=100)[94] * 1e3:.2f} ms"
        )
    pages = wal_state(wal)[1] // 4096
    print(f"WAL growth per create: median {statistics.median(grown)} pages; file {pages} pages")
    if args.dump:
        with open(args.dump, "w") as f:
            for n, x in enumerate(lat):
                f.write(f"{n}\t{x * 1e3:.3f}\t{int(n in ck)}\t{gcs[n]}\t{grown[n]}\n")
    db.dispose()
    return lat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--autocheckpoint", type=int, default=-1)
    parser.add_argument("--no-0035", action="store_true")
    parser.add_argument("--dump", default="")
    parser.add_argument("--rate", type=float, default=0.0, help="creates per second (default: back to back)")
    parser.add_argument("--checkout", default="", help="the checkout whose helpdesk to measure")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
