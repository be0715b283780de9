"""Stores for the metrics tests: SQLite, and PostgreSQL when HELPDESK_TEST_DATABASE_URL is set.

Weekly figures count every ticket in the store, so each test gets a store of its own: a fresh
SQLite file, or a fresh PostgreSQL database created beside the test database and dropped after.
"""

from __future__ import annotations

import os
import uuid

import metrics_scenario as scenario
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpdesk.business_hours import BusinessCalendar
from helpdesk.db import Database
from helpdesk.models import Base
from helpdesk.sla import BusinessHoursSla


def _postgres_database(url: str):
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"hd_metrics_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def metrics_db(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'metrics.db'}")
        Base.metadata.create_all(db.engine)
        yield db
        db.dispose()
        return
    pg = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    if not pg:
        if os.environ.get("CI"):
            pytest.fail("HELPDESK_TEST_DATABASE_URL is required in CI")
        pytest.skip("PostgreSQL not configured (HELPDESK_TEST_DATABASE_URL)")
    for url in _postgres_database(pg):
        db = Database(url)
        Base.metadata.create_all(db.engine)
        yield db
        db.dispose()


@pytest.fixture()
def sla_policy():
    calendar = BusinessCalendar.build("mon-fri 08:00-16:00", "Europe/Belgrade", ["rs"])
    return BusinessHoursSla(calendar)


@pytest.fixture()
def scenario_db(metrics_db, sla_policy):
    with metrics_db.transaction() as session:
        tickets = scenario.build(session, sla_policy)
        ids = {k: t.id for k, t in tickets.items()}
    metrics_db.ticket_ids = ids
    return metrics_db
