"""supervisor reports: covering indexes for the weekly figures and the SLA watch

Each weekly figure reads one time column by range (created, first answered, resolved, due);
these indexes hold that column first and the columns the figure and its filters need after it,
so SQLite and PostgreSQL answer from the index without visiting the table rows.

Revision ID: 0010_report_indexes
Revises: 0009_chat_visitors
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_report_indexes"
down_revision: str | Sequence[str] | None = "0009_chat_visitors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["merged_into_id", "channel", "queue", "category"]
INDEXES = {
    "ix_tickets_report_created": ["created_at", *FILTERS, "deflected"],
    "ix_tickets_report_first_response": ["first_response_at", "created_at", *FILTERS],
    "ix_tickets_report_resolved": [
        "resolved_at", "created_at", "resolution_due_at", "first_response_at",
        "first_response_due_at", "csat_score", *FILTERS,
    ],
    "ix_tickets_report_resolution_due": [
        "resolution_due_at", "resolved_at", "sla_paused_at", *FILTERS,
    ],
    # the SLA watch: running tickets by due time
    "ix_tickets_sla_watch": ["status", "sla_breached_at", "resolution_due_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
