"""SQLite's checkpoints run on the checkpointer's thread, and the write-ahead log stays bounded.

The passes are driven by hand here (``run_once``), the thread stopped, so nothing depends on
timing: what is checked is that a pass lets SQLite start the log again from its beginning, that
the writers' own checkpoint still bounds the log when no pass runs, and that truncating the log
(backup, privacy scrub) still empties it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from helpdesk import wal_checkpoint
from helpdesk.db import Database

PAGE = 4096
BLOB_PAGES = 25  # one transaction's row: ~25 pages of log


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    with db.transaction() as s:
        s.execute(text("CREATE TABLE chunk (id INTEGER PRIMARY KEY, body BLOB)"))
    return db


def _write(db: Database, times: int) -> None:
    for _ in range(times):
        with db.transaction() as s:
            s.execute(text("INSERT INTO chunk (body) VALUES (randomblob(:n))"), {"n": BLOB_PAGES * PAGE})


def _log_pages(tmp_path: Path) -> int:
    wal = tmp_path / "helpdesk.db-wal"
    return wal.stat().st_size // PAGE if wal.exists() else 0


def test_passes_keep_the_log_small(tmp_path: Path) -> None:
    db = _database(tmp_path)
    checkpointer = db.checkpointer
    assert checkpointer is not None
    checkpointer.stop()  # passes by hand below
    for _ in range(40):
        _write(db, 4)  # ~100 pages
        assert checkpointer.run_once() is not None  # commits were pending: a pass ran
    # 4,000 pages were written; after each pass the next writer started the log from its beginning.
    assert _log_pages(tmp_path) < 400
    with db.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM chunk")).scalar() == 160
    db.dispose()


def test_writers_own_checkpoint_bounds_the_log_without_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wal_checkpoint, "SAFETY_PAGES", 200)
    db = _database(tmp_path)
    assert db.checkpointer is not None
    db.checkpointer.stop()  # as if its thread never got to run
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 200
    _write(db, 100)  # 2,500 pages
    assert _log_pages(tmp_path) < 200 + 2 * BLOB_PAGES + 10
    db.dispose()


def test_a_commit_starts_the_thread_and_dispose_stops_it(tmp_path: Path) -> None:
    db = _database(tmp_path)  # its CREATE TABLE committed
    assert db.checkpointer is not None
    assert any(t.name == "sqlite-checkpoint" for t in threading.enumerate())
    db.dispose()
    assert db.checkpointer._thread is None
    _write_after = sqlite3.connect(tmp_path / "helpdesk.db")  # the file is intact and readable
    assert _write_after.execute("SELECT count(*) FROM chunk").fetchone() == (0,)
    _write_after.close()


def test_truncate_log_empties_it(tmp_path: Path) -> None:
    db = _database(tmp_path)
    _write(db, 10)
    assert _log_pages(tmp_path) > 0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        assert wal_checkpoint.truncate_log(cursor, db.checkpointer) == 0
        cursor.close()
    finally:
        raw.close()
    assert _log_pages(tmp_path) == 0
    db.dispose()
