"""managed names: queue names per language, ticket categories, service settings

Queues get a name per interface language; ticket categories become a managed table with the
triage model's labels and their names; administrators' business hours, holidays and SLA targets
are stored over the settings. Known queues get their standard names (an install made by the demo
showed English titles in the Serbian interface).

Revision ID: 0019_managed_names
Revises: 0018_canned_signatures
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base

revision: str = "0019_managed_names"
down_revision: str | Sequence[str] | None = "0018_canned_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of helpdesk/administration/defaults.py as it was: a migration must not change later.
QUEUES = {
    "triage": ("Trijaža", "Triage"),
    "accounts": ("eUprava nalozi i eID", "eGovernment accounts and eID"),
    "payments": ("Plaćanja i porezi", "Payments and taxes"),
    "documents": ("Lična dokumenta", "Personal documents"),
    "social": ("Socijalna davanja i zdravstvo", "Social benefits and health"),
    "technical": ("Tehnička podrška", "Technical support"),
    "complaints": ("Žalbe", "Complaints"),
}
CATEGORIES = {
    "account_login": ("Nalog i prijava", "Account and login"),
    "eid_certificates": ("Elektronska identifikacija i sertifikati", "eID and certificates"),
    "payments_fees": ("Plaćanja i takse", "Payments and fees"),
    "taxes": ("Porezi", "Taxes"),
    "personal_documents": ("Lična dokumenta", "Personal documents"),
    "social_benefits": ("Socijalna davanja", "Social benefits"),
    "health_vaccination": ("Zdravstvo i vakcinacija", "Health and vaccination"),
    "technical_portal": ("Tehnički problemi portala", "Technical problems with the portal"),
    "complaints": ("Žalbe", "Complaints"),
    "other": ("Ostalo", "Other"),
}


def upgrade() -> None:
    json_type = helpdesk.models.base.JSONType
    op.add_column("queues", sa.Column("names", json_type, nullable=True))
    categories = op.create_table(
        "categories",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("names", json_type, nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_categories")),
    )
    op.create_table(
        "service_settings",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_service_settings")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        categories,
        [
            {"key": key, "names": {"sr-Latn": latn, "en": en}, "updated_at": now}
            for key, (latn, en) in CATEGORIES.items()
        ],
    )
    queues = sa.table("queues", sa.column("name", sa.String), sa.column("names", json_type))
    for name, (latn, en) in QUEUES.items():
        op.execute(
            queues.update()
            .where(queues.c.name == name)
            .values(names={"sr-Latn": latn, "en": en})
        )


def downgrade() -> None:
    op.drop_table("service_settings")
    op.drop_table("categories")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("names")
