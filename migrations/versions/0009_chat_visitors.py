"""web chat visitors: hashed chat tokens, details left in chat, presence

Revision ID: 0009_chat_visitors
Revises: 0008_ticket_fts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0009_chat_visitors"
down_revision: str | Sequence[str] | None = "0008_ticket_fts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_visitors",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("present_until", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_chat_visitors")),
    )


def downgrade() -> None:
    op.drop_table("chat_visitors")
