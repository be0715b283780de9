"""incidents: an outage's notice, the tickets linked to it and the bulk answers sent for it

Revision ID: 0024_incidents
Revises: 0023_privacy_retention
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0024_incidents"
down_revision: str | Sequence[str] | None = "0023_privacy_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = helpdesk.models.base.UTCDateTime
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("notice_sr_latn", sa.Text(), nullable=False),
        sa.Column("notice_sr_cyrl", sa.Text(), nullable=False),
        sa.Column("notice_en", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", when(), nullable=False),
        sa.Column("expected_end_at", when(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("closed_at", when(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["opened_by_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["agents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incidents_status_starts_at", "incidents", ["status", "starts_at"])
    op.create_table(
        "incident_tickets",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", when(), nullable=False),
        sa.Column("matched_by", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_incident_tickets_incident_id", "incident_tickets", ["incident_id"])
    op.create_table(
        "incident_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nonce"),
    )
    op.create_index("ix_incident_answers_incident_id", "incident_answers", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_answers_incident_id", table_name="incident_answers")
    op.drop_table("incident_answers")
    op.drop_index("ix_incident_tickets_incident_id", table_name="incident_tickets")
    op.drop_table("incident_tickets")
    op.drop_index("ix_incidents_status_starts_at", table_name="incidents")
    op.drop_table("incidents")
