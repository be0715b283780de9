"""triage routes: category -> queue rules stored in the database

Revision ID: 0012_triage_routes
Revises: 0011_ticket_fts_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0012_triage_routes"
down_revision: str | Sequence[str] | None = "0011_ticket_fts_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "triage_routes",
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_triage_routes")),
    )


def downgrade() -> None:
    op.drop_table("triage_routes")
