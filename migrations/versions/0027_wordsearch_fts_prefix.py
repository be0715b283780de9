"""ticket search: FTS5 prefix indexes for 3 to 6 characters (SQLite)

Every query word is matched as a prefix. Without a prefix index FTS5 merges the doclists of every
term that starts with it before it returns the first row, so a common word cost the whole index
at a million tickets however few rows the search wanted. With ``prefix='3 4 5 6'`` a prefix of
those lengths is one stored doclist, read newest first and left as soon as the search has its
rows; a longer prefix is asked for by its first six characters and checked against the stored
text (``helpdesk.ticket_search``).

FTS5 takes no ALTER of its options: the table is rebuilt from its own stored, already normalized
rows in one INSERT ... SELECT (nothing is normalized again) and renamed into place. PostgreSQL's
GIN index finds prefixes without this: nothing to do there.

Revision ID: 0027_wordsearch_fts_prefix
Revises: 0026_drop_agent_lockout
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027_wordsearch_fts_prefix"
down_revision: str | Sequence[str] | None = "0026_drop_agent_lockout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "ticket_id UNINDEXED, doc, tokenize='unicode61 remove_diacritics 0'"


def _rebuild(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE VIRTUAL TABLE ticket_fts_rebuilt USING fts5({_COLUMNS}{options})")
    op.execute(
        "INSERT INTO ticket_fts_rebuilt (rowid, ticket_id, doc) SELECT rowid, ticket_id, doc FROM ticket_fts"
    )
    op.execute("DROP TABLE ticket_fts")
    op.execute("ALTER TABLE ticket_fts_rebuilt RENAME TO ticket_fts")


def upgrade() -> None:
    _rebuild(", prefix='3 4 5 6'")


def downgrade() -> None:
    _rebuild("")
