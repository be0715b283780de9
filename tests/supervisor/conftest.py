"""Fixtures for the supervisor tests: the hand-worked scenario on the lead's `store` (SQLite and
PostgreSQL, migrated with Alembic, so the report indexes exist), with a fixed clock and the
business-hours SLA policy.
"""

from __future__ import annotations

import metrics_scenario as scenario
import pytest

from helpdesk.business_hours import BusinessCalendar
from helpdesk.services import FixedClock
from helpdesk.sla import BusinessHoursSla


@pytest.fixture()
def sla_policy():
    calendar = BusinessCalendar.build("mon-fri 08:00-16:00", "Europe/Belgrade", ["rs"])
    return BusinessHoursSla(calendar)


@pytest.fixture()
def metrics_svc(store, sla_policy):
    store.clock = FixedClock(scenario.NOW)
    store.sla = sla_policy
    return store


@pytest.fixture()
def metrics_db(metrics_svc):
    return metrics_svc.db


@pytest.fixture()
def scenario_db(metrics_svc):
    db = metrics_svc.db
    with db.transaction() as session:
        tickets = scenario.build(session, metrics_svc.sla)
        ids = {k: t.id for k, t in tickets.items()}
    db.ticket_ids = ids
    return db
