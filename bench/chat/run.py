"""Chat delivery benchmark: N concurrent citizens send messages while an agent console listens.

For every citizen message it measures the time from the citizen's emit until the agent console
receives the matching ``message.created`` event (store write, commit, publish, fan-out), and the
throughput; beside it, in the same run, a bare Flask-SocketIO acknowledged echo with the same
number of clients and messages (the raw baseline).

    .venv/bin/python bench/chat/run.py                # 50 and 200 citizens, 5 messages each
    .venv/bin/python bench/chat/run.py --clients 50 --messages 10
    .venv/bin/python bench/chat/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/test \
        --redis-url redis://127.0.0.1:6379/0    # a scratch database on that server, dropped after
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "functional"))
sys.path.insert(0, str(ROOT))

from hd_servers import Server, base_env, free_port, login_cookie, prepare_store  # noqa: E402

AGENT = "bench@helpdesk.test"
DIGITS_TO_LETTERS = str.maketrans("0123456789", "ghijklmnop")


class ScratchDatabase:
    """A database of its own on the given PostgreSQL server, dropped afterwards."""

    def __init__(self, server_url: str, prefix: str = "bench_chat") -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    def drop(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run_helpdesk(url: str, cookie: str, clients: int, messages: int) -> dict[str, Any]:
    received: dict[str, float] = {}
    sent: dict[str, float] = {}
    done = asyncio.Event()
    expected = clients * messages

    console = socketio.AsyncClient(reconnection=False)

    @console.on("message.created", namespace="/console")
    async def on_message(data: dict[str, Any]) -> None:
        tag = data["message"]["text"].split(" ", 1)[0]
        if tag in sent and tag not in received:
            received[tag] = time.perf_counter()
            if len(received) == expected:
                done.set()

    await console.connect(
        url, namespaces=["/console"], headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=20
    )

    async def citizen() -> int:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, namespaces=["/chat"], transports=["websocket"], wait_timeout=30)
        hello = await sio.call("hello", {"language": "sr-Latn"}, namespace="/chat", timeout=60)
        assert hello["ok"], hello
        failures = 0
        for i in range(messages):
            # Letters only: a hex tag with a valid 13-digit JMBG run in it is masked by the store
            # (helpdesk.privacy), and its message would look lost to the console's matcher.
            tag = uuid.uuid4().hex.translate(DIGITS_TO_LETTERS)
            sent[tag] = time.perf_counter()
            answer = await sio.call(
                "message",
                {"client_id": tag, "text": f"{tag} poruka broj {i} o porezu na imovinu"},
                namespace="/chat",
                timeout=120,
            )
            if not answer.get("ok"):
                failures += 1
        await sio.disconnect()
        return failures

    start = time.perf_counter()
    failures = sum(await asyncio.gather(*(citizen() for _ in range(clients))))
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    except TimeoutError:
        pass
    end = max(received.values(), default=time.perf_counter())
    await console.disconnect()
    latencies = [(received[t] - sent[t]) * 1000 for t in received]
    return {
        "latencies": latencies,
        "seconds": end - start,
        "delivered": len(received),
        "expected": expected,
        "failures": failures,
    }


async def run_echo(url: str, clients: int, messages: int) -> dict[str, Any]:
    latencies: list[float] = []

    async def client() -> None:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, namespaces=["/echo"], transports=["websocket"], wait_timeout=30)
        for i in range(messages):
            t0 = time.perf_counter()
            await sio.call("echo", {"text": f"poruka {i}"}, namespace="/echo", timeout=120)
            latencies.append((time.perf_counter() - t0) * 1000)
        await sio.disconnect()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - start
    n = clients * messages
    return {
        "latencies": latencies,
        "seconds": seconds,
        "delivered": len(latencies),
        "expected": n,
        "failures": n - len(latencies),
    }


def start_echo(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("echo_server.py")), str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url + "/ping", timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("echo server did not start")


def row(name: str, clients: int, r: dict[str, Any]) -> str:
    lat = r["latencies"]
    rate = r["delivered"] / r["seconds"] if r["seconds"] else 0
    return (
        f"| {name:<34} | {clients:>7} | {r['delivered']:>5}/{r['expected']:<5} | "
        f"{pct(lat, 50):>8.1f} | {pct(lat, 95):>8.1f} | {pct(lat, 99):>8.1f} | {rate:>8.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--messages", type=int, default=5, help="messages per citizen")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="use Redis as the message queue")
    parser.add_argument(
        "--scratch-prefix", default="bench_chat", help="name prefix of the scratch PostgreSQL database"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    scratch = ScratchDatabase(args.database_url, args.scratch_prefix) if args.database_url else None
    extra = {"HELPDESK_DATABASE_URL": scratch.url} if scratch else {}
    if args.redis_url:
        extra["HELPDESK_REDIS_URL"] = args.redis_url
        extra["HELPDESK_SOCKETIO_CHANNEL"] = f"bench-chat-{uuid.uuid4().hex[:8]}"  # no cross-talk
    env = base_env(tmp / "data", **extra)
    env["HELPDESK_LOG_LEVEL"] = "ERROR"
    prepare_store(env, [{"email": AGENT, "name": "Bench", "role": "supervisor"}])
    server = Server(env, tmp / "server.log").start()
    echo, echo_url = start_echo(tmp / "echo.log")
    store = "PostgreSQL" if args.database_url else "SQLite"
    lines = [
        f"chat delivery: citizen emit -> agent console message.created ({store}"
        f"{', Redis queue' if args.redis_url else ''}; {args.messages} messages per citizen)",
        "",
        "| scenario                           | clients |  delivered  |  p50 ms  |  p95 ms  "
        "|  p99 ms  |  msg/s   |",
        "|------------------------------------|---------|-------------|----------|----------"
        "|----------|----------|",
    ]
    try:
        cookie = login_cookie(server.url, AGENT)
        for n in args.clients:
            echo_r = asyncio.run(run_echo(echo_url, n, args.messages))
            chat_r = asyncio.run(run_helpdesk(server.url, cookie, n, args.messages))
            lines.append(row("bare Flask-SocketIO ack echo", n, echo_r))
            lines.append(row("helpdesk chat -> console", n, chat_r))
            ratio50 = pct(chat_r["latencies"], 50) / max(pct(echo_r["latencies"], 50), 1e-9)
            rate_chat = chat_r["delivered"] / chat_r["seconds"]
            rate_echo = echo_r["delivered"] / echo_r["seconds"]
            lines.append(
                f"| ratio helpdesk / echo              | {n:>7} |             | "
                f"{ratio50:>7.1f}x |          |          | {rate_chat / rate_echo:>7.2f}x |"
            )
            if chat_r["failures"] or chat_r["delivered"] != chat_r["expected"]:
                lines.append(
                    f"  ! {chat_r['failures']} refused, "
                    f"{chat_r['expected'] - chat_r['delivered']} not delivered"
                )
    finally:
        server.stop()
        echo.terminate()
        echo.wait(10)
        if scratch:
            scratch.drop()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
