"""Ticket creation: through the core operation and through the API, beside a raw SQL insert.

    .venv/bin/python bench/tickets/bench_tickets.py [--count 500] [--database-url URL]

Each figure is measured in the same run as its baseline (one INSERT + COMMIT per ticket on the same
database), and printed with the ratio. Three ways of reaching the API:

- "as served": the server as production runs it (`helpdesk serve --production`: gunicorn, ONE worker
  process, gthread, HELPDESK_THREADS threads, embedded services off) in its own process; this process
  is the client (no nginx in between) on ONE keep-alive connection, as nginx's upstream keepalive
  holds one, one request at a time; then CLIENTS processes at once, each on its own connection.
  "srv CPU" is the gunicorn worker's user+system time (/proc/PID/stat) over the timed requests,
  per request.
- "in-process werkzeug": the earlier row, kept for comparison with earlier figures: a `requests`
  client in the same process as werkzeug's development server.
- "in-process (no HTTP)": the same request through the app with Flask's test client.
For these two, "srv CPU" is this whole process's CPU per request (client included).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from helpdesk import create_app
from helpdesk.db import Database
from helpdesk.migrate import upgrade
from helpdesk.models import Queue
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import Identity, InboundMessage, receive_inbound


def timed(count: int, one: Callable[[int], None]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        one(i)
        latencies.append(time.perf_counter() - t)
    return count / (time.perf_counter() - start), latencies


def raw_insert(url: str, count: int) -> tuple[float, list[float]]:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS raw_tickets"))
        conn.execute(text("CREATE TABLE raw_tickets (id INTEGER PRIMARY KEY, reference VARCHAR(20) UNIQUE, "
                          "subject VARCHAR(300), body TEXT, created_at TIMESTAMP)"))
    if url.startswith("sqlite"):
        with engine.begin() as conn:
            conn.execute(text("PRAGMA journal_mode=WAL"))

    def one(i: int) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO raw_tickets (id, reference, subject, body, created_at) "
                              "VALUES (:i, :r, 'Nalog', 'Ne mogu da se prijavim', CURRENT_TIMESTAMP)"),
                         {"i": i + 1, "r": f"RAW-{i:06d}"})

    result = timed(count, one)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE raw_tickets"))
    engine.dispose()
    return result


def core(svc: Services, count: int) -> tuple[float, list[float]]:
    def one(i: int) -> None:
        receive_inbound(svc, InboundMessage(
            channel="web", sender=Identity("email", f"gradjanin{i}@example.rs"), sender_name="Građanin",
            subject="Ne mogu da se prijavim", text="Lozinka ne radi posle resetovanja."))

    return timed(count, one)


def api(svc: Services, count: int) -> tuple[float, list[float]]:
    app = create_app(svc.settings, services=svc)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/tickets"
    session = requests.Session()

    def one(i: int) -> None:
        response = session.post(url, timeout=30, json={
            "contact": {"name": "Građanin", "email": f"api{i}@example.rs"},
            "subject": "Plaćanje takse", "body": "Uplata nije evidentirana."})
        assert response.status_code == 201, response.text

    try:
        return timed(count, one)
    finally:
        server.shutdown()


def api_in_process(svc: Services, count: int) -> tuple[float, list[float]]:
    """The same request through the whole app (WSGI layers, hooks, limiter, view, core) without
    HTTP: what the API row costs beyond this is the client and werkzeug's server, not the app."""
    client = create_app(svc.settings, services=svc).test_client()

    def one(i: int) -> None:
        response = client.post("/api/v1/tickets", json={
            "contact": {"name": "Građanin", "email": f"wsgi{i}@example.rs"},
            "subject": "Plaćanje takse", "body": "Uplata nije evidentirana."})
        assert response.status_code == 201, response.text

    return timed(count, one)


CREATE_PATH = "/api/v1/tickets"
JSON_HEADERS = {"Content-Type": "application/json"}


def create_body(tag: str, i: int) -> bytes:
    return json.dumps({"contact": {"name": "Građanin", "email": f"{tag}{i}@example.rs"},
                       "subject": "Plaćanje takse", "body": "Uplata nije evidentirana."}).encode()


def post_creates(port: int, tag: str, numbers: range) -> list[float]:
    """Creates on ONE keep-alive connection, one at a time; any reconnection is an error."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    for i in numbers:
        body = create_body(tag, i)
        t = time.perf_counter()
        conn.request("POST", CREATE_PATH, body, JSON_HEADERS)
        response = conn.getresponse()
        data = response.read()
        latencies.append(time.perf_counter() - t)
        if response.status != 201 or response.will_close:
            raise RuntimeError(f"HTTP {response.status}, will_close={response.will_close}: {data[:300]!r}")
    conn.close()
    return latencies


def _client_process(port: int, tag: str, numbers: range, go: Any, out: Any) -> None:
    go.wait()
    out.put(post_creates(port, tag, numbers))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat, after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """`helpdesk serve --production`'s command line (gunicorn with helpdesk.gunicorn_config) as its
    own process, configured through the environment exactly as deploy/helpdesk.env does."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env.update({
            "HELPDESK_DATA_DIR": str(settings.data_dir), "HELPDESK_DATABASE_URL": settings.database_url,
            "HELPDESK_SECRET_KEY": settings.secret_key, "HELPDESK_CHANNELS": "",
            "HELPDESK_TRIAGE": settings.triage, "HELPDESK_LOG_LEVEL": settings.log_level,
            "HELPDESK_API_TICKET_RATE_LIMIT": settings.api_ticket_rate_limit,
            "HELPDESK_SOCKETIO_CHANNEL": settings.socketio_channel,
            "HELPDESK_EMBEDDED_SERVICES": "0",  # production: `helpdesk smtp` and `helpdesk worker` apart
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        })
        self.log = tmp / "gunicorn.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:helpdesk.gunicorn_config",
                 "--bind", f"127.0.0.1:{self.port}", "helpdesk.wsgi:app"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.threads = env.get("HELPDESK_THREADS", "100")
        deadline = time.monotonic() + 120
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        if len(children) != 1:
            self.stop()
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        self.worker = int(children[0])

    def _healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful, as systemd stops it
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


