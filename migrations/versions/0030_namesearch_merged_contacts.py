"""a partial index of merged contacts (name search: hits -> their targets)

Revision ID: 0030_namesearch_merged_contacts
Revises: 0029_namesearch_name_dict

The name search maps the newest matching contacts to the contacts they were merged into. Reading
each hit's row for merged_into_id cost ~24 ms of a ~25 ms name match on PostgreSQL at a million
contacts (500 scattered rows); only merged contacts are in this index, so the probe is tiny.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_namesearch_merged_contacts"
down_revision: str | Sequence[str] | None = "0029_namesearch_name_dict"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    where = sa.text("merged_into_id IS NOT NULL")
    op.create_index(
        "ix_contacts_merged", "contacts", ["id", "merged_into_id"], sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_merged", table_name="contacts")
