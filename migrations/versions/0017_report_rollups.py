"""report rollups: closed weeks' figures, the change log that invalidates them, open-count index

Revision ID: 0017_report_rollups
Revises: 0016_mail_spool
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.models.base

revision: str = "0017_report_rollups"
down_revision: str | Sequence[str] | None = "0016_mail_spool"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("low", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("high", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_changes")),
    )
    op.create_table(
        "report_weeks",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("week_start", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("week_end", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column(
            "figures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_weeks")),
    )
    op.create_index(
        "ix_tickets_open_counts", "tickets", ["status", "merged_into_id", "queue", "assignee_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open_counts", table_name="tickets")
    op.drop_table("report_weeks")
    op.drop_table("report_changes")
