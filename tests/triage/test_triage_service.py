"""The triage service inside the core: routing, assignment, learning from agents, hot reload."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.models import Agent, Queue, Ticket
from helpdesk.routing import TRIAGE_QUEUE, choose_queue, parse_routes, set_route
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, set_category
from helpdesk.triage_service import CHECK_INTERVAL, ModelTriage, agent_labels
from tests.conftest import add_agent, make_services, make_settings
from triage.datasets import Example, read_seed
from triage.store import ModelStore
from triage.training import train_version


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with an active seed model (trained once for the module)."""
    data_dir = tmp_path_factory.mktemp("triage-data")
    train_version(ModelStore(data_dir, "test-secret-key-" + "x" * 32), read_seed())
    return data_dir


@pytest.fixture
def svc(tmp_path: Path, trained_dir: Path, store_url: str) -> Iterator[Services]:
    """Services on SQLite and (when configured) PostgreSQL, with the seed model active."""
    data_dir = tmp_path / "var"
    shutil.copytree(trained_dir, data_dir)  # each test may train and activate its own versions
    settings = make_settings(tmp_path, store_url, data_dir=data_dir, triage="model")
    services = make_services(settings)
    with services.db.transaction() as s:
        for name in ("social",):
            s.add(Queue(name=name, title=name.title()))
    services.triage = ModelTriage(settings, services.db)
    yield services
    services.db.dispose()


def _inbound(svc: Services, text: str, sender: str = "gradjanin@example.com") -> Ticket:
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="email", sender=Identity("email", sender), sender_name=None, subject="", text=text
        ),
    )
    with svc.db.session() as s:
        ticket = s.get_one(Ticket, result.ticket_id)
        s.expunge(ticket)
    return ticket


def test_app_factory_uses_the_model_unless_told_local(tmp_path: Path, trained_dir: Path) -> None:
    model_app = create_app(make_settings(tmp_path, data_dir=trained_dir, triage="model"))
    local_app = create_app(make_settings(tmp_path / "b", triage="local"))
    assert isinstance(model_app.extensions["helpdesk"].triage, ModelTriage)
    assert model_app.extensions["helpdesk"].triage.version is not None
    assert not isinstance(local_app.extensions["helpdesk"].triage, ModelTriage)
    with pytest.raises(ValueError, match="HELPDESK_TRIAGE"):
        create_app(make_settings(tmp_path / "c", triage="magic"))


def test_inquiries_are_routed_to_their_queue_in_any_script(svc: Services) -> None:
    cases = [
        ("Zaboravio sam lozinku i ne mogu da se prijavim na eUpravu.", "account_login", "accounts"),
        ("Заборавио сам лозинку и не могу да се пријавим на еУправу.", "account_login", "accounts"),
        ("Izgubio sam licnu kartu, sta treba da uradim?", "personal_documents", "documents"),
        ("My child allowance was not paid this month.", "social_benefits", "social"),
    ]
    for n, (text, category, queue) in enumerate(cases):
        ticket = _inbound(svc, text, f"g{n}@example.com")
        assert (ticket.category, ticket.queue) == (category, queue), text
        assert ticket.triage_confidence is not None and ticket.triage_confidence >= 0.45
    cyr = _inbound(svc, "ХИТНО: сутра ми истиче рок за жалбу, службеник је био безобразан.", "c@x.rs")
    assert cyr.script == "cyrl" and cyr.language == "sr"
    assert cyr.priority == "urgent" and cyr.complaint


def test_low_confidence_goes_to_the_triage_queue(svc: Services) -> None:
    ticket = _inbound(svc, "qwx zzkj plimf vrrr")
    assert ticket.queue == TRIAGE_QUEUE
    assert ticket.triage_confidence is not None and ticket.triage_confidence < 0.45
    # the rule itself: unsure, out of scope, unknown or missing queue -> triage
    routes = parse_routes("taxes=payments,other=general")
    assert choose_queue("taxes", 0.9, True, 0.45, routes, {"payments"}) == "payments"
    assert choose_queue("taxes", 0.3, True, 0.45, routes, {"payments"}) == TRIAGE_QUEUE
    assert choose_queue("taxes", 0.9, False, 0.45, routes, {"payments"}) == TRIAGE_QUEUE
    assert choose_queue("other", 0.9, True, 0.45, routes, {"payments"}) == TRIAGE_QUEUE
    assert choose_queue("new_category", 0.9, True, 0.45, routes, None) == TRIAGE_QUEUE
    with pytest.raises(ValueError, match="category=queue"):
        parse_routes("taxes")


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Govorna poruka (0:42), snimak je u prilogu.", ""),  # untranscribed voicemail
        ("(MMS)", ""),  # an SMS with only a picture
        ("", None),  # an email with only an attachment
        ("!!! 123 ...", None),  # no word at all
    ],
)
def test_no_content_is_no_evidence_for_routing(svc: Services, text: str, content: str | None) -> None:
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="phone",
            sender=Identity("phone", "+381641234567"),
            subject="Govorna poruka" if content is not None else "",
            text=text,
            content=content,
        ),
    )
    with svc.db.session() as s:
        ticket = s.get_one(Ticket, result.ticket_id)
        assert (ticket.queue, ticket.category, ticket.triage_confidence) == (TRIAGE_QUEUE, "other", 0.0)


