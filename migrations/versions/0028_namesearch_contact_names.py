"""contact names in a full-text index: SQLite FTS5 table (PostgreSQL: 0029)

Revision ID: 0028_namesearch_contact_names
Revises: 0027_wordsearch_fts_prefix

The console looked for a name with one ILIKE per spelling over the newest 20,000 contacts only;
this index finds any contact (helpdesk/name_index.py). Rows hold the name normalized by
triage.text, so they are written by the application; existing contacts are indexed here with
one INSERT ... SELECT per range of ids (the distinct names normalized once in Python).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_namesearch_contact_names"
down_revision: str | Sequence[str] | None = "0027_wordsearch_fts_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # PostgreSQL's name index is made by 0029_namesearch_name_dict (a dictionary of names; a
        # GIN over every contact, what this revision first made, read too many heap pages).
        return
    # detail=none: a name search only asks which contacts hold every word (no phrases, no
    # rank), so positions would only make the index larger. Prefix indexes up to 12
    # letters: a query word is a prefix ("marij"*), and FTS5 walks an indexed prefix's
    # doclist newest first and stops at the LIMIT, where an unindexed one is first merged
    # from every term it starts, whole (a million contacts, full names: 2-15 ms against
    # 12-97 ms without; the index grows 35 -> 46 MB).
    op.execute(
        "CREATE VIRTUAL TABLE contact_name_fts USING fts5("
        "doc, tokenize='unicode61 remove_diacritics 0', detail=none, "
        "prefix='1 2 3 4 5 6 7 8 9 10 11 12')"
    )
    from helpdesk.name_index import build_name_index

    build_name_index(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE contact_name_fts")
