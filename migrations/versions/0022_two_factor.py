"""two-factor sign-in and scoped API tokens

Agents get an encrypted TOTP secret, the time it was enabled and the last time step accepted
(a code cannot be used twice); one-time recovery codes are kept as hashes. API tokens get scopes
(NULL: a token made before scopes, which keeps every scope) and an optional expiry.

Revision ID: 0022_two_factor
Revises: 0021_report_changes_txid
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0022_two_factor"
down_revision: str | Sequence[str] | None = "0021_report_changes_txid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=300), nullable=True))
        batch.add_column(
            sa.Column("totp_enabled_at", helpdesk.models.base.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("totp_last_counter", sa.Integer(), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("expires_at", helpdesk.models.base.UTCDateTime(), nullable=True))
    op.create_table(
        "agent_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_agent_recovery_codes_agent_id", "agent_recovery_codes", ["agent_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_agent_recovery_codes_agent_id", table_name="agent_recovery_codes")
    op.drop_table("agent_recovery_codes")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("totp_last_counter")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret")