Row = tuple[float, list[float], float]  # rate, latencies, server CPU seconds per request


def api_served(server: Served, count: int, clients: int) -> Row:
    tag = f"served{clients}x"
    post_creates(server.port, tag + "warm", range(20))  # the worker's first requests build caches
    cpu = cpu_seconds(server.worker)
    if clients == 1:
        rate, latencies = timed_once(lambda: post_creates(server.port, tag, range(count)), count)
    else:
        ctx = multiprocessing.get_context("fork")
        go, out = ctx.Event(), ctx.Queue()
        share = count // clients
        procs = [ctx.Process(target=_client_process,
                             args=(server.port, tag, range(n * share, (n + 1) * share), go, out))
                 for n in range(clients)]
        for p in procs:
            p.start()
        start = time.perf_counter()
        go.set()
        latencies = [x for _ in procs for x in out.get(timeout=600)]
        rate = len(latencies) / (time.perf_counter() - start)
        for p in procs:
            p.join()
            if p.exitcode != 0:
                raise RuntimeError(f"a client process failed ({p.exitcode})")
    return rate, latencies, (cpu_seconds(server.worker) - cpu) / len(latencies)


def timed_once(run: Callable[[], list[float]], count: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    latencies = run()
    return count / (time.perf_counter() - start), latencies


def fmt(name: str, rate: float, lat: list[float], base: float, server_cpu: float | None = None) -> str:
    q = statistics.quantiles(lat, n=100)
    cpu = f"{server_cpu * 1000:10.2f}" if server_cpu is not None else f"{'':>10}"
    return (f"| {name:<46} | {rate:9.0f} | {q[49] * 1000:8.2f} | {q[94] * 1000:8.2f} | "
            f"{q[98] * 1000:8.2f} | {rate / base:6.2f} | {cpu} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a tmp dir)")
    parser.add_argument("--clients", type=int, default=4,
                        help="client processes at once for the second 'as served' row (0: no such row)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
    url = args.database_url or f"sqlite:///{tmp / 'helpdesk.db'}"
    settings = Settings(data_dir=tmp, database_url=url, channels=(), triage="local",
                        api_ticket_rate_limit="1000000 per minute", log_level="WARNING",
                        socketio_channel=f"bench-{uuid.uuid4().hex[:6]}").resolved()
    db = Database(url)
    upgrade(db)
    with db.transaction() as s:
        if s.query(Queue).count() == 0:
            s.add(Queue(name="triage", title="Triage"))
    svc = Services(settings=settings, db=db)

    base_rate, base_lat = raw_insert(url, args.count)
    core_rate, core_lat = core(svc, args.count)
    cpu = time.process_time()  # in-process rows: this process's CPU is the server's AND the client's
    api_rate, api_lat = api(svc, args.count)
    api_cpu, cpu = (time.process_time() - cpu) / args.count, time.process_time()
    wsgi_rate, wsgi_lat = api_in_process(svc, args.count)
    wsgi_cpu = (time.process_time() - cpu) / args.count
    server = Served(settings, tmp)
    try:
        served = [("API as served: gunicorn 1 worker, 1 client", api_served(server, args.count, 1))]
        if args.clients > 1:
            served.append((f"same, {args.clients} client processes at once",
                           api_served(server, args.count, args.clients)))
    finally:
        server.stop()
    print(f"\nticket creation on {db.dialect}, {args.count} tickets each, one at a time unless said\n")
    print(f"as served: `helpdesk serve --production` (gunicorn, 1 worker, gthread, {server.threads} threads) "
          "in its own process; each client on one keep-alive connection; server CPU = the worker's "
          "/proc/PID/stat user+system per request\n")
    print(f"| {'path':<46} | tickets/s | p50 ms   | p95 ms   | p99 ms   | ratio  | srv CPU ms |")
    print(f"|{'-' * 48}|-----------|----------|----------|----------|--------|------------|")
    print(fmt("raw SQL INSERT + COMMIT (baseline)", base_rate, base_lat, base_rate))
    print(fmt("core receive_inbound", core_rate, core_lat, base_rate))
    for name, (rate, lat, cpu) in served:
        print(fmt(name, rate, lat, base_rate, cpu))
    print(fmt("API, in-process werkzeug + requests (old row)", api_rate, api_lat, base_rate, api_cpu))
    print(fmt("same, in-process (no HTTP)", wsgi_rate, wsgi_lat, base_rate, wsgi_cpu))
    print("\nsrv CPU of the in-process rows is the whole bench process: server, app AND client.")


if __name__ == "__main__":
    main()
