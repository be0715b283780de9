"""console list: indexes in due order (any status; one status) and by category; PostgreSQL statistics

Revision ID: 0035_anyview_due_order
Revises: 0034_metricsq_open_counts

The console's list sorts by the deadline a ticket is racing now. A view of every status, or of
the closed tickets, holds nearly every ticket of a big store, and sorting a million of them cost
seconds per page (bench/README.md, helper anyview). ``ix_tickets_due_order`` holds every ticket
in that order and ``ix_tickets_status_due_order`` each status's: the first page is the first
matching entries. The expression is ``helpdesk.models.list_indexes.due_order`` as SQLAlchemy
writes it, which is what the list's ORDER BY says (SQLite and PostgreSQL match an expression
index by its written form).

``ix_tickets_category`` (on ``category || ''``): the console's menu of categories reads the
tickets' distinct categories one index step each (``helpdesk.console.queries.categories``); a
DISTINCT read every ticket on every console and ticket page.

PostgreSQL gathers statistics of an index's expression only when the table is analyzed, which
a new index does not cause: ANALYZE tickets here, or the planner guesses about the due time
until autovacuum's next pass (after a tenth of the table has changed). SQLite: the statistics
are refreshed after every upgrade (``helpdesk.migrate.upgrade``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_anyview_due_order"
down_revision: str | Sequence[str] | None = "0034_metricsq_open_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# helpdesk.models.list_indexes.due_order() as SQLAlchemy writes it (the same on both databases),
# in parentheses (PostgreSQL indexes an expression other than a function call only so).
DUE_ORDER = (
    "(CASE WHEN (first_response_at IS NOT NULL OR first_response_due_at IS NULL) "
    "THEN resolution_due_at ELSE first_response_due_at END)"
)

# helpdesk.models.list_indexes.category_key(): the category itself, an expression on purpose (the
# list's category filter must not walk it; see there).
CATEGORY_KEY = "(category || '')"


def upgrade() -> None:
    op.create_index("ix_tickets_due_order", "tickets", [sa.text(DUE_ORDER)])
    op.create_index("ix_tickets_status_due_order", "tickets", ["status", sa.text(DUE_ORDER)])
    op.create_index("ix_tickets_category", "tickets", [sa.text(CATEGORY_KEY)])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE tickets")


def downgrade() -> None:
    op.drop_index("ix_tickets_category", table_name="tickets")
    op.drop_index("ix_tickets_status_due_order", table_name="tickets")
    op.drop_index("ix_tickets_due_order", table_name="tickets")
