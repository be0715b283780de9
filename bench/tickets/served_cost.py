"""What one API create costs the gunicorn worker, in figures that do not move with the machine's load.

    .venv/bin/python -m bench.tickets.served_cost [--count 1000] [--calls] [--instructions] [--stub]

The server is started as bench_tickets.py's "as served" row starts it (gunicorn with
helpdesk.gunicorn_config, one worker, SQLite in a tmp dir) from the checkout this module is in;
run it from that checkout's directory (``-m``: its own helpdesk and bench), e.g. a detached
worktree of main for "before". One keep-alive client, 20 warm-ups, then --count creates. Always
printed: req/s, p50, the worker's CPU per create from /proc (user, system, its main thread) and
its voluntary context switches, all of which move with the machine's load.

--calls: Python calls per create in the worker (cProfile around gthread's ``handle``: parsing,
  the app, the response write); with --around, without the core ``receive_inbound_ticket``.
--instructions: user-space instructions per create in the worker, every thread (valgrind's
  callgrind, switched on after the warm-ups through its client requests; needs valgrind, its
  headers and a C compiler; ~100x slower, so use --count 200). Repeats within ~0.2%.
--stub: the core write replaced by a canned ticket (what the app and gunicorn cost around it).
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.tickets.bench_tickets import cpu_seconds, free_port
from helpdesk.db import Database
from helpdesk.migrate import upgrade
from helpdesk.models import Queue

ROOT = Path(__file__).resolve().parents[2]
WARM = 20

# A gunicorn config: ours, plus the measurement around the worker's handle() (a request each).
CONFIG = """
import os, threading
from helpdesk.gunicorn_config import *  # noqa
from helpdesk import gunicorn_config as _base

_n, _lock = [0], threading.Lock()
_first = int(os.environ["COST_FIRST"])
_last = _first + int(os.environ["COST_COUNT"]) - 1


def post_worker_init(worker):
    _base.post_worker_init(worker)
    if os.environ.get("COST_STUB"):
        from helpdesk.api import views
        from helpdesk.tickets.types import InboundResult
        ticket = {"reference": "HD-2026-000001", "status": "new", "subject": "S", "priority": "normal",
                  "queue": "triage", "channel": "web", "contact_name": "C", "last_seq": 1,
                  "created_at": "2026-11-30T10:00:00+00:00", "updated_at": "2026-11-30T10:00:00+00:00"}
        result = InboundResult(ticket_reference="HD-2026-000001", ticket_id=1, message_id=1, seq=1,
                               created=True, reopened=False)
        views.receive_inbound_ticket = lambda svc, msg: (result, dict(ticket))
    inner, start, stop, dump = worker.handle, lambda: None, lambda: None, lambda: None
    if os.environ.get("COST_PROFILE"):
        import cProfile
        profile = cProfile.Profile()
        start, stop = profile.enable, profile.disable
        worker.cost_profile = profile
        if os.environ.get("COST_AROUND"):
            from helpdesk.api import views
            core = views.receive_inbound_ticket

            def without_core(*args, **kwargs):
                profile.disable()
                try:
                    return core(*args, **kwargs)
                finally:
                    profile.enable()

            views.receive_inbound_ticket = without_core
    if os.environ.get("COST_CALLGRIND"):
        import ctypes
        lib = ctypes.CDLL(os.environ["COST_CALLGRIND"])
        start, dump = lib.cost_start, lib.cost_dump

    def handle(conn):
        with _lock:
            _n[0] += 1
            n = _n[0]
        on = _first <= n <= _last
        if on:
            start()
        try:
            return inner(conn)
        finally:
            if on:
                stop()
            if n == _last:
                dump()

    worker.handle = handle


def worker_exit(server, worker):
    _base.worker_exit(server, worker)
    if getattr(worker, "cost_profile", None) is not None:
        worker.cost_profile.dump_stats(os.environ["COST_PROFILE"])
