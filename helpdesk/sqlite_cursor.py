"""Prebuilt Core statements run on SQLite's own cursor, in the caller's transaction (issue 14).

Split out of ``helpdesk.db``, which re-exports ``run``, ``run_many``, ``insert_id`` and ``first``.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


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


def begin(conn: Connection, mode: str) -> None:
    """BEGIN (or BEGIN IMMEDIATE, ``mode``) on the DBAPI connection itself: exec_driver_sql's
    execution context cost more than the BEGIN; a failure (the write lock's busy timeout) is
    SQLAlchemy's own error."""
    _cursor_run(conn, _begin_statement(mode), ()).close()
