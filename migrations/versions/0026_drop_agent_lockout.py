"""drop the agents' lockout columns

``failed_logins`` and ``locked_until`` belonged to an account-wide lockout that was replaced by
the throttle per (account, client address) in ``helpdesk.auth.throttle`` (kept in the rate
limiter's storage, never in this table): nothing has read them since. Plain ALTER TABLE ... DROP
COLUMN on both databases (SQLite >= 3.35): not batch mode, which on SQLite would copy and drop
the ``agents`` table that many tables point at with foreign keys switched on.

Revision ID: 0026_drop_agent_lockout
Revises: 0025_callbacks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0026_drop_agent_lockout"
down_revision: str | Sequence[str] | None = "0025_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("agents", "locked_until")
    op.drop_column("agents", "failed_logins")


def downgrade() -> None:
    op.add_column(
        "agents", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "agents", sa.Column("locked_until", helpdesk.models.base.UTCDateTime(), nullable=True)
    )
