"""Database migrations (Alembic) run from the app's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from helpdesk.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# SQLite's planner reads the statistics that ANALYZE keeps (sqlite_stat1); with none it assumes
# every index narrows a search to a few rows, and on a big store it chose badly (the console's
# "any status" list walked ix_tickets_open_counts row by row: 3.7x slower than a table scan).
# They are refreshed by an upgrade (a deploy, `make run`), never per request: ANALYZE reads every
# index, ~10 s at a million tickets, so only when they are missing, a migration ran (new indexes)
# or the table grew by STALE_GROWTH since they were taken; `make run` restarting an unchanged big
# store skips it. A store under ANALYZE_FROM_TICKETS tickets gets none: the statistics of a nearly
# empty table would still steer the planner when the table has grown, and its defaults serve a
# small store well.
ANALYZE_FROM_TICKETS = 10_000
STALE_GROWTH = 1.25


def upgrade(db: Database) -> None:
    migrated = bool(pending_heads(db))
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    refresh_statistics(db, migrated)


def refresh_statistics(db: Database, migrated: bool = True) -> bool:
    """SQLite: ANALYZE once the store holds ANALYZE_FROM_TICKETS tickets, when the statistics are
    missing or stale (or `migrated`); True when it ran. PostgreSQL keeps its own (autovacuum;
    migrations that add an index on an expression analyze)."""
    if db.dialect != "sqlite":
        return False
    with db.engine.connect() as connection:
        # the highest id, not a count: a count reads a whole index
        tickets = connection.exec_driver_sql("SELECT max(id) FROM tickets").scalar() or 0
        if tickets < ANALYZE_FROM_TICKETS:
            return False
        if not migrated and tickets < STALE_GROWTH * analyzed_tickets(connection):
            return False
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return True


def analyzed_tickets(connection: Connection) -> int:
    """How many tickets the last ANALYZE counted (0: never analyzed). Each sqlite_stat1 row of a
    table's index starts with the table's row count at that time."""
    if not connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
        return 0
    stat = connection.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'tickets' LIMIT 1").scalar()
    return int(stat.split()[0]) if stat else 0


def pending_heads(db: Database) -> set[str]:
    """Migration heads not yet applied (empty when the database is current)."""
    heads = set(ScriptDirectory.from_config(alembic_config(db.url)).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return heads - current
