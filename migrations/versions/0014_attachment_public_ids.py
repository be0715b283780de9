"""attachments: a random public id for their URLs (ids are sequential and guessable)

Revision ID: 0014_attachment_public_ids
Revises: 0013_saved_views
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_attachment_public_ids"
down_revision: str | Sequence[str] | None = "0013_saved_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("attachments", sa.Column("public_id", sa.String(length=32), nullable=True))
    attachments = sa.table("attachments", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    conn = op.get_bind()
    ids = conn.execute(sa.select(attachments.c.id)).scalars().all()
    for attachment_id in ids:  # existing files get their random id once, here
        conn.execute(
            attachments.update()
            .where(attachments.c.id == attachment_id)
            .values(public_id=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(batch.f("uq_attachments_public_id"), ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint(batch.f("uq_attachments_public_id"), type_="unique")
        batch.drop_column("public_id")
