"""ix_tickets_open_counts covers the console's open views by channel

Revision ID: 0037_consolepg_open_filters
Revises: 0036_sv1m_sla_watch_covering

The console list counts the total of a view of the open tickets narrowed to a channel (the kept
counts hold only queue and assignee). No index held the status with the channel, so the count
read every open ticket's row: at a million tickets 33,926 rows, 50-60 ms on SQLite and 65 ms on
PostgreSQL (21,000 heap pages), most of that view's time. The channel is appended to
ix_tickets_open_counts (status, merged_into_id, queue, assignee_id), which then answers the count
alone (1-2 ms on both). No new index: the same entries, a little wider; the leading columns,
which the status views' and the API's counts read, are unchanged; the channel is indexed already
(and never changes), so PostgreSQL's HOT updates are as before, and a new ticket costs SQLite no
more instructions (bench/tickets/core_cost.py, three pairs against main). The category was
tried too: it covered the category views the same way, but a new ticket cost ~2% more
instructions on SQLite (five pairs), so it is left out (bench/README.md, helper consolepg).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037_consolepg_open_filters"
down_revision: str | Sequence[str] | None = "0036_sv1m_sla_watch_covering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["status", "merged_into_id", "queue", "assignee_id"]
NEW = [*OLD, "channel"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL statement_timeout = 0")
    op.drop_index("ix_tickets_open_counts", table_name="tickets")
    op.create_index("ix_tickets_open_counts", "tickets", NEW)


def downgrade() -> None:
    op.drop_index("ix_tickets_open_counts", table_name="tickets")
    op.create_index("ix_tickets_open_counts", "tickets", OLD)