"""

# Callgrind's client requests: count from the first measured request, dump after the last.
CALLGRIND_C = r"""
#include <valgrind/callgrind.h>
static int started = 0;
void cost_start(void) {
    if (!started) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; started = 1; }
}
void cost_dump(void) { CALLGRIND_DUMP_STATS_AT("measured"); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def post(conn: http.client.HTTPConnection, i: int) -> None:
    body = json.dumps(
        {
            "contact": {"name": "Građanin", "email": f"cost{i}@example.rs"},
            "subject": "Plaćanje takse",
            "body": "Uplata nije evidentirana.",
        }
    ).encode()
    conn.request("POST", "/api/v1/tickets", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 201 or response.will_close:
        raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")


def switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def thread_cpu(pid: int) -> tuple[float, float, float]:
    """(user, system) of the process and the CPU of its main thread, seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    main = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) / tick, int(fields[12]) / tick, (int(main[11]) + int(main[12])) / tick


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--calls", action="store_true")
    parser.add_argument("--around", action="store_true", help="with --calls: without the core write")
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--stub", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="served-cost-"))
    url = f"sqlite:///{tmp / 'helpdesk.db'}"
    db = Database(url)
    upgrade(db)
    with db.transaction() as s:
        s.add(Queue(name="triage", title="Triage"))
    (tmp / "cost_config.py").write_text(CONFIG)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        {
            "HELPDESK_DATA_DIR": str(tmp),
            "HELPDESK_DATABASE_URL": url,
            "HELPDESK_SECRET_KEY": "x" * 40,
            "HELPDESK_CHANNELS": "",
            "HELPDESK_TRIAGE": "local",
            "HELPDESK_LOG_LEVEL": "WARNING",
            "HELPDESK_API_TICKET_RATE_LIMIT": "1000000 per minute",
            "HELPDESK_EMBEDDED_SERVICES": "0",
            "HELPDESK_SOCKETIO_CHANNEL": f"cost-{uuid.uuid4().hex[:6]}",
            "PYTHONPATH": f"{ROOT}:{tmp}",
            "COST_FIRST": str(WARM + 2),
            "COST_COUNT": str(args.count),  # +1: the health check
        }
    )
    prefix: list[str] = []
    if args.stub:
        env["COST_STUB"] = "1"
    if args.calls:
        env["COST_PROFILE"] = str(tmp / "profile.out")
        env["COST_AROUND"] = "1" if args.around else ""
    if args.instructions:
        (tmp / "cost.c").write_text(CALLGRIND_C)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", tmp / "cost.so", tmp / "cost.c"], check=True)
        env["COST_CALLGRIND"] = str(tmp / "cost.so")
        env["PYTHONHASHSEED"] = "0"
        prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/cg.%p"]
    with open(tmp / "gunicorn.log", "ab") as log:
        proc = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:cost_config",
                "--bind",
                f"127.0.0.1:{port}",
                "helpdesk.wsgi:app",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    try:
        worker = _wait(proc, port, tmp, 900 if args.instructions else 120)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for i in range(WARM):
            post(conn, i)
        before, cpu0, sw0 = thread_cpu(worker), cpu_seconds(worker), switches(worker)
        latencies = []
        start = time.perf_counter()
        for i in range(WARM, WARM + args.count):
            t = time.perf_counter()
            post(conn, i)
            latencies.append(time.perf_counter() - t)
        wall = time.perf_counter() - start
        after, cpu1, sw1 = thread_cpu(worker), cpu_seconds(worker), switches(worker)
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(600)
    n = args.count
    user, system, main_thread = ((b - a) / n * 1000 for a, b in zip(before, after, strict=True))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"{ROOT.name}{' (core stubbed)' if args.stub else ''}: {n / wall:.0f}/s, p50 "
        f"{statistics.median(latencies) * 1000:.2f} ms, worker CPU {(cpu1 - cpu0) / n * 1000:.3f} ms per "
        f"create (user {user:.3f}, system {system:.3f}, main thread {main_thread:.3f}), "
        f"{(sw1 - sw0) / n:.1f} voluntary context switches; load {load}"
    )
    if args.calls:
        stats = pstats.Stats(str(tmp / "profile.out"))
        where = " around the core" if args.around else ""
        print(f"  Python calls per create{where}: {stats.total_calls / n:,.0f}")
    if args.instructions:
        total = 0
        for path in glob.glob(f"{tmp}/cg.{worker}*"):
            text = Path(path).read_text(errors="replace")
            if "measured" not in text.split("events:")[0]:
                continue  # not the dump after the last measured create
            for line in text.splitlines():
                if line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
        print(f"  instructions per create (worker, user space): {total / n:,.0f}")


def _wait(proc: subprocess.Popen[bytes], port: int, tmp: Path, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((tmp / "gunicorn.log").read_text(errors="replace")[-3000:])
        time.sleep(0.5)
    return int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])


if __name__ == "__main__":
    main()
