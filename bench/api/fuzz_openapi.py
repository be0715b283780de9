"""Schemathesis over the API's own OpenAPI document, against a live helpdesk: no 5xx, no response
that breaks the schema, no invalid input accepted.

    .venv/bin/pip install -r bench/api/requirements.txt     # schemathesis: a bench tool only
    .venv/bin/python bench/api/fuzz_openapi.py --max-time 120
    .venv/bin/python bench/api/fuzz_openapi.py --max-time 120 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The server runs in this process on a free port (rate limits lifted, so the fuzzer is not just
answered 429) with a supervisor, an agent of one queue and a few tickets. `st run` goes over every
operation once per token (the supervisor's, then the agent's) with all its checks, each run bounded
by --max-time seconds. Exit status 0 only when both runs found nothing.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from helpdesk import create_app
from helpdesk.auth.accounts import create_token, hash_password
from helpdesk.db import Database
from helpdesk.extensions import limiter
from helpdesk.migrate import upgrade
from helpdesk.models import Agent, Queue
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import Identity, InboundMessage, receive_inbound

QUEUES = ("triage", "accounts", "payments")


def own_postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A database of its own on that server (never the one named in the URL), and its dropper."""
    url = make_url(server_url)
    name = f"bench_fuzz_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def seed(svc: Services) -> dict[str, str]:
    """Queues, a supervisor and an agent of "triage" with tokens, and a few tickets."""
    with svc.db.transaction() as s:
        for name in QUEUES:
            if s.scalar(select(Queue.id).where(Queue.name == name)) is None:
                s.add(Queue(name=name, title=name.title()))
        s.flush()
        tokens = {}
        for role, email in (("supervisor", "sara@helpdesk.localhost"), ("agent", "ana@helpdesk.localhost")):
            agent = Agent(email=email, name=email.split("@")[0].title(), role=role,
                          password_hash=hash_password(uuid.uuid4().hex))
            if role == "agent":
                agent.queues = list(s.scalars(select(Queue).where(Queue.name == "triage")))
            s.add(agent)
            s.flush()
            tokens[role] = create_token(s, agent, svc.clock.now())
    for i in range(5):
        receive_inbound(svc, InboundMessage(
            channel="web", sender=Identity("email", f"gradjanin{i}@example.rs"), sender_name="Građanin",
            subject=f"Pitanje {i}", text="Ne mogu da platim taksu karticom."))
    return tokens


def run_schemathesis(
    st: str, url: str, token: str, max_time: int, seed_value: int, workdir: Path
) -> tuple[int, str]:
    command = [
        st, "run", f"{url}/api/v1/openapi.json",
        "--url", f"{url}/api/v1",
        "-H", f"Authorization: Bearer {token}",
        "--checks", "all",
        # "Schema-valid request rejected": JSON Schema cannot say that a phone number exists in
        # the numbering plan, that a ticket named in a body exists, or that a year has week 53;
        # those get a 422 by design. Everything else (5xx, response schema, status codes,
        # headers, invalid input accepted) is checked.
        "--exclude-checks", "positive_data_acceptance",
        "--max-time", str(max_time),
        "--seed", str(seed_value),
        "--request-timeout", "30",
        "--no-color",
    ]
    # In the tmp dir: st keeps a .schemathesis/ cache in its working directory.
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=max_time * 3 + 120, cwd=workdir
    )
    return done.returncode, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-time", type=int, default=120, help="seconds per token run")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--show", type=int, default=60, help="lines of st output shown per run")
    args = parser.parse_args()
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        print("schemathesis is not installed: .venv/bin/pip install -r bench/api/requirements.txt")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    db_url, drop = f"sqlite:///{tmp / 'helpdesk.db'}", None
    if args.database_url:
        db_url, drop = own_postgres_database(args.database_url)
    settings = Settings(data_dir=tmp, database_url=db_url, channels=(), triage="local",
                        api_ticket_rate_limit="1000000 per minute", log_level="ERROR",
                        secret_key="bench-" + "x" * 40,
                        socketio_channel=f"bench-{uuid.uuid4().hex[:6]}").resolved()
    db = Database(db_url)
    upgrade(db)
    svc = Services(settings=settings, db=db)
    tokens = seed(svc)
    app = create_app(settings, services=svc)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    limiter.enabled = False  # the fuzzer sends thousands of requests from one address
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    rows = []
    try:
        for role in ("supervisor", "agent"):
            started = time.monotonic()
            code, output = run_schemathesis(st, url, tokens[role], args.max_time, args.seed, tmp)
            took = time.monotonic() - started
            lines = [line for line in output.splitlines() if line.strip()]
            print(f"\n--- st run with the {role}'s token (exit {code}, {took:.0f} s) ---")
            print("\n".join(lines[-args.show:]))
            summary = next((line.strip() for line in reversed(lines) if " in " in line and "s" in line), "")
            rows.append((role, code, took, summary))
    finally:
        server.shutdown()
        db.dispose()
        if drop is not None:
            drop()
    print(f"\nschemathesis over /api/v1/openapi.json on {db.dialect}, at most {args.max_time} s per token\n")
    print("| token | exit | seconds | summary |")
    print("|---|---|---|---|")
    for role, code, took, summary in rows:
        print(f"| {role} | {code} | {took:.0f} | {summary} |")
    return 0 if all(code == 0 for _, code, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
