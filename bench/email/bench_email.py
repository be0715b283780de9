"""Email ingest benchmark: durable ingest rate of our SMTP server beside a bare aiosmtpd sink.

"Durable" means the server answered 250 only after the raw mail was committed to the spool (group
commit, synced); the spool worker in the same process (as in the embedded server) then makes the
tickets, and the end-to-end latency from the start of each DATA to its ticket's commit is measured
too. The bare sink answers 250 without doing anything, so the ratio shows what spooling costs on
this machine, measured in the same run so a noisy machine does not distort it.

    .venv/bin/python bench/email/bench_email.py --senders 8 --messages 50
    .venv/bin/python bench/email/bench_email.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python bench/email/bench_email.py --worker-after   # the SMTP side alone (see below)

``--worker-after`` starts the spool worker only once every mail is spooled: the ingest figure is
then the SMTP side alone (as with ``helpdesk smtp`` and ``helpdesk worker`` in two processes on
two cores), and the DATA -> ticket figure means nothing.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
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
BODY = (
    "Poštovani,\n\npokušavam da zakažem termin za ličnu kartu preko portala eUprava, ali posle "
    'prijave dobijam grešku "Sesija je istekla". Probala sam u dva pregledača.\nMolim vas za '
    "pomoć.\n\nHvala,\nJelena\n"
)


class Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK"


def make_mail(sender: int, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Građanin {sender} <gradjanin{sender}.{n}@example.rs>"
    msg["To"] = SUPPORT
    msg["Subject"] = f"Termin za ličnu kartu {sender}-{n}"
    msg["Message-ID"] = make_msgid(domain="example.rs")
    msg.set_content(BODY)
    return msg.as_bytes().replace(b"\n", b"\r\n")


def run_senders(
    host: str, port: int, senders: int, per_sender: int, started: dict[str, float] | None = None
) -> tuple[float, list[float]]:
    """Each sender keeps one SMTP session and sends its mails one after another, like an MTA.

    ``started`` gets the wall-clock time each mail's sending began, by Message-ID."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    barrier = threading.Barrier(senders + 1)

    def work(sender: int) -> None:
        mine: list[float] = []
        mails = [make_mail(sender, n) for n in range(per_sender)]
        with smtplib.SMTP(host, port, timeout=120) as smtp:
            smtp.ehlo("bench.example.rs")
            barrier.wait()
            for raw in mails:
                if started is not None:
                    started[message_id(raw)] = time.time()
                start = time.perf_counter()
                try:
                    smtp.sendmail(f"gradjanin{sender}@example.rs", [SUPPORT], raw)
                except smtplib.SMTPException as exc:
                    errors.append(str(exc))
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} sends failed, first: {errors[0]}")
    return elapsed, latencies


def message_id(raw: bytes) -> str:
    line = next(h for h in raw.split(b"\r\n") if h.lower().startswith(b"message-id:"))
    return line.split(b"<", 1)[1].split(b">", 1)[0].decode().lower()


def wait_for_tickets(db: Database, total: int, before: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    stored = 0
    while time.monotonic() < deadline:
        with db.session() as s:
            stored = (s.scalar(select(func.count()).select_from(Message)) or 0) - before
        if stored >= total:
            break
        time.sleep(0.05)
    return stored


def to_ticket_latencies(db: Database, started: dict[str, float]) -> list[float]:
    with db.session() as s:
        rows = s.execute(select(Message.external_id, Message.created_at)).all()
    return [r.created_at.timestamp() - started[r.external_id] for r in rows if r.external_id in started]


def row(name: str, count: int, elapsed: float, latencies: list[float]) -> str:
    lat = sorted(latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))]
    return (
        f"| {name:<34} | {count:>6} | {elapsed:>7.2f} | {count / elapsed:>8.1f} | "
        f"{statistics.median(lat) * 1000:>7.1f} | {p95 * 1000:>7.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=50, help="per sender")
    parser.add_argument("--database-url", default="", help="default: SQLite (WAL) in a tmp dir")
    parser.add_argument("--worker-after", action="store_true", help="start the worker after the ingest")
    args = parser.parse_args()
    total = args.senders * args.messages

    sink_controller = _Controller(Sink(), hostname="127.0.0.1", port=0)
    sink_controller.start()
    try:
        raw_elapsed, raw_lat = run_senders("127.0.0.1", sink_controller.port, args.senders, args.messages)
    finally:
        sink_controller.stop()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            {}, data_dir=Path(tmp), database_url=args.database_url, support_address=SUPPORT
        )
        db = Database(settings.database_url)
        upgrade(db)
        svc = Services(settings=settings, db=db)
        with db.session() as s:
            before = s.scalar(select(func.count()).select_from(Message)) or 0
        worker = SpoolWorker(svc)
        if not args.worker_after:
            worker.start()
        server = SmtpService(svc, "127.0.0.1", 0, on_spooled=worker.wake, gate=worker.gate)
        server.start()
        started: dict[str, float] = {}
        try:
            ours_elapsed, ours_lat = run_senders(
                "127.0.0.1", server.port, args.senders, args.messages, started
            )
            if args.worker_after:
                worker.start()
            stored = wait_for_tickets(db, total, before)
        finally:
            server.stop()
            worker.stop()
        to_ticket = sorted(to_ticket_latencies(db, started))
        db.dispose()
    if stored != total:
        raise SystemExit(f"only {stored} of {total} accepted messages are in the store")

    store = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite WAL"
    mode = "worker started after the ingest" if args.worker_after else "worker running during the ingest"
    print(f"{args.senders} concurrent senders x {args.messages} messages, store: {store}, {mode}\n")
    print("| target                             |   msgs |       s |  msgs/s | p50 ms  | p95 ms  |")
    print("|------------------------------------|--------|---------|---------|---------|---------|")
    print(row("bare aiosmtpd sink (250 at once)", total, raw_elapsed, raw_lat))
    print(row("helpdesk SMTP (250 once spooled)", total, ours_elapsed, ours_lat))
    ratio = (total / ours_elapsed) / (total / raw_elapsed)
    print(f"\ndurable ingest / bare sink = {ratio:.3f}  ({stored} messages verified in the store)")
    p50 = statistics.median(to_ticket)
    p95 = to_ticket[int(0.95 * (len(to_ticket) - 1))]
    within = sum(1 for t in to_ticket if t <= 2.0)
    print(
        f"DATA -> ticket committed: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {to_ticket[-1] * 1000:.0f} ms; within 2 s: {within}/{len(to_ticket)}"
    )


if __name__ == "__main__":
    main()
