"""report changes: index on the writer's transaction id (PostgreSQL rollup validity check)

Revision ID: 0021_report_changes_txid
Revises: 0020_sensitive_values
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_report_changes_txid"
down_revision: str | Sequence[str] | None = "0020_sensitive_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_report_changes_txid", "report_changes", ["txid"])


def downgrade() -> None:
    op.drop_index("ix_report_changes_txid", table_name="report_changes")
