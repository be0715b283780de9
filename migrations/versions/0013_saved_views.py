"""saved views: each agent's named ticket-list filters

Revision ID: 0013_saved_views
Revises: 0012_triage_routes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0013_saved_views"
down_revision: str | Sequence[str] | None = "0012_triage_routes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_saved_views_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("agent_id", "name", name=op.f("uq_saved_views_agent_id_name")),
    )
    op.create_index(op.f("ix_saved_views_agent_id"), "saved_views", ["agent_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_saved_views_agent_id"), table_name="saved_views")
    op.drop_table("saved_views")
