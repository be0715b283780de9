"""Backups: the SQLite database (online, through SQLite's backup API) and the data dir in one archive.

The archive is a gzip'd tar with ``manifest.json`` first: format, time, the database kind and
schema revision, and every file's size and SHA-256. ``restore`` checks each file against the
manifest while it writes it, refuses a data dir that is not empty, and leaves nothing behind when a
check fails. On PostgreSQL the database is not in the archive: ``pg_dump -Fc`` / ``pg_restore``
(README, "Backups") do that part, and ``backup`` takes the data dir beside it.

Runs without the app (no secret key is generated, no schema is touched), so ``restore`` can fill an
empty data dir.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.engine import make_url

from helpdesk.settings import Settings

FORMAT = "helpdesk-backup/1"
DB_MEMBER = "database/helpdesk.sqlite3"
DATA_PREFIX = "data/"
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    bytes: int
    database: str  # "sqlite" (inside) or "external" (pg_dump's job)


def sqlite_path(settings: Settings) -> Path | None:
    if not settings.is_sqlite:
        return None
    database = make_url(settings.database_url).database
    return Path(database).resolve() if database and database != ":memory:" else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _data_files(data_dir: Path, skip: set[Path]) -> Iterator[Path]:
    """Regular files of the data dir, sorted; the live SQLite files are taken by the backup API."""
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path in skip or not path.is_file() or path.is_symlink():
                continue
            yield path


def _schema_revision(db_file: Path) -> str | None:
    conn = sqlite3.connect(db_file)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def backup(settings: Settings, target: Path) -> BackupSummary:
    """Write the archive to ``target`` (atomically: a temporary file renamed at the end)."""
    data_dir = settings.data_dir
    target = target.resolve()
    db_file = sqlite_path(settings)
    skip = {target}
    if db_file is not None:
        skip |= {db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm"), Path(f"{db_file}-journal")}
    with tempfile.TemporaryDirectory(prefix="helpdesk-backup-") as tmp:
        entries: list[tuple[str, Path]] = []
        revision = None
        if db_file is not None:
            if not db_file.exists():
                raise BackupError(f"no database at {db_file}")
            copy = Path(tmp) / "helpdesk.sqlite3"
            # The online backup API copies a consistent snapshot while the service keeps writing.
            source, dest = sqlite3.connect(db_file), sqlite3.connect(copy)
            try:
                source.backup(dest)
            finally:
                dest.close()
                source.close()
            revision = _schema_revision(copy)
            entries.append((DB_MEMBER, copy))
        for path in _data_files(data_dir, skip) if data_dir.exists() else ():
            entries.append((DATA_PREFIX + path.relative_to(data_dir).as_posix(), path))
        files: dict[str, dict[str, Any]] = {}
        for name, path in entries:
            files[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": "sqlite" if db_file is not None else "external",
            "schema_revision": revision,
            "files": files,
        }
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data inside
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                blob = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mode, info.mtime = len(blob), 0o600, int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(blob))
                for name, path in entries:
                    # A file that changed after it was hashed would fail the restore's check.
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.size = files[name]["size"]
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    total = sum(int(f["size"]) for f in files.values())
    return BackupSummary(target, len(files), total, str(manifest["database"]))


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"unsafe path in the archive: {name!r}")
    return path


def restore(settings: Settings, archive: Path) -> BackupSummary:
    """Fill an empty data dir (and the SQLite database) from an archive; verify every checksum."""
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"the data dir {data_dir} is not empty: restore only into an empty one")
    db_file = sqlite_path(settings)
    if db_file is not None and db_file.exists():
        raise BackupError(f"a database exists already at {db_file}: restore only into an empty place")
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a helpdesk backup ({exc})") from exc
    created: list[Path] = []
    try:
        with tar:
            first = tar.next()
            if first is None or first.name != "manifest.json":
                raise BackupError(f"{archive} has no manifest: not a helpdesk backup")
            handle = tar.extractfile(first)
            manifest = json.loads(handle.read()) if handle else {}
            if manifest.get("format") != FORMAT:
                raise BackupError(f"unknown backup format {manifest.get('format')!r}")
            expected: dict[str, dict[str, Any]] = manifest["files"]
            if manifest["database"] == "sqlite" and db_file is None:
                raise BackupError(
                    "the archive holds a SQLite database but HELPDESK_DATABASE_URL is not SQLite"
                )
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            seen: set[str] = set()
            for member in tar:
                if member is first:
                    continue
                name = member.name
                _safe_member(name)
                if not member.isfile() or name not in expected:
                    raise BackupError(f"unexpected entry in the archive: {name!r}")
                if name == DB_MEMBER:
                    assert db_file is not None
                    dest = db_file
                else:
                    dest = data_dir / name.removeprefix(DATA_PREFIX)
                dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                source = tar.extractfile(member)
                assert source is not None
                digest = hashlib.sha256()
                created.append(dest)
                with dest.open("xb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                os.chmod(dest, member.mode & 0o700 or 0o600)
                if digest.hexdigest() != expected[name]["sha256"]:
                    raise BackupError(f"{name} does not match its checksum: the archive is damaged")
                seen.add(name)
            if missing := sorted(set(expected) - seen):
                raise BackupError(f"the archive lacks {len(missing)} file(s), e.g. {missing[0]}")
    except BaseException:
        # Leave the place as empty as we found it (the data dir itself stays: systemd may own it).
        for path in created:
            path.unlink(missing_ok=True)
        if data_dir.exists():
            for child in data_dir.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
        raise
    total = sum(int(f["size"]) for f in expected.values())
    return BackupSummary(archive, len(expected), total, str(manifest["database"]))
