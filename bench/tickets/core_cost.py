"""What one core ``receive_inbound`` (a new citizen's first ticket, SQLite) costs, in figures that
do not move with the machine's load: user-space instructions per create (valgrind's callgrind,
switched on after the warm-ups through its client requests), split into Python, SQLite and libc.

    .venv/bin/python bench/tickets/core_cost.py [--count 100] [--checkout DIR]

``--checkout``: the code to measure (default: this file's checkout), e.g. a detached worktree of
main for "before"; its helpdesk is put first on the path. The message is bench_tickets.py's core
row. Needs valgrind, its headers and a C compiler; ~50x slower than a plain run (~2 min). Two
runs of the same code agree within ~0.1%. ``--inner`` is the measured process itself (started
under valgrind by the outer one).
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WARM = 30
CALLGRIND_C = r"""
#include <valgrind/callgrind.h>
void cost_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void cost_dump(void) { CALLGRIND_DUMP_STATS_AT("measured"); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def inner(count: int, tmp: Path) -> None:
    from helpdesk.db import Database
    from helpdesk.migrate import upgrade
    from helpdesk.models import Queue
    from helpdesk.services import Services
    from helpdesk.settings import Settings
    from helpdesk.tickets import Identity, InboundMessage, receive_inbound

    lib = ctypes.CDLL(str(tmp / "cost.so"))
    url = f"sqlite:///{tmp / 'helpdesk.db'}"
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        channels=(),
        triage="local",
        log_level="WARNING",
        socketio_channel=f"cost-{uuid.uuid4().hex[:6]}",
    ).resolved()
    db = Database(url)
    upgrade(db)
    with db.transaction() as s:
        s.add(Queue(name="triage", title="Triage"))
    svc = Services(settings=settings, db=db)

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

    for i in range(WARM):
        one(i)
    lib.cost_start()
    for i in range(WARM, WARM + count):
        one(i)
    lib.cost_dump()


def by_object(path: str) -> tuple[int, dict[str, int]]:
    """All instructions, and those of python / sqlite / libc: by the function's object, or its
    source file where callgrind_annotate names none."""
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parts: dict[str, int] = {}
    total = 0
    for line in out.splitlines():
        match = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*)$", line)
        if match is None:
            continue
        n, where = int(match.group(1).replace(",", "")), match.group(2)
        if where.strip() == "PROGRAM TOTALS":
            total = n
            continue
        if "libsqlite" in where:
            kind = "sqlite"
        elif "python" in where.lower() or ".venv" in where:
            kind = "python"
        elif "libc" in where or "sysdeps" in where or "nptl" in where:
            kind = "libc"
        else:
            kind = "other"
        parts[kind] = parts.get(kind, 0) + n
    parts["other"] = parts.get("other", 0) + total - sum(parts.values())
    return total, parts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--inner", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    if args.inner:
        inner(args.count, Path(args.inner))
        return
    tmp = Path(tempfile.mkdtemp(prefix="core-cost-"))
    (tmp / "cost.c").write_text(CALLGRIND_C)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", tmp / "cost.so", tmp / "cost.c"], check=True)
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=f"{checkout}:{os.environ.get('PYTHONPATH', '')}")
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={tmp}/cg.%p",
            sys.executable,
            str(Path(__file__).resolve()),
            "--count",
            str(args.count),
            "--inner",
            str(tmp),
        ],
        env=env,
        cwd=checkout,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    dumps = [p for p in glob.glob(f"{tmp}/cg.*") if "measured" in Path(p).read_text(errors="replace")[:2000]]
    total, parts = by_object(dumps[0])
    shares = ", ".join(f"{k} {v / args.count:,.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
    print(
        f"{checkout.name}: core receive_inbound, instructions per create {total / args.count:,.0f} ({shares})"
    )


if __name__ == "__main__":
    main()
