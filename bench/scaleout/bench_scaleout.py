"""Chat throughput through nginx with one and with two `helpdesk serve --production` processes.

Both runs in the same invocation, on the same PostgreSQL and Redis, so the ratio survives a noisy
machine. Each citizen connects through nginx (WebSocket transport, as browsers end up using) and
sends its messages one after another, each waiting for the server's acknowledgement (the message is
committed and announced to the consoles through Redis).

nginx balances round-robin here, not ip_hash: every client of the benchmark comes from 127.0.0.1,
and ip_hash would send them all to one process. A WebSocket-only client needs no stickiness (one
connection); deploy/nginx/helpdesk.conf keeps ip_hash for browsers, whose long-polling does.

    .venv/bin/python bench/scaleout/bench_scaleout.py --clients 20 --messages 20 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/helpdesk_bench \
        --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "functional"))

from hd_prod import Nginx, web  # noqa: E402
from hd_servers import Citizen, base_env, free_port, prepare_store  # noqa: E402


def fresh_database(url: str) -> None:
    """Create the database if needed and empty it (the benchmark owns it)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def run(nodes: int, args: argparse.Namespace, work: Path) -> dict[str, float]:
    fresh_database(args.database_url)
    env = base_env(
        work / f"data-{nodes}",
        HELPDESK_DATABASE_URL=args.database_url,
        HELPDESK_REDIS_URL=args.redis_url,
        HELPDESK_SOCKETIO_CHANNEL=f"helpdesk-bench-{uuid.uuid4().hex[:8]}",
        HELPDESK_SECRET_KEY="scale-out-bench-" + "k" * 32,
        HELPDESK_EMBEDDED_SERVICES="0",
        HELPDESK_PROXY_HOPS="1",
        HELPDESK_THREADS=str(max(50, args.clients * 2)),
    )
    (work / f"data-{nodes}").mkdir(parents=True, exist_ok=True)
    prepare_store(env, [])
    ports = [free_port() for _ in range(nodes)]
    nginx = Nginx(work / f"nginx-{nodes}", ports, balance="")
    env["HELPDESK_PUBLIC_URL"] = nginx.url
    servers = [web(env, work / f"web-{nodes}-{p}.log", port=p, ready=False) for p in ports]
    latencies: list[float] = []
    lock = threading.Lock()
    try:
        for server in servers:
            server.ready()
        nginx.start()
        citizens = [Citizen(nginx.url) for _ in range(args.clients)]
        for citizen in citizens:
            citizen.connect()
        start = threading.Barrier(args.clients + 1)

        def talk(citizen: Citizen, n: int) -> None:
            start.wait()
            for i in range(args.messages):
                t0 = time.perf_counter()
                reply = citizen.send(f"Poruka {i} građanina {n}: kako da promenim adresu?")
                assert reply and reply["ok"], reply
                with lock:
                    latencies.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=talk, args=(c, n)) for n, c in enumerate(citizens)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        for citizen in citizens:
            citizen.drop()
    finally:
        nginx.stop()
        for server in servers:
            server.stop()
    latencies.sort()
    total = args.clients * args.messages
    return {
        "msgs/s": total / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/helpdesk_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hd-scaleout-") as tmp:
        one = run(1, args, Path(tmp))
        two = run(2, args, Path(tmp))
    print(f"{args.clients} citizens x {args.messages} chat messages through nginx, PostgreSQL + Redis")
    print("| app processes | msgs/s | p50 ms | p95 ms | ratio |")
    print("|---|---|---|---|---|")
    for nodes, figures in ((1, one), (2, two)):
        ratio = figures["msgs/s"] / one["msgs/s"]
        print(
            f"| {nodes} | {figures['msgs/s']:.1f} | {figures['p50']:.0f} | {figures['p95']:.0f} "
            f"| {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
