"""mail spool (250 means spooled) and a fixed external id for outbox items

Revision ID: 0016_mail_spool
Revises: 0015_kb_categories
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.models.base

revision: str = "0016_mail_spool"
down_revision: str | Sequence[str] | None = "0015_kb_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_spool",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("mail_from", sa.String(length=512), nullable=False),
        sa.Column(
            "rcpt_tos",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sender_key", sa.String(length=512), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_spool")),
    )
    op.create_index("ix_mail_spool_due", "mail_spool", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_mail_spool_sender", "mail_spool", ["sender_key", "status"], unique=False)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("external_id")
    op.drop_index("ix_mail_spool_sender", table_name="mail_spool")
    op.drop_index("ix_mail_spool_due", table_name="mail_spool")
    op.drop_table("mail_spool")
