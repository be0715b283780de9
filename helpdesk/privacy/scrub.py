"""Making deleted personal data unreadable in the SQLite file, not only unreachable.

SQLite leaves a deleted row's bytes in free space, and FTS5 keeps a deleted document's words in
its older index segments until they are merged: a scan of the file would still find a name.
So the anonymizing transactions run with ``PRAGMA secure_delete`` (freed space is overwritten
with zeros), the search index is merged afterwards (``optimize``: one segment, without the
deleted words) and the write-ahead log, which still holds the pages as they were, is
checkpointed and truncated. ``vacuum=True`` also rebuilds the whole file (``helpdesk privacy
run --vacuum``), for free space left by deletions made before (e.g. spooled mail).

PostgreSQL keeps dead row versions until its own VACUUM; that is the operator's (autovacuum).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from helpdesk.name_index import NAME_FTS, names_available
from helpdesk.services import Services
from helpdesk.ticket_search import FTS_TABLE, index_available
from helpdesk.wal_checkpoint import truncate_log

log = logging.getLogger(__name__)


def secure_delete(session: Session) -> None:
    """Overwrite what this transaction frees (SQLite; a no-op elsewhere)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")


def scrub_free_space(svc: Services, vacuum: bool = False) -> None:
    if not svc.settings.is_sqlite:
        return
    with svc.db.transaction() as s:
        secure_delete(s)
        if index_available(s.connection()):
            s.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))  # noqa: S608
        if names_available(s.connection()):  # an erased name's words, too
            s.execute(text(f"INSERT INTO {NAME_FTS}({NAME_FTS}) VALUES ('optimize')"))  # noqa: S608
    # Outside any transaction (SQLAlchemy's begin hook would open one): the DB-API connection,
    # which the engine configured without implicit transactions.
    raw = svc.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if vacuum:
            cursor.execute("VACUUM")
        busy = truncate_log(cursor, svc.db.checkpointer)  # never at the same time as its pass
        cursor.close()
    finally:
        raw.close()
    if busy:  # a reader held the log: the next run (or SQLite's own checkpoint) finishes it
        log.info("retention: the write-ahead log could not be truncated now")
