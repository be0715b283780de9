"""contact names in a full-text index: SQLite FTS5 table or PostgreSQL tsvector + GIN

Revision ID: 0028_namesearch_contact_names
Revises: 0027_wordsearch_fts_prefix

The console looked for a name with one ILIKE per spelling over the newest 20,000 contacts only;
this index finds any contact (helpdesk/name_index.py). Rows hold the name normalized by
triage.text, so they are written by the application; existing contacts are indexed here with
one INSERT ... SELECT per range of ids (the distinct names normalized once in Python). On
PostgreSQL the indexes are made after the load, which is faster than keeping them up row by row.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_namesearch_contact_names"
down_revision: str | Sequence[str] | None = "0027_wordsearch_fts_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    # A name search lists its contacts' tickets newest first: with the id in the index that is
    # an index-only range per contact on PostgreSQL (the heap read per ticket cost more than
    # the name match itself).
    op.create_index("ix_tickets_contact_id", "tickets", ["contact_id", "id"])
    if bind.dialect.name == "postgresql":
        # Distinct names (a GIN over a few hundred thousand entries, not a million contacts) and
        # each contact's entry, read newest first from the (name_id, contact_id) index alone.
        op.execute(
            "CREATE TABLE contact_name_dict ("
            " id serial PRIMARY KEY, doc text NOT NULL UNIQUE, tsv tsvector NOT NULL)"
        )
        op.execute(
            "CREATE TABLE contact_name_docs ("
            " contact_id integer PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,"
            " name_id integer NOT NULL REFERENCES contact_name_dict(id))"
        )
    else:
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
    if bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_contact_name_dict_tsv ON contact_name_dict USING gin (tsv)")
        op.execute("CREATE INDEX ix_contact_name_docs_name ON contact_name_docs (name_id, contact_id)")
        op.execute("ANALYZE contact_name_dict")
        op.execute("ANALYZE contact_name_docs")


def downgrade() -> None:
    op.drop_index("ix_tickets_contact_id", table_name="tickets")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE contact_name_docs")
        op.execute("DROP TABLE contact_name_dict")
    else:
        op.execute("DROP TABLE contact_name_fts")
