"""Private files: everything under the data dir holds citizens' personal data (the SQLite database,
mail in the outbox, attachments, call recordings, the triage model trained on their words, logs),
so it is written 0600 in 0700 directories, whatever the umask of the shell that started us.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_UMASK = 0o077
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def restrict_umask() -> None:
    """Every file and directory this process creates from now on is its owner's alone.

    Called by the app factory, which every process (serve, gunicorn worker, CLI, SMTP, worker)
    runs first; the one place that catches writers we do not control (Whoosh, SQLite, gunicorn's
    log files in the worker).
    """
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> None:
    """Create ``path`` 0700, and tighten it if an older install made it 0755."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(path, 0o700)


def private_sqlite(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (its -wal and -shm copy the file's mode),
    and tighten the files of an existing database."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    database = Path(parsed.database or "")
    if database.parent.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in SQLITE_COMPANIONS:
        _chmod(Path(f"{database}{suffix}"), 0o600)


def _chmod(path: Path, mode: int) -> None:
    # Someone else's file (a shared /tmp, a read-only mount) is theirs to secure: not fatal.
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
