"""ticket full-text search: SQLite FTS5 table or PostgreSQL tsvector + GIN

Revision ID: 0008_ticket_fts
Revises: 0007_kb_articles

The rows hold text normalized by triage.text (helpdesk/ticket_search.py), so they are
written by the application, not by SQL triggers; existing tickets are indexed here.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.orm import Session

revision: str = "0008_ticket_fts"
down_revision: str | Sequence[str] | None = "0007_kb_articles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE ticket_search_docs ("
            " key bigint PRIMARY KEY,"
            " ticket_id integer NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,"
            " doc tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_ticket_search_docs_doc ON ticket_search_docs USING gin (doc)")
        op.execute("CREATE INDEX ix_ticket_search_docs_ticket_id ON ticket_search_docs (ticket_id)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE ticket_fts USING fts5("
            "ticket_id UNINDEXED, doc, tokenize='unicode61 remove_diacritics 0')"
        )
    from helpdesk.ticket_index import sync_index

    session = Session(bind=bind)
    sync_index(session)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE ticket_search_docs")
    else:
        op.execute("DROP TABLE ticket_fts")
