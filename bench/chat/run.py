"""Chat delivery benchmark: N citizens send messages while an agent console listens, beside a bare
Flask-SocketIO relay of the same shape (the raw baseline, echo_server.py), in alternating rounds.

A round, the same client code against either server: the console (console_client.py, a process
of its own) connects, N citizens connect (WebSocket) and say ``hello``; once all have (the
connect phase, timed on its own), the clock starts and each citizen sends ``--messages``
messages one after the other, waiting for each acknowledgement. Latency is from a message's emit
until the console receives its ``message.created`` (ours: store, commit, publish, fan-out; the
echo: the relay alone); throughput is messages delivered to the console per second of that
message phase. The citizens' process keeps its garbage collector off during the message phase
and its start-up objects frozen, for both servers.

One echo run against one of ours decided the ratio before, and the echo's own p95 swung 14-64 ms
between idle runs. Now ``--rounds`` rounds of each run after a warm-up round of each (not
counted), alternating which goes first (echo, ours, ours, echo, ...); every round is printed,
then the median of the per-round ratios. Each server's CPU per message (``/proc/PID/stat``) is
given too: on a loaded machine the rates follow the CPU share a process gets, the CPU per message
much less. bench/README.md ("Chat bench: alternating rounds") says why each choice was made.

    .venv/bin/python bench/chat/run.py --clients 50 --messages 5          # SQLite in a temp dir
    .venv/bin/python bench/chat/run.py --clients 50 --messages 5 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --redis-url redis://127.0.0.1:6379/0 --scratch-prefix bench_chat   # scratch db, dropped after
    .venv/bin/python bench/chat/run.py --clients 50 --messages 5 --rate 100,300   # paced, see below

With ``--redis-url`` both servers use Redis as their Socket.IO message queue (each its own
channel), so the echo's relay takes the same hop as ours.

``--rate 100,300`` runs paced rounds instead of the burst, one series per rate (messages per
second across all citizens). A burst measures mostly its own queue: idle, the echo's p95 and ours
were both 100-160 ms although ours costs 2-2.5x the server CPU per message, so its p95 ratio says
little about what a citizen notices. Paced, the send times are fixed in advance (open loop):
citizen i of N sends its k-th message at start + (i + k*N) / rate, so the sends are evenly spread
and each citizen keeps its own schedule whether or not its last message was answered. Latency
counts from the scheduled time, so a client that falls behind shows as latency, not as a lighter
load. ``--rate`` alone means 300 on SQLite and 250 on PostgreSQL (a third and a half of ours' idle
burst msg/s; at both ours is 60-85% busy paced, see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "functional"))
sys.path.insert(0, str(ROOT))

from hd_servers import Server, base_env, free_port, login_cookie, prepare_store  # noqa: E402
from rounds import Round, report, report_paced  # noqa: E402 - beside this file

AGENT = "bench@helpdesk.test"
DIGITS_TO_LETTERS = str.maketrans("0123456789", "ghijklmnop")
TICKS = os.sysconf("SC_CLK_TCK")
CONSOLE = Path(__file__).resolve().with_name("console_client.py")


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


def cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (all its threads, the ended ones too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def run_round(url: str, pid: int, cookie: str, clients: int, messages: int, rate: float = 0.0) -> Round:
    """One round against one server; the same code for ours and the echo. ``rate`` 0: the burst."""
    sent: dict[str, float] = {}
    firsts: set[str] = set()  # each citizen's first message (ours: it opens the ticket)
    acked: dict[str, float] = {}
    ack_bytes = [0]
    all_ready = asyncio.Event()
    go = asyncio.Event()
    ready = [0]
    lags: list[float] = []
    start = 0.0
    expected = clients * messages
    console = subprocess.Popen(
        [sys.executable, str(CONSOLE), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_COOKIE": cookie},
    )
    assert console.stdin is not None and console.stdout is not None
    if console.stdout.readline().strip() != "ready":
        raise SystemExit("the console client did not connect")
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()

    async def send(sio: socketio.AsyncClient, i: int, at: float = 0.0) -> bool:
        # Letters only: a hex tag with a valid 13-digit JMBG run in it is masked by the store
        # (helpdesk.privacy), and its message would look lost to the console's matcher.
        tag = uuid.uuid4().hex.translate(DIGITS_TO_LETTERS)
        sent[tag] = at or time.perf_counter()
        if i == 0:
            firsts.add(tag)
        if at:
            lags.append((time.perf_counter() - at) * 1000)
        answer = await sio.call(
            "message",
            {"client_id": tag, "text": f"{tag} poruka broj {i} o porezu na imovinu"},
            namespace="/chat",
            timeout=120,
        )
        acked[tag] = time.perf_counter()
        ack_bytes[0] = ack_bytes[0] or len(json.dumps(answer))
        return bool(answer.get("ok"))

    async def paced(sio: socketio.AsyncClient, index: int) -> int:
        # Open loop: each send is its own task, at its scheduled time, answered or not.
        calls = []
        for i in range(messages):
            at = start + (index + i * clients) / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            calls.append(asyncio.ensure_future(send(sio, i, at)))
        return sum(not ok for ok in await asyncio.gather(*calls))

    async def citizen(index: int) -> tuple[socketio.AsyncClient, int]:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, namespaces=["/chat"], transports=["websocket"], wait_timeout=60)
        hello = await sio.call("hello", {"language": "sr-Latn"}, namespace="/chat", timeout=60)
        assert hello["ok"], hello
        ready[0] += 1
        if ready[0] == clients:
            all_ready.set()
        await go.wait()
        if rate:
            return sio, await paced(sio, index)
        failures = 0
        for i in range(messages):
            if not await send(sio, i):
                failures += 1
        return sio, failures

    tasks = [asyncio.ensure_future(citizen(i)) for i in range(clients)]
    await asyncio.wait_for(all_ready.wait(), timeout=120)
    # The message phase: every citizen is connected and has said hello.
    gc.collect()
    gc.disable()
    try:
        cpu1 = cpu_seconds(pid)
        client0 = time.process_time()
        start = time.perf_counter() + (0.01 if rate else 0.0)  # paced: every citizen awake first
        go.set()
        done = await asyncio.gather(*tasks)
        client_cpu = time.process_time() - client0
        console.stdin.write(f"{expected}\n")
        console.stdin.flush()
        report = json.loads(console.stdout.readline())
        cpu2 = cpu_seconds(pid)
    finally:
        gc.enable()
    console.wait(10)
    await asyncio.gather(*(sio.disconnect() for sio, _ in done))
    received = {t: at for t, at in report["received"].items() if t in sent}
    return Round(
        latencies=[(received[t] - sent[t]) * 1000 for t in received],
        first=[t in firsts for t in received],
        acks=[(acked[t] - sent[t]) * 1000 for t in acked],
        seconds=max(received.values(), default=start) - start,
        delivered=len(received),
        expected=expected,
        failures=sum(f for _, f in done),
        connect_seconds=start - t0,
        server_cpu=cpu2 - cpu1,
        server_cpu_connect=cpu1 - cpu0,
        client_cpu=client_cpu,
        console_cpu=report["cpu"],
        ack_bytes=ack_bytes[0],
        event_bytes=report["event_bytes"],
        lags=lags,
    )


def start_echo(log: Path, redis_url: str = "") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    queue = [redis_url, f"bench-echo-{uuid.uuid4().hex[:8]}"] if redis_url else []
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("echo_server.py")), str(port), *queue],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[50])
    parser.add_argument("--messages", type=int, default=5, help="messages per citizen")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds of each (after a warm-up)")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="Redis as both servers' Socket.IO message queue")
    parser.add_argument(
        "--echo-without-queue",
        action="store_true",
        help="with --redis-url: the echo still relays in-process (the baseline before the rounds)",
    )
    parser.add_argument(
        "--scratch-prefix", default="bench_chat", help="name prefix of the scratch PostgreSQL database"
    )
    parser.add_argument(
        "--rate",
        nargs="?",
        const="auto",
        default="",
        help="paced rounds instead of the burst: msg/s across all citizens, comma-separated for several "
        "(alone: 300 on SQLite, 250 on PostgreSQL)",
    )
    args = parser.parse_args()
    if args.rate == "auto":
        args.rate = "250" if args.database_url else "300"
    rates = [float(r) for r in args.rate.split(",")] if args.rate else [0.0]

    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    scratch = ScratchDatabase(args.database_url, args.scratch_prefix) if args.database_url else None
    extra = {"HELPDESK_DATABASE_URL": scratch.url} if scratch else {}
    if args.redis_url:
        extra["HELPDESK_REDIS_URL"] = args.redis_url
        extra["HELPDESK_SOCKETIO_CHANNEL"] = f"bench-chat-{uuid.uuid4().hex[:8]}"  # no cross-talk
    env = base_env(tmp / "data", **extra)
    env["HELPDESK_LOG_LEVEL"] = "ERROR"
    store = "PostgreSQL" if args.database_url else "SQLite"
    load = os.getloadavg()
    lines = [
        f"chat delivery: citizen emit -> agent console message.created ({store}"
        f"{', Redis queue' if args.redis_url else ''}"
        f"{' (ours only)' if args.redis_url and args.echo_without_queue else ''}"
        f"{' for both servers' if args.redis_url and not args.echo_without_queue else ''}); "
        f"{args.rounds} rounds of each "
        f"after a warm-up, alternating; load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    ]
    server = echo = None
    try:
        prepare_store(env, [{"email": AGENT, "name": "Bench", "role": "supervisor"}])
        server = Server(env, tmp / "server.log").start()
        echo_queue = "" if args.echo_without_queue else args.redis_url
        echo, echo_url = start_echo(tmp / "echo.log", echo_queue)
        assert server.proc is not None
        targets = {"echo": (echo_url, echo.pid, ""), "ours": (server.url, server.proc.pid, "")}
        targets["ours"] = (server.url, server.proc.pid, login_cookie(server.url, AGENT))
        # What this process imported to prepare the store (the app's modules) stays: out of the
        # collector's way, or its full passes (~100 ms) land in the rounds' connect phases.
        gc.collect()
        gc.freeze()
        for n in args.clients:
            for rate in rates:
                results: dict[str, list[Round]] = {"echo": [], "ours": []}
                for rnd in range(args.rounds + 1):  # round 0 warms up both and is not counted
                    for name in ("echo", "ours") if rnd % 2 == 0 else ("ours", "echo"):
                        url, pid, cookie = targets[name]
                        r = asyncio.run(run_round(url, pid, cookie, n, args.messages, rate))
                        if rnd:
                            results[name].append(r)
                if rate:
                    lines += report_paced(n, args.messages, rate, results["echo"], results["ours"])
                else:
                    lines += report(n, args.messages, results["echo"], results["ours"])
    finally:
        if server:
            server.stop()
        if echo:
            echo.terminate()
            echo.wait(10)
        if scratch:
            scratch.drop()
    load = os.getloadavg()
    lines.append(f"\nload average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
