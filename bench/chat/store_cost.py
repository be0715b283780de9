"""What one chat message costs the store, in one thread: the chat handler's database work
(visitor row and receive_inbound in one transaction) beside a raw SQL insert of the same text in the same
SQLite file, measured in the same run.

    .venv/bin/python bench/chat/store_cost.py [--n 300]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from channels.chat import store
from helpdesk.db import Database
from helpdesk.events import RecordingPublisher
from helpdesk.migrate import upgrade
from helpdesk.services import Services, SystemClock
from helpdesk.settings import Settings
from helpdesk.tickets import Identity, InboundMessage, ThreadHints, receive_inbound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-store-"))
    settings = Settings(data_dir=tmp, secret_key="x" * 40, triage="local").resolved()
    db = Database(settings.database_url)
    upgrade(db)
    svc = Services(settings=settings, db=db, publisher=RecordingPublisher(), clock=SystemClock())

    raw: list[float] = []
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE raw_messages (id INTEGER PRIMARY KEY, body TEXT)"))
    for i in range(args.n):
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO raw_messages (body) VALUES (:b)"), {"b": f"poruka {i}"})
        raw.append((time.perf_counter() - t0) * 1000)

    chat: list[float] = []
    for i in range(args.n):
        hashed = store.token_hash(f"token-{i % 50:040d}")  # 50 citizens, several messages each
        t0 = time.perf_counter()
        now = svc.clock.now()
        # As channels/chat/namespace.py does it: the visitor touched in the message's transaction.
        touch = functools.partial(store.touch_in, hashed=hashed, now=now, name="Milica", language="sr-Latn")
        receive_inbound(
            svc,
            InboundMessage(
                channel="chat",
                sender=Identity("chat", hashed),
                subject="",
                text=f"poruka {i} o porezu na imovinu",
                client_id=f"c{i:012d}",
                hints=ThreadHints(latest_on_channel=True),
            ),
            in_transaction=touch,
        )
        chat.append((time.perf_counter() - t0) * 1000)

    def line(name: str, ms: list[float]) -> str:
        return (
            f"| {name:<28} | {len(ms):>5} | {statistics.median(ms):>8.2f} | "
            f"{statistics.quantiles(ms, n=100)[94]:>8.2f} | {1000 / statistics.mean(ms):>8.1f} |"
        )

    print("one thread, SQLite (WAL) in a temp dir\n")
    print("| operation                    |     n |   p50 ms |   p95 ms |  per s   |")
    print("|------------------------------|-------|----------|----------|----------|")
    print(line("raw INSERT + commit", raw))
    print(line("chat message (store work)", chat))
    print(f"\nratio p50: {statistics.median(chat) / statistics.median(raw):.1f}x")
    db.dispose()


if __name__ == "__main__":
    main()
