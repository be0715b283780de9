"""The administrative core operations and display names, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.administration import (
    AdminError,
    change_route,
    create_agent,
    create_queue,
    deactivate_agent,
    list_queues,
    rename_queue,
    route_effects,
    set_category_names,
    set_service_setting,
    update_agent,
)
from helpdesk.administration.names import load_names, name_from
from helpdesk.models import Agent, AgentSession, ApiToken, AuditEvent, Queue
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    merge_tickets,
    receive_inbound,
    set_category,
    set_queue,
    set_status,
)
from tests.conftest import add_agent, login

ADMIN = Actor.system("test")


def names(svc, kind, key):
    with svc.db.session() as s:
        found = load_names(s, kind)
    return [name_from(found, key, lang) for lang in ("sr-Latn", "sr-Cyrl", "en")]


def inbound(svc, sender, subject, text):
    message = InboundMessage(channel="email", sender=Identity("email", sender), subject=subject, text=text)
    return receive_inbound(svc, message).ticket_reference


def audit(svc, action):
    with svc.db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        s.expunge_all()
        return rows


def test_queues_are_created_and_renamed_in_three_languages(store):
    create_queue(store, ADMIN, "elections", {"sr-Latn": "Izbori", "en": "Elections"})
    # Cyrillic follows the Latin name until someone writes one
    assert names(store, "queue", "elections") == ["Izbori", "Избори", "Elections"]
    rename_queue(store, ADMIN, "elections",
                 {"sr-Latn": "Izborni poslovi", "sr-Cyrl": "Изборни послови", "en": "Election matters"})
    assert names(store, "queue", "elections") == ["Izborni poslovi", "Изборни послови", "Election matters"]
    made, renamed = audit(store, "queue.created"), audit(store, "queue.renamed")
    assert [a.after["name"] for a in made] == ["elections"]
    assert renamed[0].before["names"]["en"] == "Elections"
    # the standard queues never show their key or an English title in Serbian
    assert names(store, "queue", "complaints") == ["Žalbe", "Жалбе", "Complaints"]
    assert names(store, "queue", "accounts")[1] == "еУправа налози и eID"  # not "еИД"
    # a rename replaces the standard names: no stale English or Cyrillic stays behind
    rename_queue(store, ADMIN, "accounts", {"sr-Latn": "Nalozi"})
    assert names(store, "queue", "accounts") == ["Nalozi", "Налози", "Nalozi"]


@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("Elections!", {"sr-Latn": "Izbori"}, "lower-case"),
        ("elections", {"en": "Elections"}, "Serbian (Latin script) is required"),
        ("elections", {"sr-Latn": "x" * 201}, "longer than 200"),
        ("payments", {"sr-Latn": "Plaćanja"}, "exists already"),
    ],
)
def test_bad_queues_are_refused_with_a_reason(services, key, given, message):
    with pytest.raises(AdminError, match=re.escape(message)):
        create_queue(services, ADMIN, key, given)
    with services.db.session() as s:
        assert s.scalar(select(Queue).where(Queue.name == "elections")) is None


def test_categories_have_names_and_no_key_reaches_the_supervisor_csv(services):
    set_category_names(services, ADMIN, "taxes", {"sr-Latn": "Porezi i takse", "en": "Taxes and duties"})
    assert names(services, "category", "taxes") == ["Porezi i takse", "Порези и таксе", "Taxes and duties"]
    assert names(services, "category", "personal_documents")[1] == "Лична документа"
    ref = inbound(services, "a@example.rs", "Porez", "Koliko je porez?")
    set_category(services, ref, Actor.system("test"), "taxes")
    client = create_app(services.settings, services=services).test_client()
    login(client, services, "supervisor")
    week = services.clock.now().strftime("%G-W%V")
    url = f"/supervisor/export/categories.csv?from={week}&to={week}&lang=en"
    csv_text = client.get(url).get_data(as_text=True)
    assert "Taxes and duties" in csv_text and "taxes," not in csv_text.replace("Taxes", "")
    page = client.get("/supervisor?lang=sr-Cyrl").get_data(as_text=True)
    assert "Порези и таксе" in page


def test_routes_are_audited_and_show_their_effect(services):
    ref = inbound(services, "b@example.rs", "Porez", "Pitanje o porezu")
    set_category(services, ref, Actor.system("test"), "taxes")
    change_route(services, ADMIN, "taxes", "accounts")
    effect = {e.category: e for e in route_effects(services)}["taxes"]
    shown = (effect.queue, effect.stored, effect.open_tickets, effect.open_elsewhere)
    assert shown == ("accounts", True, 1, 1)
    assert audit(services, "route.changed")[0].after == {"category": "taxes", "queue": "accounts"}
    with pytest.raises(AdminError, match="There is no queue nowhere"):
        change_route(services, ADMIN, "taxes", "nowhere")


def test_agents_are_created_changed_and_deactivated_with_their_access_revoked(store):
    made = create_agent(store, ADMIN, "Mila@Example.rs", name="Mila", queues=["payments"])
    assert made.password and len(made.password) >= 10
    update_agent(store, ADMIN, made.id, role="supervisor", queues=["payments", "triage"])
    with store.db.transaction() as s:
        from helpdesk.auth.accounts import create_token, open_session

        agent = s.get(Agent, made.id)
        assert (agent.email, agent.role, sorted(q.name for q in agent.queues)) == (
            "mila@example.rs", "supervisor", ["payments", "triage"])
        open_session(s, agent, store.clock.now())
        create_token(s, agent, store.clock.now())
    assert deactivate_agent(store, ADMIN, made.id) is True
    with store.db.session() as s:
        assert s.get(Agent, made.id).active is False
        assert all(r.revoked for r in s.scalars(select(AgentSession)))
        assert all(r.revoked for r in s.scalars(select(ApiToken)))
    assert [a.action for a in audit(store, "agent.deactivated")] == ["agent.deactivated"]
    with pytest.raises(AdminError, match="exists already"):
        create_agent(store, ADMIN, "mila@example.rs")
    with pytest.raises(AdminError, match="There is no queue ghosts"):
        create_agent(store, ADMIN, "new@example.rs", queues=["ghosts"])


def test_the_last_administrator_stays(services):
    only = add_agent(services, "root@example.rs", "admin")
    with pytest.raises(AdminError, match="last active administrator"):
        deactivate_agent(services, ADMIN, only)
    with pytest.raises(AdminError, match="last active administrator"):
        update_agent(services, ADMIN, only, role="agent")


def test_stored_hours_and_targets_govern_new_tickets(services):
    from helpdesk.supervisor import configure_sla

    configure_sla(services)
    # T0 is Monday 10:00 in Belgrade; with the desk open only from 12:00, a 1h target ends at 13:00
    set_service_setting(services, ADMIN, "business_hours", "mon-fri 12:00-16:00")
    set_service_setting(services, ADMIN, "sla_targets", "normal=1h/2h")
    assert services.sla.business_hours == "mon-fri 12:00-16:00"  # what the phone line reads out
    ref = inbound(services, "c@example.rs", "Pitanje", "Zdravo")
    with services.db.session() as s:
        from helpdesk.models import Ticket

        ticket = s.scalar(select(Ticket).where(Ticket.reference == ref))
        assert ticket.first_response_due_at.isoformat() == "2026-11-23T12:00:00+00:00"
    with pytest.raises(AdminError, match="bad time range"):
        set_service_setting(services, ADMIN, "business_hours", "mon-fri 16:00-08:00")
    assert set_service_setting(services, ADMIN, "holidays", "2026-12-24, 2026-12-24,2026-12-31") == (
        "2026-12-24,2026-12-31")
    assert [a.action for a in audit(services, "settings.business_hours")] == ["settings.business_hours"]


def test_queue_list_counts_open_tickets_not_closed_or_merged_ones(store):
    refs = [inbound(store, f"q{i}@example.rs", "Porez", "Pitanje") for i in range(4)]
    for ref in refs:
        set_queue(store, ref, ADMIN, "payments")
    set_status(store, refs[1], ADMIN, "resolved")
    merge_tickets(store, refs[2], refs[0], ADMIN)
    set_queue(store, refs[3], ADMIN, "accounts")
    counts = {q.name: q.open_tickets for q in list_queues(store)}
    assert (counts["payments"], counts["accounts"], counts["complaints"]) == (1, 1, 0)
