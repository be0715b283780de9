"""ix_tickets_sla_watch covers the supervisor's live "past target" count

Revision ID: 0036_sv1m_sla_watch_covering
Revises: 0035_anyview_due_order

Today's live counters on ``/supervisor`` count the open tickets past a target (recorded by the
SLA watch or not yet), running and pending: at a million tickets that read every open ticket's
row from the table (33,503 in the demo store, 90-117 ms of the page). The SLA watch's index
(status, sla_breached_at, resolution_due_at) gets the other columns that count reads appended
(merged_into_id, first_response_due_at, first_response_at, queue), so it is answered from the
index alone. No new index: the same entries, a little wider; the leading columns, which the SLA
watch and the monitoring counts read, are unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036_sv1m_sla_watch_covering"
down_revision: str | Sequence[str] | None = "0035_anyview_due_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["status", "sla_breached_at", "resolution_due_at"]
NEW = [*OLD, "merged_into_id", "first_response_due_at", "first_response_at", "queue"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL statement_timeout = 0")
    op.drop_index("ix_tickets_sla_watch", table_name="tickets")
    op.create_index("ix_tickets_sla_watch", "tickets", NEW)


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_watch", table_name="tickets")
    op.create_index("ix_tickets_sla_watch", "tickets", OLD)
