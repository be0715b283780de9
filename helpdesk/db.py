"""The database: engine, sessions and write transactions that behave the same on SQLite and PostgreSQL.

Every wait is bounded (issue 11): connecting (``connect_timeout``), a statement (PostgreSQL's
``statement_timeout``), waiting for a lock (PostgreSQL's ``lock_timeout``, SQLite's busy timeout) and
waiting for a pooled connection, so a frozen database gives errors that callers turn into a 503 or
an SMTP 451, never a request that hangs.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk import sqlite_cursor, wal_checkpoint
from helpdesk.files import private_sqlite

# The statements on SQLite's own cursor live in helpdesk.sqlite_cursor; callers know them as db.run …
from helpdesk.sqlite_cursor import first as first
from helpdesk.sqlite_cursor import insert_id as insert_id
from helpdesk.sqlite_cursor import run as run
from helpdesk.sqlite_cursor import run_many as run_many

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
        # SQLite's checkpoints on a thread, not in a request's commit (helpdesk.wal_checkpoint).
        self.checkpointer: wal_checkpoint.WalCheckpointer | None = None
        path = self.engine.url.database
        if self.dialect == "sqlite" and path and path != ":memory:" and not path.startswith("file:"):
            self.checkpointer = wal_checkpoint.attach(self.engine, path)

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
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()
        self._probe.shutdown(wait=False, cancel_futures=True)


def _make_engine(url: str, *, echo: bool, timeouts: Timeouts) -> Engine:
    if not url.startswith("sqlite"):
        connect_args: dict[str, Any] = {}
        if url.startswith("postgresql"):
            cache_long_statements()
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
    def _begin(conn: Connection) -> None:
        sqlite_cursor.begin(conn, conn.get_execution_options().get("sqlite_begin", ""))

    return engine


# psycopg keeps a statement's parsed placeholders (its own LRU cache, 128 statements) only when
# the statement is under 4 KiB with at most 50 parameters. A chat batch's multi-row INSERT ...
# RETURNING of tickets, messages or contacts (SQLAlchemy's "insertmanyvalues", one statement per
# kind for the whole batch: inbound_batch) is 5-35 KiB with hundreds of placeholders, and parsing
# it again for every batch cost 0.3-5 ms of CPU each time, ~10% of the server's CPU per chat
# message (bench/chat/run.py on PostgreSQL, issue 14). Its text is the same for every batch of
# the same size, so the cache serves it. The bound keeps the cache's worst case to a few MiB.
CACHED_STATEMENT_LENGTH = 64 * 1024
CACHED_STATEMENT_PARAMS = 4096


def cache_long_statements() -> None:
    """Let psycopg's statement cache keep the batch statements too (module settings of psycopg's
    query parser; without them, as before: every long statement parsed each time)."""
    try:
        from psycopg import _queries
    except ImportError:  # another driver: nothing to do
        return
    length = getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None)
    params = getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", None)
    if isinstance(length, int) and isinstance(params, int):  # psycopg's names as of 3.1-3.3
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(length, CACHED_STATEMENT_LENGTH)
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(params, CACHED_STATEMENT_PARAMS)


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


# Per engine (a URL's hash renders it as a string, which cost more than the rest of the check).
_tables_seen: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def table_present(conn: Connection, sqlite_name: str, postgresql_name: str) -> bool:
    """True when a migration made this table (a create_all() database has no full-text tables).

    Remembered per engine once seen: tables are added by migrations, never dropped at run time.
    """
    name = {"sqlite": sqlite_name, "postgresql": postgresql_name}.get(conn.dialect.name)
    if name is None:
        return False
    seen = _tables_seen.get(conn.engine)
    if seen is not None and name in seen:
        return True
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": name}
        ).first()
    else:
        found = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    if found:
        _tables_seen.setdefault(conn.engine, set()).add(name)
    return bool(found)
