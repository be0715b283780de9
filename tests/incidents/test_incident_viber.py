"""Viber too: a matching Viber message is linked and the Viber API double receives the incident's
notice instead of the usual acknowledgement (the channel's own sender, through the outbox)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.models import IncidentTicket
from helpdesk.tickets import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels" / "viber"))

from viber_helpers import USER, app, dispatch, double, fixture_body, post, svc, viber_db_url  # noqa: E402

__all__ = ["app", "dispatch", "double", "post", "svc", "viber_db_url"]  # the Viber fixtures

NOTICE = "Plaćanje takse ne radi do 14 časova. Ne morate ponovo da plaćate."


def test_a_matching_viber_message_gets_the_notice_on_viber(
    svc: Any, post: Any, double: Any, dispatch: Any
) -> None:
    open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(title="Takse", notice_sr_latn=NOTICE, keywords="potvrdu, potvrda o uplati"),
    )
    response = post(fixture_body("message_text"))  # "Dobar dan, nisam dobila potvrdu ..."
    assert response.status_code == 200, response.get_data(as_text=True)
    with svc.db.session() as s:
        assert s.scalar(select(IncidentTicket.matched_by)) == "keyword"
    assert dispatch() == 1
    [notice] = double.messages()
    assert notice["receiver"] == USER and notice["type"] == "text"
    assert notice["text"].startswith(NOTICE) and response.get_json()["ticket"] in notice["text"]
