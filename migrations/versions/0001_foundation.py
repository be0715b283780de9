"""foundation: contacts, tickets, messages, agents, outbox, audit

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-28 23:44:49.484528
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.models.base

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("is_editor", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("email", name=op.f("uq_agents_email")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("script", sa.String(length=10), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("sms_opt_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["contacts.id"], name=op.f("fk_contacts_merged_into_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_ticket_counters")),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_sessions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_agent_sessions")),
    )
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_sessions_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_api_tokens_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "contact_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_identities_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_identities")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_contact_identities_kind_value")),
    )
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_identities_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "queue_members",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_queue_members_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_queue_members_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_id", "agent_id", name=op.f("pk_queue_members")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("script", sa.String(length=10), nullable=True),
        sa.Column("triage_confidence", sa.Double(), nullable=True),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("closed_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("first_response_due_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolution_due_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("sla_paused_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("sla_paused_seconds", sa.Integer(), nullable=False),
        sa.Column("sla_breached_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("deflected", sa.Boolean(), nullable=False),
        sa.Column("kb_suggested", sa.Boolean(), nullable=False),
        sa.Column("related_ticket_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("reply_token", sa.String(length=32), nullable=False),
        sa.Column("csat_score", sa.Integer(), nullable=True),
        sa.Column("csat_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["agents.id"],
            name=op.f("fk_tickets_assignee_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_tickets_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["tickets.id"], name=op.f("fk_tickets_merged_into_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["related_ticket_id"], ["tickets.id"], name=op.f("fk_tickets_related_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("reference", name=op.f("uq_tickets_reference")),
        sa.UniqueConstraint("reply_token", name=op.f("uq_tickets_reply_token")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index("ix_tickets_contact_status", ["contact_id", "status"], unique=False)
        batch_op.create_index("ix_tickets_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_tickets_queue_status", ["queue", "status"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor_agent_id", sa.Integer(), nullable=True),
        sa.Column("actor_contact_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["actor_agent_id"],
            ["agents.id"],
            name=op.f("fk_audit_events_actor_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_contact_id"],
            ["contacts.id"],
            name=op.f("fk_audit_events_actor_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_audit_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("delivery_state", sa.String(length=10), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("raw_path", sa.String(length=300), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_messages_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_messages_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_messages_channel_external_id")),
        sa.UniqueConstraint("ticket_id", "client_id", name=op.f("uq_messages_ticket_id_client_id")),
        sa.UniqueConstraint("ticket_id", "seq", name=op.f("uq_messages_ticket_id_seq")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("content_id", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_sha256"), ["sha256"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", helpdesk.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_outbox_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_outbox_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_ticket_id"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachments_message_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_ticket_id"))

    op.drop_table("messages")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_ticket_id"))
        batch_op.drop_index("ix_audit_events_action_at")

    op.drop_table("audit_events")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_queue_status")
        batch_op.drop_index("ix_tickets_created_at")
        batch_op.drop_index("ix_tickets_contact_status")
        batch_op.drop_index("ix_tickets_assignee_status")

    op.drop_table("tickets")
    op.drop_table("queue_members")
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_identities_contact_id"))

    op.drop_table("contact_identities")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_agent_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_sessions_agent_id"))

    op.drop_table("agent_sessions")
    op.drop_table("ticket_counters")
    op.drop_table("queues")
    op.drop_table("contacts")
    op.drop_table("agents")
