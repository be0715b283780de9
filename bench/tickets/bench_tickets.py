"""Ticket creation: through the core operation and through the API, beside a raw SQL insert.

    .venv/bin/python bench/tickets/bench_tickets.py [--count 500] [--database-url URL]

Each figure is measured in the same run as its baseline (one INSERT + COMMIT per ticket on the same
database), and printed with the ratio. The API figure goes over HTTP to a live server in this process;
the in-process row sends the same request through the app without HTTP (Flask's test client).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

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


def fmt(name: str, rate: float, lat: list[float], base: float) -> str:
    q = statistics.quantiles(lat, n=100)
    return (f"| {name:<34} | {rate:9.0f} | {q[49] * 1000:8.2f} | {q[94] * 1000:8.2f} | "
            f"{q[98] * 1000:8.2f} | {rate / base:6.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a tmp dir)")
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
    api_rate, api_lat = api(svc, args.count)
    wsgi_rate, wsgi_lat = api_in_process(svc, args.count)
    print(f"\nticket creation on {db.dialect}, {args.count} tickets each, one at a time\n")
    print("| path                               | tickets/s | p50 ms   | p95 ms   | p99 ms   | ratio  |")
    print("|------------------------------------|-----------|----------|----------|----------|--------|")
    print(fmt("raw SQL INSERT + COMMIT (baseline)", base_rate, base_lat, base_rate))
    print(fmt("core receive_inbound", core_rate, core_lat, base_rate))
    print(fmt("API POST /api/v1/tickets (HTTP)", api_rate, api_lat, base_rate))
    print(fmt("same, in-process (no HTTP)", wsgi_rate, wsgi_lat, base_rate))


if __name__ == "__main__":
    main()
