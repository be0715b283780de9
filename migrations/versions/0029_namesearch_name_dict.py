"""contact names on PostgreSQL: a dictionary of distinct names; tickets by (contact_id, id)

Revision ID: 0029_namesearch_name_dict
Revises: 0028_namesearch_contact_names

PostgreSQL: a GIN over the distinct normalized names (``contact_name_dict``) and each contact's
entry (``contact_name_docs``, btree on (name_id, contact_id)), so a common full name reads one
index range newest first instead of thousands of scattered heap pages (helpdesk/name_index.py).
The table 0028 first made here (a tsvector per contact) is dropped. The indexes are made after
the load, which is faster than keeping them up row by row.

Both databases: ``ix_tickets_contact_id`` (contact_id, id), so the name search lists a
contact's tickets newest first from the index alone (neither column changes on an ordinary
update, so PostgreSQL keeps its HOT updates).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_namesearch_name_dict"
down_revision: str | Sequence[str] | None = "0028_namesearch_contact_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    op.create_index("ix_tickets_contact_id", "tickets", ["contact_id", "id"])
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS contact_name_docs")
    op.execute(
        "CREATE TABLE contact_name_dict (id serial PRIMARY KEY, doc text NOT NULL UNIQUE, tsv tsvector NOT NULL)"
    )
    op.execute(
        "CREATE TABLE contact_name_docs ("
        " contact_id integer PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,"
        " name_id integer NOT NULL REFERENCES contact_name_dict(id))"
    )
    from helpdesk.name_index import build_name_index

    build_name_index(bind)
    op.execute("CREATE INDEX ix_contact_name_dict_tsv ON contact_name_dict USING gin (tsv)")
    op.execute("CREATE INDEX ix_contact_name_docs_name ON contact_name_docs (name_id, contact_id)")
    op.execute("ANALYZE contact_name_dict")
    op.execute("ANALYZE contact_name_docs")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE contact_name_docs")
        op.execute("DROP TABLE contact_name_dict")
    op.drop_index("ix_tickets_contact_id", table_name="tickets")
