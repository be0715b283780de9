"""sensitive values: full JMBGs kept encrypted apart from the (masked) message text

Messages stored before this revision are not rewritten: their text stays as it was written.

Revision ID: 0020_sensitive_values
Revises: 0019_managed_names
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0020_sensitive_values"
down_revision: str | Sequence[str] | None = "0019_managed_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sensitive_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_sensitive_values_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_values")),
    )
    op.create_index(op.f("ix_sensitive_values_message_id"), "sensitive_values", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sensitive_values_message_id"), table_name="sensitive_values")
    op.drop_table("sensitive_values")