def _member(svc: Services, email: str, queue: str, **fields: object) -> int:
    agent_id = add_agent(svc, email, **fields)
    with svc.db.transaction() as s:
        q = s.scalars(select(Queue).where(Queue.name == queue)).one()
        q.members.append(s.get_one(Agent, agent_id))
    return agent_id


def test_round_robin_among_online_agents_within_capacity(svc: Services) -> None:
    a = _member(svc, "ana@helpdesk.localhost", "accounts", online=True, capacity=2)
    b = _member(svc, "boban@helpdesk.localhost", "accounts", online=True, capacity=1)
    _member(svc, "offline@helpdesk.localhost", "accounts", online=False, capacity=9)
    text = "Zaboravio sam lozinku za eUpravu i ne mogu da se prijavim."
    got = [_inbound(svc, text, f"p{i}@example.com").assignee_id for i in range(4)]
    # a, b, then b is full (capacity 1), a takes one more, then everyone is full
    assert got == [a, b, a, None]
    unassigned = _inbound(svc, "qwx zzkj plimf vrrr", "q@example.com")
    assert unassigned.queue == TRIAGE_QUEUE and unassigned.assignee_id is None


def test_an_agents_correction_is_learned_in_the_next_training(svc: Services) -> None:
    text = "Kako da izvadim dozvolu za pecanje na Dunavu kod Novog Sada?"
    ticket = _inbound(svc, text)
    assert ticket.category != "taxes"
    agent = add_agent(svc, "ivana@helpdesk.localhost", online=True)
    set_category(svc, ticket.reference, Actor.agent(agent), "other")
    set_category(svc, ticket.reference, Actor.agent(agent), "taxes")  # the last word counts
    labels = agent_labels(svc.db)
    assert labels == [Example(f"\n{text}".strip(), "taxes", "agent")]

    store = ModelStore(svc.settings.data_dir, svc.settings.secret_key)
    before = store.active_version()
    result = train_version(store, read_seed(), labels)
    assert result.activated and result.version != before
    assert store.meta(result.version)["agent_labels"] == 1
    service = ModelTriage(svc.settings, svc.db)
    assert service.version == result.version
    assert service.triage("", text).category == "taxes"


def test_a_new_version_is_picked_up_without_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, triage="model")
    clock = FakeMonotonic()
    service = ModelTriage(settings, None, monotonic=clock)
    # no model yet: a safe decision, with the cues still read
    first = service.triage("Hitno", "Изгубио сам пасош, рок ми је сутра")
    assert service.version is None
    assert (first.category, first.queue, first.confidence) == ("other", TRIAGE_QUEUE, 0.0)
    assert (first.language, first.script, first.priority) == ("sr", "cyrl", "urgent")

    store = ModelStore(settings.data_dir, settings.secret_key)
    result = train_version(store, read_seed())
    assert service.triage("", "Izgubio sam pasoš").queue == TRIAGE_QUEUE  # not looked yet
    clock.t += CHECK_INTERVAL
    decision = service.triage("", "Izgubio sam pasoš, kako da dobijem novi?")
    assert service.version == result.version
    assert decision.category == "personal_documents"


def test_a_model_from_elsewhere_is_not_loaded(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path, triage="model")
    other = ModelStore(settings.data_dir, "someone-elses-key")
    version = train_version(other, read_seed()).version
    assert other.active_version() == version
    service = ModelTriage(settings, None)  # logs an error, keeps the safe default
    assert service.version is None
    assert service.triage("", "Izgubio sam pasoš").queue == TRIAGE_QUEUE


def test_a_stored_route_overrides_the_default_map(svc: Services) -> None:
    text = "Rešenje za porez na imovinu ima pogrešan iznos."
    assert _inbound(svc, text, "a@example.com").queue == "payments"
    with svc.db.transaction() as s:
        set_route(s, "taxes", "documents")
        with pytest.raises(ValueError, match="no queue named"):
            set_route(s, "taxes", "nowhere")
    # a fresh service (as after the cache's half minute) reads the stored rule
    svc.triage = ModelTriage(svc.settings, svc.db)
    assert _inbound(svc, text, "b@example.com").queue == "documents"
    with svc.db.transaction() as s:
        set_route(s, "taxes", None)
    svc.triage = ModelTriage(svc.settings, svc.db)
    assert _inbound(svc, text, "c@example.com").queue == "payments"
