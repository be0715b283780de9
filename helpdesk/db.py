"""The database: engine, sessions and write transactions that behave the same on SQLite and PostgreSQL.

Every wait is bounded (issue 11): connecting (``connect_timeout``), a statement (PostgreSQL's
``statement_timeout``), waiting for a lock (PostgreSQL's ``lock_timeout``, SQLite's busy timeout) and
waiting for a pooled connection, so a frozen database gives errors that callers turn into a 503 or
an SMTP 451, never a request that hangs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.files import private_sqlite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timeouts:
    """Seconds; the defaults suit a web request (a proxy gives up after about 60 s)."""

    connect: float = 5.0
    statement: float = 30.0
    lock: float = 15.0
    pool: float = 10.0

    @classmethod
    def of(cls, settings: Any) -> Timeouts:
        """From ``Settings`` (its ``db_*_timeout`` fields)."""
        return cls(
            connect=settings.db_connect_timeout,
            statement=settings.db_statement_timeout,
            lock=settings.db_lock_timeout,
            pool=settings.db_pool_timeout,
        )


class Database:
    def __init__(self, url: str, *, echo: bool = False, timeouts: Timeouts | None = None) -> None:
        self.url = url
        private_sqlite(url)  # 0600 from its first byte, with its -wal and -shm
        self.timeouts = timeouts or Timeouts()
        self.engine: Engine = _make_engine(url, echo=echo, timeouts=self.timeouts)
        self.dialect = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One probe at a time: while the database is frozen, probes queue here instead of
        # piling up threads, and each caller gives up after its own timeout.
        self._probe = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-probe")
        self._before_dispose: list[Callable[[], None]] = []

    def before_dispose(self, give_back: Callable[[], None]) -> None:
        """Call ``give_back`` first in ``dispose``: for a thread that keeps a connection checked
        out between transactions (the chat writer), so none is left open after the pool."""
        self._before_dispose.append(give_back)

    def ping(self, table: str = "tickets", timeout: float = 3.0) -> bool:
        """Whether the database answers a read of ``table`` within ``timeout`` seconds.

        Bounded even when the server stops answering on an open connection (where no server-side
        timeout can fire): the read runs on a probe thread that the caller stops waiting for.
        """
        future = self._probe.submit(self._read_one, table, timeout)
        try:
            return future.result(timeout)
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            future.cancel()
            log.error("database probe failed (%s)", type(exc).__name__)
            return False

    def _read_one(self, table: str, timeout: float) -> bool:
        with self.session() as s:
            if self.dialect == "postgresql":
                ms = int(timeout * 1000)
                s.execute(text(f"SET LOCAL statement_timeout = {ms}"))
                s.execute(text(f"SET LOCAL lock_timeout = {ms}"))
            s.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608 - a table name of ours
        return True

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: commit on success, roll back on any error.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (see ``_make_engine``), so concurrent
        writers wait for the lock (busy timeout) instead of failing halfway with "database is locked".
        """
        session = self._sessions()
        try:
            if self.dialect == "sqlite":
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (it never commits)."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        for give_back in self._before_dispose:
            give_back()
        self.engine.dispose()
        self._probe.shutdown(wait=False, cancel_futures=True)


def _make_engine(url: str, *, echo: bool, timeouts: Timeouts) -> Engine:
    if not url.startswith("sqlite"):
        connect_args: dict[str, Any] = {}
        if url.startswith("postgresql"):
            statement, lock = int(timeouts.statement * 1000), int(timeouts.lock * 1000)
            connect_args = {
                "connect_timeout": max(1, round(timeouts.connect)),
                "options": f"-c statement_timeout={statement} -c lock_timeout={lock}",
            }
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_timeout=timeouts.pool,
            connect_args=connect_args,
            future=True,
        )
    busy_ms = int(timeouts.lock * 1000)
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": timeouts.lock, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions would defeat IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # waiting for the write lock, bounded
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL (psycopg 3), the statements executed inside are sent without waiting for
    each answer; the COMMIT (or the block's end) waits for them all: one round trip, not one per
    statement. Only for statements that return no rows: SQLAlchemy cannot read a result here.
    An error of any of them is raised there, by the COMMIT, as SQLAlchemy's own (IntegrityError…).
    Elsewhere (SQLite, another driver) the block runs as it is."""
    dbapi = conn.connection.dbapi_connection
    pipeline = getattr(dbapi, "pipeline", None)
    if conn.dialect.name != "postgresql" or pipeline is None:
        yield
        return
    with pipeline():
        yield


_tables_seen: set[tuple[str, str]] = set()


def table_present(conn: Connection, sqlite_name: str, postgresql_name: str) -> bool:
    """True when a migration made this table (a create_all() database has no full-text tables).

    Remembered per database once seen: tables are added by migrations, never dropped at run time.
    """
    name = {"sqlite": sqlite_name, "postgresql": postgresql_name}.get(conn.dialect.name)
    if name is None:
        return False
    key = (f"{conn.engine.url!r}", name)
    if key in _tables_seen:
        return True
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": name}
        ).first()
    else:
        found = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    if found:
        _tables_seen.add(key)
    return bool(found)
