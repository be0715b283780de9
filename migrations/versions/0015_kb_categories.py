"""kb categories: display names in Serbian (Latin, Cyrillic) and English for the help center

Revision ID: 0015_kb_categories
Revises: 0014_attachment_public_ids
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0015_kb_categories"
down_revision: str | Sequence[str] | None = "0014_attachment_public_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The starter articles' categories; editors rename them and add more in the console.
STARTER = [
    ("nalog", "Nalog i prijava na portal", "", "Your account and signing in"),
    ("eid", "Elektronska identifikacija", "", "Electronic identity"),
    ("dokumenta", "Lična dokumenta", "", "Personal documents"),
    ("placanja", "Plaćanja i takse", "", "Payments and fees"),
    ("porezi", "Porezi", "", "Taxes"),
    ("davanja", "Socijalna davanja", "", "Social benefits"),
]


def upgrade() -> None:
    table = op.create_table(
        "kb_categories",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_sr_latn", sa.String(length=100), nullable=False),
        sa.Column("name_sr_cyrl", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kb_categories")),
    )
    now = datetime.now(UTC)  # the column type stores aware UTC as naive itself
    rows = [
        {"key": k, "name_sr_latn": sr, "name_sr_cyrl": cyr, "name_en": en, "position": i, "updated_at": now}
        for i, (k, sr, cyr, en) in enumerate(STARTER)
    ]
    # Categories articles already use get a row too (named by their key until an editor renames
    # them), so that every article's category is a managed one.
    conn = op.get_bind()
    known = {k for k, *_ in STARTER}
    used = conn.execute(sa.text("SELECT DISTINCT category FROM kb_articles WHERE category <> ''")).scalars()
    for i, key in enumerate(sorted(set(used) - known)):
        rows.append(
            {
                "key": key,
                "name_sr_latn": key,
                "name_sr_cyrl": "",
                "name_en": key,
                "position": len(STARTER) + i,
                "updated_at": now,
            }
        )
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("kb_categories")
