"""callbacks and contacts' accommodations

A callback is a citizen's request to be phoned in a time window, tied to a ticket; each call an
agent makes is an attempt with its outcome. Accommodations are what a contact needs from us
(one row per kind), chosen by the citizen or set by an agent.

Revision ID: 0025_callbacks
Revises: 0024_incidents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.models.base

revision: str = "0025_callbacks"
down_revision: str | Sequence[str] | None = "0024_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = helpdesk.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("window_start", UTC(), nullable=False),
        sa.Column("window_end", UTC(), nullable=False),
        sa.Column(
            "windows",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("requested_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("done_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_callbacks_ticket_id", "callbacks", ["ticket_id"])
    op.create_index("ix_callbacks_status_window", "callbacks", ["status", "window_start"])
    op.create_index("ix_callbacks_requested_at", "callbacks", ["requested_at"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_attempts_callback_id", "callback_attempts", ["callback_id"])
    op.create_index("ix_callback_attempts_at", "callback_attempts", ["at"])
    op.create_table(
        "contact_accommodations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("set_by", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "kind"),
    )
    op.create_index("ix_contact_accommodations_contact_id", "contact_accommodations", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_accommodations_contact_id", table_name="contact_accommodations")
    op.drop_table("contact_accommodations")
    op.drop_index("ix_callback_attempts_at", table_name="callback_attempts")
    op.drop_index("ix_callback_attempts_callback_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_requested_at", table_name="callbacks")
    op.drop_index("ix_callbacks_status_window", table_name="callbacks")
    op.drop_index("ix_callbacks_ticket_id", table_name="callbacks")
    op.drop_table("callbacks")
