"""The weekly figures count incident-linked tickets (created in the week), in the JSON, the CSV
and the supervisor page; stored weekly rollups stay equal to a full recomputation when a linked
ticket lands in a week already stored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk import create_app
from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.incidents.linking import link_ticket
from helpdesk.metrics import Filters, report_csv, resolve_weeks, weekly_report
from helpdesk.metrics.report import recomputed_report
from helpdesk.models import Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound
from tests.conftest import T0, login

TZ = ZoneInfo("Europe/Belgrade")


def _inquiry(svc: Services, n: int, text: str, days_ago: float) -> None:
    receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", f"citizen{n}@example.rs"),
            subject="Pitanje",
            text=text,
            received_at=T0 - timedelta(days=days_ago),
            wants_acknowledgement=True,
        ),
    )


def _linked(svc: Services, rolled: bool = True) -> dict[str, int]:
    weeks = resolve_weeks("2026-W45", "2026-W48", T0, TZ)
    build = weekly_report if rolled else recomputed_report
    report = build(svc.db, weeks, svc.clock.now(), Filters(), TZ)
    return {w.week: w.incident_linked for w in report.weeks}


def test_weekly_figures_count_incident_linked_tickets_and_rollups_stay_exact(store: Services) -> None:
    svc = store
    svc.clock.at = T0 - timedelta(days=14)  # type: ignore[attr-defined]  # Monday of 2026-W46
    incident = open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(title="eUprava", notice_sr_latn="eUprava ne radi.", keywords="eUprava"),
    )
    _inquiry(svc, 0, "Kako da platim taksu?", 15)  # 2026-W45, before the incident: not linked
    _inquiry(svc, 1, "Ne radi eUprava", 14)
    _inquiry(svc, 2, "eUprava javlja grešku", 13)
    _inquiry(svc, 3, "Kako da promenim adresu?", 13)
    svc.clock.at = T0  # type: ignore[attr-defined]  # 2026-W48
    _inquiry(svc, 4, "Da li radi eUprava?", 6)  # 2026-W47
    expected = {"2026-W45": 0, "2026-W46": 2, "2026-W47": 1, "2026-W48": 0}
    assert _linked(svc) == expected  # computed, and the closed weeks stored
    assert _linked(svc) == expected  # read back from the rollups

    _inquiry(svc, 5, "eUprava ne radi ni danas", 12)  # late mail, dated into the stored W46
    expected["2026-W46"] = 3
    assert _linked(svc) == expected == _linked(svc, rolled=False)
    with svc.db.session() as s:  # a W45 ticket an agent links by hand, after W45 was stored
        w45 = s.scalars(select(Ticket.reference).where(Ticket.created_at < T0 - timedelta(days=14))).one()
    link_ticket(svc, incident, w45, Actor.system("test"))
    expected["2026-W45"] = 1
    assert _linked(svc) == expected == _linked(svc, rolled=False)
    weeks = resolve_weeks("2026-W46", "2026-W47", T0, TZ)
    csv_text = report_csv(weekly_report(svc.db, weeks, T0, Filters(), TZ))
    w46 = next(csv.DictReader(io.StringIO(csv_text)))
    assert (w46["week"], w46["incident_linked"]) == ("2026-W46", "3")

    client = create_app(svc.settings, services=svc).test_client()
    login(client, svc, "supervisor")
    page = client.get("/supervisor?from=2026-W46&to=2026-W47&lang=en").get_data(as_text=True)
    assert "Linked to incidents" in page
