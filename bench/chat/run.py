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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "functional"))
sys.path.insert(0, str(ROOT))

from hd_servers import Server, base_env, free_port, login_cookie, prepare_store  # noqa: E402

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


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (all its threads, the ended ones too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Round:
    latencies: list[float]  # ms, emit (paced: its scheduled time) -> console's message.created
    acks: list[float]  # ms, emit -> the citizen's acknowledgement
    seconds: float  # the message phase
    delivered: int
    expected: int
    failures: int
    connect_seconds: float  # console + N citizens connected and said hello
    server_cpu: float  # seconds, the message phase
    server_cpu_connect: float  # seconds, the connect phase
    client_cpu: float  # seconds of this process (the citizens), the message phase
    console_cpu: float  # seconds of the console's process, the message phase
    ack_bytes: int  # JSON size of one acknowledgement
    event_bytes: int  # JSON size of one message.created
    lags: list[float]  # paced: ms from each scheduled send time to the actual emit

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def whole_rate(self) -> float:  # connects included, as the bench measured before the phases
        return self.delivered / (self.connect_seconds + self.seconds)

    @property
    def p95(self) -> float:
        return pct(self.latencies, 95)


async def run_round(url: str, pid: int, cookie: str, clients: int, messages: int, rate: float = 0.0) -> Round:
    """One round against one server; the same code for ours and the echo. ``rate`` 0: the burst."""
    sent: dict[str, float] = {}
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


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(clients: int, messages: int, echo: list[Round], ours: list[Round]) -> list[str]:
    per_msg = clients * messages
    lines = [
        "",
        f"{clients} citizens x {messages} messages, message phase (all connected and said hello first)",
        "",
        "| round | echo p50 / p95 ms | echo msg/s | ours p50 / p95 ms | ours msg/s | p95 ratio | msg/s ratio "
        "| server CPU ms/msg echo / ours | delivered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, (e, o) in enumerate(zip(echo, ours, strict=True), 1):
        lines.append(
            f"| {i} | {pct(e.latencies, 50):.1f} / {e.p95:.1f} | {e.rate:,.0f} | "
            f"{pct(o.latencies, 50):.1f} / {o.p95:.1f} | {o.rate:,.0f} | {o.p95 / e.p95:.2f}x | "
            f"{o.rate / e.rate:.2f}x | {e.server_cpu / per_msg * 1000:.2f} / "
            f"{o.server_cpu / per_msg * 1000:.2f} | "
            f"{o.delivered}/{o.expected} |"
        )
    p95_ratios = [o.p95 / e.p95 for e, o in zip(echo, ours, strict=True)]
    rate_ratios = [o.rate / e.rate for e, o in zip(echo, ours, strict=True)]
    whole_ratios = [o.whole_rate / e.whole_rate for e, o in zip(echo, ours, strict=True)]
    echo_p95, ours_p95 = med([e.p95 for e in echo]), med([o.p95 for o in ours])
    lines += [
        "",
        f"median of round p95 ratios: {med(p95_ratios):.2f}x "
        f"(rounds {min(p95_ratios):.2f}-{max(p95_ratios):.2f}x); median of round msg/s ratios: "
        f"{med(rate_ratios):.2f}x ({min(rate_ratios):.2f}-{max(rate_ratios):.2f}x)",
        f"medians: echo p95 {echo_p95:.1f} ms, {med([e.rate for e in echo]):,.0f} msg/s; "
        f"ours p95 {ours_p95:.1f} ms, {med([o.rate for o in ours]):,.0f} msg/s; "
        f"ratio of the median p95s {ours_p95 / echo_p95:.2f}x",
        f"server CPU per message (median of rounds): echo "
        f"{med([e.server_cpu for e in echo]) / per_msg * 1000:.2f} ms, ours "
        f"{med([o.server_cpu for o in ours]) / per_msg * 1000:.2f} ms; client process "
        f"{med([r.client_cpu for r in echo + ours]) / per_msg * 1000:.2f} ms (citizens), "
        f"{med([r.console_cpu for r in echo + ours]) / per_msg * 1000:.2f} ms (console)",
        f"acknowledgement p50 / p95 (median of rounds): echo {med([pct(e.acks, 50) for e in echo]):.1f} / "
        f"{med([pct(e.acks, 95) for e in echo]):.1f} ms, ours {med([pct(o.acks, 50) for o in ours]):.1f} / "
        f"{med([pct(o.acks, 95) for o in ours]):.1f} ms",
        f"connect phase (console + {clients} citizens connect and say hello), median: echo "
        f"{med([e.connect_seconds for e in echo]) * 1000:.0f} ms, "
        f"{med([e.server_cpu_connect for e in echo]) / clients * 1000:.2f} ms server CPU per citizen; ours "
        f"{med([o.connect_seconds for o in ours]) * 1000:.0f} ms, "
        f"{med([o.server_cpu_connect for o in ours]) / clients * 1000:.2f} ms; msg/s over the whole round "
        f"(connects included) median of round ratios {med(whole_ratios):.2f}x",
        f"payload JSON bytes, acknowledgement / message.created: echo {echo[0].ack_bytes} / "
        f"{echo[0].event_bytes}, ours {ours[0].ack_bytes} / {ours[0].event_bytes}",
    ]
    return lines + lost_lines(ours)


def lost_lines(ours: list[Round]) -> list[str]:
    """A line per round of ours where a message was refused or never reached the console."""
    return [
        f"  ! round {i}: {o.failures} refused, {o.expected - o.delivered} not delivered"
        for i, o in enumerate(ours, 1)
        if o.failures or o.delivered != o.expected
    ]


def report_paced(clients: int, messages: int, rate: float, echo: list[Round], ours: list[Round]) -> list[str]:
    per_msg = clients * messages
    lines = [
        "",
        f"paced at {rate:,.0f} msg/s: {clients} citizens x {messages} messages, each citizen every "
        f"{clients / rate * 1000:.0f} ms, staggered; latency from the scheduled send time",
        "",
        "| round | echo p50 / p95 ms | ours p50 / p95 ms | p95 ratio | p50 ratio | server CPU ms/msg "
        "echo / ours | server busy echo / ours | send lag p95 ms echo / ours | delivered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, (e, o) in enumerate(zip(echo, ours, strict=True), 1):
        lines.append(
            f"| {i} | {pct(e.latencies, 50):.1f} / {e.p95:.1f} | {pct(o.latencies, 50):.1f} / {o.p95:.1f} | "
            f"{o.p95 / e.p95:.2f}x | {pct(o.latencies, 50) / pct(e.latencies, 50):.2f}x | "
            f"{e.server_cpu / per_msg * 1000:.2f} / {o.server_cpu / per_msg * 1000:.2f} | "
            f"{e.server_cpu / e.seconds:.0%} / {o.server_cpu / o.seconds:.0%} | "
            f"{pct(e.lags, 95):.1f} / {pct(o.lags, 95):.1f} | {o.delivered}/{o.expected} |"
        )
    p95_ratios = [o.p95 / e.p95 for e, o in zip(echo, ours, strict=True)]
    p50_ratios = [pct(o.latencies, 50) / pct(e.latencies, 50) for e, o in zip(echo, ours, strict=True)]
    echo_p95, ours_p95 = med([e.p95 for e in echo]), med([o.p95 for o in ours])
    lines += [
        "",
        f"median of round p95 ratios: {med(p95_ratios):.2f}x ({min(p95_ratios):.2f}-{max(p95_ratios):.2f}x); "
        f"median of round p50 ratios: {med(p50_ratios):.2f}x ({min(p50_ratios):.2f}-{max(p50_ratios):.2f}x)",
        f"medians: echo p50 / p95 {med([pct(e.latencies, 50) for e in echo]):.1f} / {echo_p95:.1f} ms; "
        f"ours {med([pct(o.latencies, 50) for o in ours]):.1f} / {ours_p95:.1f} ms; "
        f"ratio of the median p95s {ours_p95 / echo_p95:.2f}x",
        f"server CPU per message (median of rounds): echo "
        f"{med([e.server_cpu for e in echo]) / per_msg * 1000:.2f} ms, ours "
        f"{med([o.server_cpu for o in ours]) / per_msg * 1000:.2f} ms; delivered msg/s (median): echo "
        f"{med([e.rate for e in echo]):,.0f}, ours {med([o.rate for o in ours]):,.0f}",
        f"acknowledgement p50 / p95 from the scheduled time (median of rounds): echo "
        f"{med([pct(e.acks, 50) for e in echo]):.1f} / {med([pct(e.acks, 95) for e in echo]):.1f} ms, ours "
        f"{med([pct(o.acks, 50) for o in ours]):.1f} / {med([pct(o.acks, 95) for o in ours]):.1f} ms",
    ]
    return lines + lost_lines(ours)


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
