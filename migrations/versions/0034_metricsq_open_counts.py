"""open-ticket counts kept by triggers; assignee_id in the covering report indexes

Revision ID: 0034_metricsq_open_counts
Revises: 0033_pgwords_prune_lock

``open_ticket_counts`` holds, per queue and assignee, how many open tickets (new, open or
pending, not merged away) there are, as rows to be summed: every insert, delete or update of a
ticket that moves it into, out of or between counted keys appends -1 / +1 rows in the same
transaction (a trigger, so every writer is counted: the ORM, bulk Core inserts, raw SQL, the
foreign key's SET NULL). Appending never touches a shared row, so writers never wait on each
other; ``helpdesk.metrics.open_counts.compact`` folds the rows into one per key now and then. The
console's queue counts sum a few hundred rows instead of counting every open ticket (issue 14).

The per-agent weekly parts (``helpdesk.metrics.agent_rollup``) read ``assignee_id`` with the
first-response and resolution times: it is appended to those two covering indexes, so a week is
read from the index alone instead of ~19,000 table rows at a million tickets.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_metricsq_open_counts"
down_revision: str | Sequence[str] | None = "0033_pgwords_prune_lock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["merged_into_id", "channel", "queue", "category"]
OLD_INDEXES = {
    "ix_tickets_report_first_response": ["first_response_at", "created_at", *FILTERS],
    "ix_tickets_report_resolved": [
        "resolved_at", "created_at", "resolution_due_at", "first_response_at",
        "first_response_due_at", "csat_score", *FILTERS,
    ],
}

_COUNTED = "{row}.status IN ('new', 'open', 'pending') AND {row}.merged_into_id IS NULL"
OLD_IN, NEW_IN = _COUNTED.format(row="OLD"), _COUNTED.format(row="NEW")
# An update matters when the ticket enters or leaves the count, or moves between keys while in it.
MOVED = (
    f"(({OLD_IN}) <> ({NEW_IN}) OR (({NEW_IN}) AND "
    "(OLD.queue IS DISTINCT FROM NEW.queue OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)))"
)
SQLITE_MOVED = MOVED.replace("IS DISTINCT FROM", "IS NOT")
COLUMNS = "status, merged_into_id, queue, assignee_id"

PG_FUNCTION = f"""
CREATE FUNCTION open_ticket_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND {OLD_IN} THEN
        INSERT INTO open_ticket_counts (queue, assignee_id, n) VALUES (OLD.queue, OLD.assignee_id, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND {NEW_IN} THEN
        INSERT INTO open_ticket_counts (queue, assignee_id, n) VALUES (NEW.queue, NEW.assignee_id, 1);
    END IF;
    RETURN NULL;
END $$
"""  # noqa: S608 - built from the constants above
PG_TRIGGERS = {
    "insert": f"AFTER INSERT ON tickets FOR EACH ROW WHEN ({NEW_IN})",
    "update": f"AFTER UPDATE OF {COLUMNS} ON tickets FOR EACH ROW WHEN {MOVED}",
    "delete": f"AFTER DELETE ON tickets FOR EACH ROW WHEN ({OLD_IN})",
}
_SQLITE_MINUS = "INSERT INTO open_ticket_counts (queue, assignee_id, n) VALUES (OLD.queue, OLD.assignee_id, -1);"
_SQLITE_PLUS = "INSERT INTO open_ticket_counts (queue, assignee_id, n) VALUES (NEW.queue, NEW.assignee_id, 1);"
SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON tickets WHEN ({NEW_IN}) BEGIN {_SQLITE_PLUS} END",
    "update": (
        f"AFTER UPDATE OF {COLUMNS} ON tickets WHEN {SQLITE_MOVED} BEGIN "
        f"INSERT INTO open_ticket_counts (queue, assignee_id, n) "
        f"SELECT OLD.queue, OLD.assignee_id, -1 WHERE {OLD_IN}; "
        f"INSERT INTO open_ticket_counts (queue, assignee_id, n) "
        f"SELECT NEW.queue, NEW.assignee_id, 1 WHERE {NEW_IN}; END"
    ),
    "delete": f"AFTER DELETE ON tickets WHEN ({OLD_IN}) BEGIN {_SQLITE_MINUS} END",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL statement_timeout = 0")
    for name, columns in OLD_INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", [*columns, "assignee_id"])
    op.create_table(
        "open_ticket_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_ticket_counts")),
    )
    if dialect == "postgresql":
        # No ticket may change between the count below and the triggers: both under this lock.
        op.execute("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE")
        op.execute(PG_FUNCTION)
        for event, spec in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER open_ticket_counts_{event} {spec} EXECUTE FUNCTION open_ticket_counts_move()")
    else:
        for event, spec in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER open_ticket_counts_{event} {spec}")
    op.execute(
        "INSERT INTO open_ticket_counts (queue, assignee_id, n) "
        "SELECT queue, assignee_id, count(*) FROM tickets "
        "WHERE status IN ('new', 'open', 'pending') AND merged_into_id IS NULL "
        "GROUP BY queue, assignee_id"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for event in PG_TRIGGERS:
        op.execute(
            f"DROP TRIGGER open_ticket_counts_{event}" + (" ON tickets" if dialect == "postgresql" else "")
        )
    if dialect == "postgresql":
        op.execute("DROP FUNCTION open_ticket_counts_move()")
    op.drop_table("open_ticket_counts")
    for name, columns in OLD_INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns)
