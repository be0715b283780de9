"""backup, restore: the data dir and the SQLite database in one verified archive."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from helpdesk.backup import BackupError, backup, restore
from helpdesk.settings import Settings


def register(cli: click.Group) -> None:
    cli.add_command(backup_command)
    cli.add_command(restore_command)


def _settings() -> Settings:
    # No app and no generated secret: restore must find the data dir exactly as it is.
    return Settings.from_env(secret_key="unused-by-backup")  # noqa: S106 - never used to sign


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write FILE: the SQLite database (online backup) and the data dir, with checksums.

    On PostgreSQL the database is not included: run pg_dump -Fc beside it (see the README).
    """
    try:
        done = backup(_settings(), file)
    except (BackupError, OSError) as exc:
        click.echo(f"backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"wrote {done.path}: {done.files} files, {done.bytes} bytes")
    if done.database == "external":
        click.echo("the database is PostgreSQL: back it up with pg_dump -Fc (see the README)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore FILE into an empty data dir (HELPDESK_DATA_DIR); every checksum is verified."""
    try:
        done = restore(_settings(), file)
    except (BackupError, OSError) as exc:
        click.echo(f"restore failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored {done.files} files, {done.bytes} bytes from {done.path}")
    if done.database == "external":
        click.echo("the database was not in the archive: pg_restore it (see the README)")
