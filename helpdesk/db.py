"""The database: engine, sessions and write transactions that behave the same on SQLite and PostgreSQL.

Every wait is bounded (issue 11): connecting (``connect_timeout``), a statement (PostgreSQL's
``statement_timeout``), waiting for a lock (PostgreSQL's ``lock_timeout``, SQLite's busy timeout) and
waiting for a pooled connection, so a frozen database gives errors that callers turn into a 503 or
an SMTP 451, never a request that hangs.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
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
        mode = conn.get_execution_options().get("sqlite_begin", "")
        # On the DBAPI connection itself (exec_driver_sql's execution context cost more than
        # the BEGIN); a failure (the write lock's busy timeout) is SQLAlchemy's own error.
        _cursor_run(conn, _begin_statement(mode), ()).close()

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


def _null(value: None) -> None:
    return value


# sqlite3 adapts every parameter that is not exactly an int, float, str or bytearray. For None
# (NULL) that was two failed lookups of the adaptation protocols, each raising and clearing an
# AttributeError with its message formatted: ~2,000 instructions per NULL, and a new ticket binds
# about twenty (issue 14). An adapter registered for None is found at once; None stays None.
sqlite3.register_adapter(type(None), _null)


# -- statements on SQLite's own cursor (issue 14) ------------------------------------------------
#
# The inbound write runs a dozen small, prebuilt Core statements per message. On SQLite,
# SQLAlchemy's execution layer (cache-key lookup, parameter construction, execution context,
# result set-up) cost several times what sqlite3 itself spends on each of them. These helpers
# run such a statement on the DBAPI cursor of the SAME connection (so inside the same
# transaction, BEGIN IMMEDIATE included), with the SQL text and bound values SQLAlchemy would
# send: each statement is compiled once per set of parameter names, and SQLAlchemy's own bind
# processors (datetimes, JSON, booleans) and scalar column defaults fill the values.
# tests/core/test_lean_statements.py checks that they match what SQLAlchemy sends.
# Anywhere else (PostgreSQL) they are ``conn.execute`` as before: that path is unchanged.
# A statement whose values need SQLAlchemy at run time (a Python-callable default, an expanding
# IN) is run through ``conn.execute`` on SQLite too.


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per positional value: (the caller's key, None) or (None, a constant, already converted).
    picks: tuple[tuple[str | None, Any], ...] = ()
    # The positions whose value the caller gives and a bind processor converts.
    processed: tuple[tuple[int, Callable[[Any], Any]], ...] = ()


# Keyed on the statement's id, with the statement kept alive beside it (so an id is never reused
# while its entry exists). Meant for statements built once (module constants): each new object
# is compiled and kept.
_compiled: dict[tuple[int, tuple[str, ...]], tuple[Any, _Compiled | None]] = {}
_processors: dict[tuple[str, Any], Callable[[Any], Any]] = {}


def _compile(conn: Connection, statement: Any, keys: tuple[str, ...]) -> _Compiled | None:
    """The statement's SQLite text and how to fill its values, or None: SQLAlchemy's job."""
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(keys))
    if compiled.positiontup is None:
        return None
    prefetch = {c.key: c for c in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    given = set(keys)
    processors = compiled._bind_processors  # noqa: SLF001 - SQLAlchemy's own, per bind name
    picks: list[tuple[str | None, Any]] = []
    processed = []
    for position, name in enumerate(compiled.positiontup):
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        processor = processors.get(name)
        if isinstance(processor, tuple):
            return None
        if processor is not None:  # one per kind of type: a remembered datetime serves every column
            kind = (conn.dialect.name, bind.type._static_cache_key)  # noqa: SLF001
            processor = _processors.setdefault(kind, processor)
        if name in given:
            picks.append((name, None))
            if processor is not None:
                processed.append((position, processor))
            continue
        if name in prefetch:
            default = prefetch[name].default
            if default is None or not default.is_scalar:
                return None  # computed per row at run time: SQLAlchemy does it
            constant = default.arg
        elif bind.required:
            return None  # let SQLAlchemy raise its own error for a missing value
        else:
            constant = bind.value
        picks.append((None, constant if processor is None else processor(constant)))
    return _Compiled(compiled.string, tuple(picks), tuple(processed))


@functools.cache
def _begin_statement(mode: str) -> _Compiled:
    return _Compiled(f"BEGIN {mode}" if mode else "BEGIN")


def _lookup(conn: Connection, statement: Any, params: Mapping[str, Any]) -> _Compiled | None:
    if conn.dialect.name != "sqlite":
        return None
    keys = tuple(params)
    key = (id(statement), keys)
    entry = _compiled.get(key)
    if entry is None or entry[0] is not statement:
        entry = _compiled[key] = (statement, _compile(conn, statement, keys))
    return entry[1]


# A write stores the same instant several times (the unit of work's ``now`` in the contact,
# identity, ticket, message and audit rows); UTCDateTime's conversion and SQLite's formatting
# cost ~5 us each. So do the Nones and booleans of a row (a ticket has seven Nones, each through
# two processors). Processors are pure functions of the value, so these immutable values'
# conversions are remembered (bounded; any thread).
_REMEMBERED_TYPES = frozenset({datetime, bool, type(None)})
_converted: dict[tuple[Any, Any], Any] = {}
_CONVERTED_KEPT = 256


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...]:
    values = [constant if name is None else params[name] for name, constant in compiled.picks]
    for position, processor in compiled.processed:
        value = values[position]
        if type(value) in _REMEMBERED_TYPES:
            key = (processor, value)
            try:
                values[position] = _converted[key]
            except KeyError:
                if len(_converted) >= _CONVERTED_KEPT:
                    _converted.clear()
                values[position] = _converted.setdefault(key, processor(value))
        else:
            values[position] = processor(value)
    return tuple(values)


def _cursor_run(conn: Connection, compiled: _Compiled, values: Any, many: bool = False) -> Any:
    # dbapi_connection: an attribute (driver_connection is a chain of properties; the same
    # sqlite3 connection)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    listeners = conn.dispatch.before_cursor_execute
    if listeners:  # whoever counts or traces statements sees these too (no retval=True ones)
        listeners(conn, cursor, compiled.sql, values, None, many)
    try:
        if many:
            cursor.executemany(compiled.sql, values)
        else:
            cursor.execute(compiled.sql, values)
    except conn.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy raises it (IntegrityError, OperationalError...): callers catch those.
        raise DBAPIError.instance(
            compiled.sql, values, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    return cursor


def run(conn: Connection, statement: Any, params: Mapping[str, Any]) -> None:
    """Execute a statement that returns nothing."""
    compiled = _lookup(conn, statement, params)
    if compiled is None:
        conn.execute(statement, params)
    else:
        _cursor_run(conn, compiled, _values(compiled, params)).close()


def run_many(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute a statement once per row (an executemany); every row has the same keys."""
    if not rows:
        return
    compiled = _lookup(conn, statement, rows[0])
    if compiled is None:
        conn.execute(statement, list(rows))
    elif len(rows) == 1:  # as SQLAlchemy does: a plain execute
        _cursor_run(conn, compiled, _values(compiled, rows[0])).close()
    else:
        _cursor_run(conn, compiled, [_values(compiled, r) for r in rows], many=True).close()


def insert_id(conn: Connection, statement: Any, params: Mapping[str, Any]) -> int:
    """Insert one row, return its primary key (lastrowid; RETURNING on PostgreSQL)."""
    compiled = _lookup(conn, statement, params)
    if compiled is None:
        key = conn.execute(statement, params).inserted_primary_key
        assert key is not None
        return int(key[0])
    cursor = _cursor_run(conn, compiled, _values(compiled, params))
    cursor.close()
    return int(cursor.lastrowid)


def first(conn: Connection, statement: Any, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row, read by position. Only for columns whose values need no conversion on
    the way back (integers, strings, integer booleans): no result processors are applied."""
    compiled = _lookup(conn, statement, params)
    if compiled is None:
        return conn.execute(statement, params).first()  # a Row is a tuple
    cursor = _cursor_run(conn, compiled, _values(compiled, params))
    row: tuple[Any, ...] | None = cursor.fetchone()
    cursor.close()
    return row
