"""Write transactions an idle `helpdesk serve` begins on SQLite, per minute and per thread.

SQLite has one writer at a time: each ``BEGIN IMMEDIATE`` a background poller begins with nothing
to write is a moment in which a citizen's chat message (or any inbound write) waits, and in
SQLite's busy handler it sleeps 1, 2, 5, 10 ms... between tries (bench/README.md, "Chat paced").
This starts a real ``helpdesk serve`` (the default channels, embedded services and poll intervals,
a store with a few tickets whose targets are not yet due), lets the start-up passes finish, then
counts for ``--seconds`` which statements SQLite ran, by the thread that ran them: write
transactions (``BEGIN IMMEDIATE``) beside the read transactions (``BEGIN``) of the same threads,
the baseline of what an idle pass must do anyway. Nobody uses the server meanwhile.

    .venv/bin/python bench/idle_writes.py --seconds 60

The count is taken in the server process by a trace callback on each SQLite connection (installed
by the ``-c`` that starts it; nothing in the product counts).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "functional"))
sys.path.insert(0, str(ROOT))

from hd_servers import base_env, free_port, prepare_store  # noqa: E402

# Runs in the server: counts the statements SQLite is given, per thread, into a JSON file.
HOOK = r"""
import collections, json, os, threading, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

counts = collections.Counter()
lock = threading.Lock()

def statement(sql):
    word = sql.lstrip().split(None, 2)
    kind = " ".join(word[:2]).upper() if word and word[0].upper() == "BEGIN" else None
    if kind is not None:
        kind = "write" if kind == "BEGIN IMMEDIATE" else "read"
        with lock:
            counts[threading.current_thread().name.split("_")[0] + " " + kind] += 1

@event.listens_for(Engine, "connect")
def _trace(dbapi_connection, _record):
    if hasattr(dbapi_connection, "set_trace_callback"):
        dbapi_connection.set_trace_callback(statement)

def dump():
    path = os.environ["IDLE_WRITES_OUT"]
    while True:
        time.sleep(0.5)
        with lock:
            data = dict(counts)
        with open(path + ".tmp", "w") as f:
            json.dump(data, f)
        os.replace(path + ".tmp", path)

threading.Thread(target=dump, daemon=True, name="idle-writes-dump").start()
from helpdesk.cli import main
main()
"""


def seed(env: dict[str, str], tickets: int) -> None:
    """Tickets opened just now through the core (their SLA targets are hours away)."""
    from helpdesk.db import Database
    from helpdesk.services import Services
    from helpdesk.settings import Settings
    from helpdesk.tickets import Identity, InboundMessage, receive_inbound

    settings = Settings.from_env(env)
    svc = Services(settings=settings, db=Database(settings.database_url))
    for n in range(tickets):
        receive_inbound(
            svc,
            InboundMessage(
                channel="web",
                sender=Identity("email", f"gradjanin{n}@example.rs"),
                subject="Lična karta",
                text="Kada mogu da podignem ličnu kartu?",
                external_id=f"idle-{n}",
            ),
        )
    svc.db.dispose()


def read(path: Path) -> dict[str, int]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to count")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds after start not counted")
    parser.add_argument("--tickets", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="idle-writes-") as tmp:
        data = Path(tmp)
        out = data / "counts.json"
        port = free_port()
        env = base_env(data / "var", HELPDESK_SMTP_PORT=str(free_port()), IDLE_WRITES_OUT=str(out))
        for name in ("HELPDESK_CHANNELS", "HELPDESK_OUTBOX_POLL_SECONDS"):  # the defaults
            env.pop(name)
        env["HELPDESK_DATABASE_URL"] = f"sqlite:///{data / 'helpdesk.db'}"
        prepare_store(env, [{"email": "agent@helpdesk.test", "queues": ["triage"]}])
        seed(env, args.tickets)
        log = (data / "server.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", HOOK, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=dict(env, HELPDESK_HOST="127.0.0.1", HELPDESK_PORT=str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("server did not start:\n" + (data / "server.log").read_text()[-3000:])
                time.sleep(0.2)
            time.sleep(args.settle)  # the start-up passes (warm-up, first SLA check) are not idle
            before = read(out)
            started = time.monotonic()
            time.sleep(args.seconds)
            after = read(out)
            elapsed = time.monotonic() - started
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
    load = os.getloadavg()
    threads = sorted({key.rsplit(" ", 1)[0] for key in after})
    per_minute = 60.0 / elapsed
    loads = " ".join(f"{x:.2f}" for x in load)
    print(f"idle helpdesk serve on SQLite, {elapsed:.0f} s counted, load {loads}")
    print(f"{'thread':<24} {'write tx/min':>12} {'read tx/min':>12}")
    totals = [0.0, 0.0]
    for thread in threads:
        figures = [
            (after.get(f"{thread} {kind}", 0) - before.get(f"{thread} {kind}", 0)) * per_minute
            for kind in ("write", "read")
        ]
        if any(figures):
            totals = [t + f for t, f in zip(totals, figures, strict=True)]
            print(f"{thread:<24} {figures[0]:>12.1f} {figures[1]:>12.1f}")
    print(f"{'all':<24} {totals[0]:>12.1f} {totals[1]:>12.1f}")


if __name__ == "__main__":
    main()
