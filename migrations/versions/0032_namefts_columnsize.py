"""contact-name FTS5 table without per-row token counts (columnsize=0); PostgreSQL: no-op

Revision ID: 0032_namefts_columnsize
Revises: 0031_pgwords_search_words

A name search never ranks (it lists the newest matching contacts), so the token counts FTS5
keeps per row for bm25 (the %_docsize table) were written with every new contact and never
read: one B-tree page fewer per inbound write that creates a contact. The prefix indexes (1-12
letters) stay: without them a full name took 30-78 ms instead of ~1 ms at a million contacts
(bench/README, helper namewrite). The table is rebuilt from the contacts, as 0028 built it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032_namefts_columnsize"
down_revision: str | Sequence[str] | None = "0031_pgwords_search_words"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPTIONS = "doc, tokenize='unicode61 remove_diacritics 0', detail=none, prefix='1 2 3 4 5 6 7 8 9 10 11 12'"


def _rebuild(options: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute("DROP TABLE contact_name_fts")
    op.execute(f"CREATE VIRTUAL TABLE contact_name_fts USING fts5({options})")
    from helpdesk.name_index import build_name_index

    build_name_index(bind)


def upgrade() -> None:
    _rebuild(_OPTIONS + ", columnsize=0")


def downgrade() -> None:
    _rebuild(_OPTIONS)
