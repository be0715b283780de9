"""ticket full-text rows keyed by ticket: ticket_id * 2**20 + message seq

Revision ID: 0011_ticket_fts_keys
Revises: 0010_report_indexes

The ticket is read off the row key (no lookup in the FTS content table), so the rows written
under the old keys (-ticket_id, message_id) are dropped and written again.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.orm import Session

revision: str = "0011_ticket_fts_keys"
down_revision: str | Sequence[str] | None = "0010_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reindex() -> None:
    bind = op.get_bind()
    op.execute(
        "DELETE FROM ticket_search_docs" if bind.dialect.name == "postgresql" else "DELETE FROM ticket_fts"
    )
    from helpdesk.ticket_index import sync_index

    sync_index(Session(bind=bind))


def upgrade() -> None:
    _reindex()


def downgrade() -> None:
    # The old code reads the old keys; clearing leaves `helpdesk kb reindex-tickets` to it.
    bind = op.get_bind()
    op.execute(
        "DELETE FROM ticket_search_docs" if bind.dialect.name == "postgresql" else "DELETE FROM ticket_fts"
    )
