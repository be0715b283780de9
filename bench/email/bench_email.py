"""Email ingest benchmark: durable ingest rate of our SMTP server beside a bare aiosmtpd sink.

"Durable" means the server answered 250 only after the raw mail was committed to the spool (group
commit, synced); the spool worker in the same process (as in the embedded server) then makes the
tickets, and the end-to-end latency from the start of each DATA to its ticket's commit is measured
too. The bare sink answers 250 without doing anything, so the ratio shows what spooling costs on
this machine.

A single sink run swings by 2x from run to run on the shared machine, so both servers run side by
side for ``--rounds`` rounds, alternating which goes first (sink, ours, ours, sink, ...), after a
warm-up round of each that is not counted; the table gives every round's rates and ratio, then the
medians. Both get the same client (``smtp_client.py``: one smtplib session per sender, a thread
each, in a process of its own) and mails of the same size; each round of ours waits until all its
mails are tickets before the next round starts. The client process's CPU per mail is given, and
the server process's (this one's: for ours the SMTP loop, the spool's committer and the worker) for
each round: on a loaded machine the rates follow the share of the CPU the process gets, the CPU per
mail much less so.

    .venv/bin/python bench/email/bench_email.py --senders 8 --messages 50
    .venv/bin/python bench/email/bench_email.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python bench/email/bench_email.py --worker-after   # the SMTP side alone (see below)

``--worker-after`` starts the spool worker of each round only once every mail is spooled: the
ingest figure is then the SMTP side alone (as with ``helpdesk smtp`` and ``helpdesk worker`` in two
processes on two cores), and the DATA -> ticket figure means nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).resolve().with_name("smtp_client.py")
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from channels.email.server import SmtpService, _Controller  # noqa: E402
from channels.email.spool_worker import SpoolWorker  # noqa: E402
from helpdesk.db import Database  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import Message  # noqa: E402
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402

SUPPORT = "podrska@helpdesk.localhost"


class Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK"


@dataclass
class Run:
    count: int
    elapsed: float
    latencies: list[float]
    client_cpu: float  # seconds of CPU of the client process while it sent
    server_cpu: float  # seconds of CPU of this process (the server's) meanwhile
    started: dict[str, float] = field(default_factory=dict)  # Message-ID -> wall clock at send
    to_ticket: list[float] = field(default_factory=list)  # DATA -> ticket committed, seconds

    @property
    def rate(self) -> float:
        return self.count / self.elapsed


def run_senders(host: str, port: int, senders: int, per_sender: int, tag: str) -> Run:
    """One round: the client process (smtp_client.py) sends, each sender one session, one mail
    after another; it is ready (mails built, sessions open) before the clock starts."""
    client = subprocess.Popen(
        [sys.executable, str(CLIENT), host, str(port), str(senders), str(per_sender), tag],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    if client.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP client did not start")
    cpu = time.process_time()
    client.stdin.write("go\n")
    client.stdin.flush()
    result = json.loads(client.stdout.readline())
    server_cpu = time.process_time() - cpu
    client.wait()
    if result["errors"]:
        raise SystemExit(f"{len(result['errors'])} sends failed, first: {result['errors'][0]}")
    return Run(
        senders * per_sender,
        result["elapsed"],
        result["latencies"],
        result["cpu"],
        server_cpu,
        result["started"],
    )


def count_messages(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Message)) or 0


def wait_for_tickets(db: Database, until: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    stored = count_messages(db)
    while stored < until and time.monotonic() < deadline:
        time.sleep(0.02)
        stored = count_messages(db)
    return stored


def to_ticket_latencies(db: Database, started: dict[str, float]) -> list[float]:
    with db.session() as s:
        rows = s.execute(
            select(Message.external_id, Message.created_at).where(Message.external_id.in_(list(started)))
        ).all()
    return [r.created_at.timestamp() - started[r.external_id] for r in rows]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=50, help="per sender and round")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (after one warm-up)")
    parser.add_argument("--database-url", default="", help="default: SQLite (WAL) in a tmp dir")
    parser.add_argument("--worker-after", action="store_true", help="start the worker after the ingest")
    args = parser.parse_args()
    per_round = args.senders * args.messages

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            {}, data_dir=Path(tmp), database_url=args.database_url, support_address=SUPPORT
        )
        db = Database(settings.database_url)
        upgrade(db)
        svc = Services(settings=settings, db=db)
        worker = SpoolWorker(svc)
        server = SmtpService(svc, "127.0.0.1", 0, on_spooled=worker.wake, gate=worker.gate)
        sink = _Controller(Sink(), hostname="127.0.0.1", port=0)
        sink.start()
        server.start()
        sinks: list[Run] = []
        ours: list[Run] = []
        to_ticket: list[float] = []
        try:
            for rnd in range(args.rounds + 1):  # round 0 warms up both and is not counted
                order = ("sink", "ours") if rnd % 2 == 0 else ("ours", "sink")
                for target in order:
                    tag = f"r{rnd:02d}{target}"
                    if target == "sink":
                        result = run_senders("127.0.0.1", sink.port, args.senders, args.messages, tag)
                        if rnd:
                            sinks.append(result)
                        continue
                    before = count_messages(db)
                    if not args.worker_after:
                        worker.start()
                    result = run_senders("127.0.0.1", server.port, args.senders, args.messages, tag)
                    worker.start()
                    stored = wait_for_tickets(db, before + per_round) - before
                    worker.stop()
                    if stored != per_round:
                        raise SystemExit(f"round {rnd}: only {stored} of {per_round} accepted mails stored")
                    if rnd:
                        result.to_ticket = to_ticket_latencies(db, result.started)
                        ours.append(result)
                        to_ticket += result.to_ticket
        finally:
            server.stop()
            worker.stop()
            sink.stop()
            db.dispose()

    store = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite WAL"
    mode = "worker started after each ingest" if args.worker_after else "worker running during the ingest"
    print(
        f"{args.senders} concurrent senders x {args.messages} mails per round, {args.rounds} rounds "
        f"after a warm-up, store: {store}, {mode}, load average {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| round | sink msgs/s | ours msgs/s | ratio | sink 250 p50/p95 ms | ours 250 p50/p95 ms "
        "| ours DATA→ticket p50/max ms | server CPU ms/mail sink / ours |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for i, (a, b) in enumerate(zip(sinks, ours, strict=True), 1):
        print(
            f"| {i} | {a.rate:,.0f} | {b.rate:,.0f} | {b.rate / a.rate:.3f} | "
            f"{pct(a.latencies, 0.5) * 1000:.1f} / {pct(a.latencies, 0.95) * 1000:.1f} | "
            f"{pct(b.latencies, 0.5) * 1000:.1f} / {pct(b.latencies, 0.95) * 1000:.1f} | "
            f"{pct(b.to_ticket, 0.5) * 1000:.0f} / {max(b.to_ticket) * 1000:.0f} | "
            f"{a.server_cpu / a.count * 1000:.2f} / {b.server_cpu / b.count * 1000:.2f} |"
        )
    sink_med = statistics.median(r.rate for r in sinks)
    ours_med = statistics.median(r.rate for r in ours)
    ratios = [b.rate / a.rate for a, b in zip(sinks, ours, strict=True)]
    print(
        f"\nmedians: sink {sink_med:,.0f} msgs/s (best {max(r.rate for r in sinks):,.0f}), "
        f"ours {ours_med:,.0f} msgs/s; ratio of medians {ours_med / sink_med:.3f}, "
        f"median of round ratios {statistics.median(ratios):.3f}, "
        f"ours median / sink best {ours_med / max(r.rate for r in sinks):.3f}"
    )

    def per_mail(runs: list[Run], attr: str) -> str:
        return f"{statistics.median(getattr(r, attr) / r.count * 1000 for r in runs):.2f} ms"

    print(
        f"CPU per mail (median of rounds): the client process {per_mail(sinks, 'client_cpu')} "
        f"(sending to the sink) / {per_mail(ours, 'client_cpu')} (to ours); the server process: "
        f"sink {per_mail(sinks, 'server_cpu')}, ours {per_mail(ours, 'server_cpu')} "
        f"({'SMTP and spool' if args.worker_after else 'SMTP, spool and the worker running beside'})"
    )
    within = sum(1 for t in to_ticket if t <= 2.0)
    print(
        f"DATA -> ticket committed ({len(to_ticket)} mails): p50 {pct(to_ticket, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(to_ticket, 0.95) * 1000:.0f} ms, max {max(to_ticket) * 1000:.0f} ms; "
        f"within 2 s: {within}/{len(to_ticket)}"
    )


if __name__ == "__main__":
    main()
