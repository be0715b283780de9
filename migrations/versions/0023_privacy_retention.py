"""retention rules, anonymized tickets and the privacy access log

A rule says how many days a queue's or a category's finished tickets keep their personal data;
``anonymized_tickets`` marks the tickets whose data is gone (retention or erasure), so a run
never does one twice; ``privacy_access_log`` records who viewed which contact's data.

Revision ID: 0023_privacy_retention
Revises: 0022_two_factor
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0023_privacy_retention"
down_revision: str | Sequence[str] | None = "0022_two_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["agents.id"],
            name=op.f("fk_retention_rules_updated_by_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_rules")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_retention_rules_scope_key")),
    )
    op.create_table(
        "anonymized_tickets",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_anonymized_tickets_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_anonymized_tickets")),
    )
    op.create_table(
        "privacy_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_privacy_access_log_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_access_log")),
    )
    op.create_index(op.f("ix_privacy_access_log_at"), "privacy_access_log", ["at"], unique=False)
    op.create_index(
        "ix_privacy_access_log_contact_at", "privacy_access_log", ["contact_id", "at"], unique=False
    )
    op.create_index("ix_privacy_access_log_agent_at", "privacy_access_log", ["agent_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_privacy_access_log_agent_at", table_name="privacy_access_log")
    op.drop_index("ix_privacy_access_log_contact_at", table_name="privacy_access_log")
    op.drop_index(op.f("ix_privacy_access_log_at"), table_name="privacy_access_log")
    op.drop_table("privacy_access_log")
    op.drop_table("anonymized_tickets")
    op.drop_table("retention_rules")
