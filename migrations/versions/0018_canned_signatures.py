"""canned responses managed by editors, and agents' signatures per language

Revision ID: 0018_canned_signatures
Revises: 0017_report_rollups
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0018_canned_signatures"
down_revision: str | Sequence[str] | None = "0017_report_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["agents.id"],
            name=op.f("fk_canned_responses_updated_by_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("language", "shortcut", name=op.f("uq_canned_responses_language_shortcut")),
    )
    op.create_table(
        "agent_signatures",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_signatures_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", "language", name=op.f("pk_agent_signatures")),
    )


def downgrade() -> None:
    op.drop_table("agent_signatures")
    op.drop_table("canned_responses")
