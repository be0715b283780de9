"""Bounded waits: a frozen database (a lock nobody releases) gives a 503 on /healthz and a 451 on
SMTP within seconds, never a request or a mail session that hangs."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from channels.email.server import SmtpService
from helpdesk import create_app
from helpdesk.db import Database, Timeouts
from helpdesk.models import Message
from helpdesk.services import Services
from tests.channels.email.helpers import SUPPORT, drain, mail_services
from tests.conftest import _reset_postgres, make_services, make_settings


@contextmanager
def frozen(svc: Services, table: str) -> Iterator[None]:
    """Another session holds ``table`` locked (PostgreSQL) or the write lock (SQLite) until exit."""
    url = svc.db.url
    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # WAL: readers go on, every writer waits
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    engine = create_engine(url)
    with engine.connect() as pg:
        pg.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            pg.rollback()
    engine.dispose()


def test_healthz_answers_503_while_postgresql_is_frozen(pg_server_url: str, tmp_path: Path) -> None:
    _reset_postgres(pg_server_url)
    svc = make_services(make_settings(tmp_path, pg_server_url))
    app = create_app(svc.settings, services=svc)
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200
        with frozen(svc, "tickets"):
            answer = client.get("/healthz")  # answers (bounded to ~3 s) instead of hanging
            assert answer.status_code == 503
            assert answer.get_json() == {"status": "error", "database": "unreachable"}
        assert client.get("/healthz").status_code == 200  # and recovers by itself
    finally:
        svc.db.dispose()


def test_postgresql_connections_carry_statement_and_lock_timeouts(pg_server_url: str) -> None:
    db = Database(pg_server_url, timeouts=Timeouts(connect=2, statement=7, lock=3))
    try:
        with db.session() as s:
            assert s.scalar(select(func.current_setting("statement_timeout"))) == "7s"
            assert s.scalar(select(func.current_setting("lock_timeout"))) == "3s"
    finally:
        db.dispose()


def send(server: SmtpService, message_id: str) -> tuple[int, bytes]:
    raw = f"From: ana@example.rs\r\nMessage-ID: <{message_id}>\r\nSubject: Pitanje\r\n\r\nKako?\r\n"
    with smtplib.SMTP(server.host, server.port, timeout=30) as smtp:
        smtp.ehlo("client.example.rs")
        smtp.mail("ana@example.rs")
        smtp.rcpt(SUPPORT)
        return smtp.data(raw.encode())


def test_smtp_answers_451_when_the_spool_cannot_be_written_in_time(store_url: str, tmp_path: Path) -> None:
    svc = mail_services(tmp_path, store_url, mail_spool_timeout=1.0)
    server = SmtpService(svc, "127.0.0.1", 0)
    server.start()
    try:
        with frozen(svc, "mail_spool"):
            code, reply = send(server, "frozen@example.rs")
            assert code == 451 and b"4.3.0" in reply  # the sender keeps the mail and retries
        code, _ = send(server, "frozen@example.rs")  # the retry, once the store is back
        assert code == 250
        drain(svc)
        # The first attempt may still have reached the spool after its 451: the Message-ID makes
        # the retry a duplicate, so there is one message, never two.
        with svc.db.session() as s:
            stored = s.scalar(select(func.count()).where(Message.external_id == "frozen@example.rs"))
        assert stored == 1
    finally:
        server.stop()
        svc.db.dispose()
