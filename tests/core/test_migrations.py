"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helpdesk.models import Base
from helpdesk.models.list_indexes import CATEGORY_INDEX, LIST_INDEXES
from helpdesk.services import Services

# Indexes on an expression: SQLite's cannot be reflected, PostgreSQL writes them back its own way;
# tests/console/test_list_at_scale.py checks them.
EXPRESSION_INDEXES = {ix.name for ix in (*LIST_INDEXES, CATEGORY_INDEX)}


def _modelled(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Full-text search tables and their indexes are made by migrations on purpose, not by models."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name) or ""
    return (
        "fts" not in table_name
        and "search" not in (name or "")
        and not table_name.startswith("contact_name")
        and name not in EXPRESSION_INDEXES
    )


def test_migrations_match_the_models(store: Services) -> None:
    with store.db.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _modelled}
        )
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == [], diffs
