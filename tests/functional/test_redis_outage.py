"""Redis hangs or goes away between two server processes: the citizen on process A is answered at
once, the events for process B wait in A's outbox and arrive when Redis is back, and what could
not be kept ends in a ``resync`` that B's console gets, and the chat page on B whose conversation
lost a reply (helpdesk/queue_outbox.py).

Process A runs in this test's process (its outbox is reachable); B is a real `helpdesk serve`
without the outbox dispatcher, so every reply is emitted on A. Each talks to the shared Redis
through a proxy of its own (tests/functional/redis_proxy.py) that the test pauses (a hung Redis)
or cuts (Redis down), so the shared server is never touched.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from channels.chat import store as chat_store
from helpdesk.models import Agent, OutboxItem
from helpdesk.queue_outbox import BUFFER_LIMIT, MAX_AGE, QueueOutbox
from helpdesk.tickets import Actor, reply_to_ticket, set_status
from tests.conftest import LiveServer, axe, browser_login, start_live_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_servers import Citizen, Console, Server, base_env, login_cookie, prepare_store  # noqa: E402
from redis_proxy import RedisProxy  # noqa: E402

pytestmark = pytest.mark.redis
AGENT = "ana@helpdesk.test"


@dataclass
class Nodes:
    a: LiveServer  # the citizens' process, in this test process
    b: Server  # the agent's process
    proxy_a: RedisProxy
    proxy_b: RedisProxy
    cookie: str

    @property
    def outbox(self) -> QueueOutbox:
        outbox = self.a.services.publisher.outbox  # type: ignore[attr-defined]
        assert outbox is not None
        return outbox


@pytest.fixture(scope="module")
def nodes(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    tmp = tmp_path_factory.mktemp("redis-outage")
    proxy_a, proxy_b = RedisProxy.to(redis_url), RedisProxy.to(redis_url)
    channel = f"helpdesk-test-{uuid.uuid4().hex[:8]}"
    database = f"sqlite:///{tmp / 'helpdesk.db'}"  # one store for both processes
    a = start_live_server(
        tmp / "a", database, channels=("channels.chat",), redis_url=proxy_a.url, socketio_channel=channel
    )
    env = base_env(
        tmp / "b",
        HELPDESK_DATABASE_URL=database,
        HELPDESK_REDIS_URL=proxy_b.url,
        HELPDESK_SOCKETIO_CHANNEL=channel,
        HELPDESK_SECRET_KEY="redis-outage-test-" + "k" * 32,
        HELPDESK_EMBEDDED_SERVICES="0",  # replies go out from A's dispatcher, through A's outbox
    )
    prepare_store(env, [{"email": AGENT, "name": "Ana", "queues": ("triage",)}])
    b = Server(env, tmp / "b.log").start()
    found = Nodes(a, b, proxy_a, proxy_b, login_cookie(b.url, AGENT))
    # A try to Redis may wait this long: a writer that waited on Redis would be held past every
    # wait of these tests, and a hung Redis never times out while a test holds it.
    found.outbox.timeout = 600
    try:
        yield found
    finally:
        b.stop()
        a.stop()
        a.services.db.dispose()
        proxy_a.close()
        proxy_b.close()
    assert b.problems() == []


@pytest.fixture
def agent(nodes: Nodes) -> Iterator[Console]:
    console = Console(nodes.b.url, nodes.cookie)
    yield console
    console.close()


@pytest.fixture
def citizen(nodes: Nodes, agent: Console) -> Iterator[Citizen]:
    """A citizen on A whose first message has reached the agent on B (B listens to Redis)."""
    person = Citizen(nodes.a.url)
    person.connect()
    assert person.send("Dobar dan")["ok"]  # type: ignore[index]
    wait_message(agent, "Dobar dan")
    yield person
    person.drop()


def wait_message(agent: Console, text: str) -> None:
    agent.wait_for(lambda n, d: n == "message.created" and d["message"]["text"] == text, timeout=60)


def got_message(agent: Console, text: str) -> bool:
    with agent.cond:
        return any(n == "message.created" and d["message"]["text"] == text for n, d in agent.events)


def test_a_hung_redis_holds_no_citizen_and_the_events_arrive_after_it(
    nodes: Nodes, agent: Console, citizen: Citizen
) -> None:
    nodes.proxy_a.pause()
    try:
        sent = citizen.send("Poruka dok Redis stoji")
        # Answered and stored while the publish of its events still waits on Redis (a try may
        # wait 600 s here): the chat writer did not wait for it.
        assert sent is not None and sent["ok"]
        assert nodes.outbox.waiting() > 0
        assert not got_message(agent, "Poruka dok Redis stoji")
    finally:
        nodes.proxy_a.resume()
    wait_message(agent, "Poruka dok Redis stoji")
    assert not any(n == "resync" for n, _ in agent.events)  # nothing was lost


def test_events_queued_while_redis_is_down_arrive_after_it_and_the_outage_is_logged(
    nodes: Nodes, agent: Console, citizen: Citizen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="helpdesk.queue_outbox")
    texts = [f"Poruka {i} dok Redis ne radi" for i in range(3)]
    nodes.proxy_a.cut()
    try:
        for text in texts:
            sent = citizen.send(text)
            assert sent is not None and sent["ok"]
    finally:
        nodes.proxy_a.restore()
    for text in texts:
        wait_message(agent, text)
    assert nodes.outbox.flush(60)
    assert not any(n == "resync" for n, _ in agent.events)
    assert "message queue unreachable" in caplog.text
    assert "message queue reachable again" in caplog.text
    assert "Redis ne radi" not in caplog.text  # counts only, never what citizens wrote


@pytest.mark.parametrize("knob", ["limit", "max_age"])
def test_when_events_were_dropped_the_other_process_console_is_told_to_resync(
    nodes: Nodes, agent: Console, citizen: Citizen, knob: str
) -> None:
    outbox = nodes.outbox
    nodes.proxy_a.cut()
    try:
        if knob == "limit":
            outbox.limit = 2  # one chat message alone queues more than that
        else:
            outbox.max_age = 0.0  # every event is too old by its first send
        for i in range(3):
            sent = citizen.send(f"Izgubljena {knob} {i}")
            assert sent is not None and sent["ok"]
    finally:
        nodes.proxy_a.restore()
    agent.wait_for(lambda n, d: n == "resync" and d["reason"] == "events_lost", timeout=60)
    outbox.limit, outbox.max_age = BUFFER_LIMIT, MAX_AGE
    assert citizen.send(f"Posle {knob}")["ok"]  # type: ignore[index]
    wait_message(agent, f"Posle {knob}")  # and the news flows again


def test_a_process_whose_subscription_broke_tells_its_consoles_to_resync(
    nodes: Nodes, agent: Console, citizen: Citizen
) -> None:
    on_b = Citizen(nodes.b.url)  # a chat page on B: it may have missed a reply too
    on_b.connect()
    nodes.proxy_b.cut()  # B's listener loses Redis; what A publishes meanwhile never reaches B
    nodes.proxy_b.restore()
    agent.wait_for(lambda n, d: n == "resync" and d["reason"] == "subscription_lost", timeout=90)
    on_b.wait_resync("subscription_lost")
    on_b.drop()
    assert citizen.send("Posle prekida")["ok"]  # type: ignore[index]
    wait_message(agent, "Posle prekida")


def test_the_agents_open_pages_fetch_what_they_missed_after_a_resync(
    nodes: Nodes, agent: Console, citizen: Citizen, page: Any
) -> None:
    """console.js: the list fetches its board (counts included), the ticket view its timeline
    and its fields, when events for them were lost on the way between the processes."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, nodes.b.url, AGENT)
    reference = citizen.reference
    assert reference is not None
    page.goto(f"{nodes.b.url}/console/tickets/{reference}?lang=en")
    page.locator("#console-connection", has_text="Live").wait_for()
    board = page.context.new_page()
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    board.goto(f"{nodes.b.url}/console?lang=en")
    board.locator("#console-connection", has_text="Live").wait_for()
    assert page.locator("#ticket-status").get_attribute("data-status") != "pending"

    nodes.proxy_a.cut()
    try:
        nodes.outbox.limit = 0  # nothing is kept: every event of A is lost for B
        set_status(nodes.a.services, reference, Actor.system("test"), "pending")
        other = Citizen(nodes.a.url)
        other.connect()
        sent = other.send("Nova prijava dok Redis ne radi")
        assert sent is not None and sent["ok"]
        other.drop()
    finally:
        nodes.outbox.limit = BUFFER_LIMIT
        nodes.proxy_a.restore()
    agent.wait_for(lambda n, d: n == "resync", timeout=60)
    assert not got_message(agent, "Nova prijava dok Redis ne radi")  # lost indeed
    # The board's own refresh comes every 60 s; these waits end well before it.
    page.locator("#ticket-status[data-status='pending']").wait_for(timeout=30_000)
    assert page.locator("#p-status").input_value() == "pending"
    board.locator(f'#ticket-list tr[data-reference="{sent["reference"]}"]').wait_for(timeout=30_000)
    assert errors == []


def test_a_citizens_page_fetches_a_reply_lost_between_the_processes_once(nodes: Nodes, page: Any) -> None:
    """chat.js: the agent's reply is emitted on A for a chat page on B and lost on the way; the
    resync to that conversation's room brings it now, not at the page's next reconnect. Each
    message shows once, and another citizen on B is told nothing (the resync goes only to the
    rooms whose events were lost; each page fetches only its own conversation)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{nodes.b.url}/chat?lang=en")
    page.fill("#chat-text", "Gde je moje rešenje?")
    page.press("#chat-text", "Enter")
    page.locator("#chat-log li.chat-msg--me", has_text="moje rešenje").wait_for()
    page.wait_for_function("() => !document.querySelector('#chat-log li .chat-msg__state')")
    token = page.evaluate("JSON.parse(localStorage.getItem('helpdesk.chat.token'))")
    ticket = chat_store.current_ticket(nodes.a.services, chat_store.token_hash(token))
    assert ticket is not None
    bystander = Citizen(nodes.b.url)
    bystander.connect()
    assert bystander.send("Druga prijava")["ok"]  # type: ignore[index]
    with nodes.a.services.db.session() as s:
        ana = s.scalars(select(Agent.id).where(Agent.email == AGENT)).one()

    replies = ["Rešenje je u odeljku Moji dokumenti.", "Javite ako ga ne nađete."]
    nodes.proxy_a.cut()
    try:
        nodes.outbox.limit = 0  # nothing is kept: the reply's events never reach B
        for text in replies:
            reply_to_ticket(nodes.a.services, ticket.reference, Actor.agent(ana), text)
            nodes.proxy_a.restore()  # the resync goes out; the reply itself is gone
            # The page's only other way to it is a reconnect, which this test never makes.
            page.locator("#chat-log li.chat-msg--them", has_text=text).wait_for(timeout=30_000)
            nodes.proxy_a.cut()
    finally:
        nodes.outbox.limit = BUFFER_LIMIT
        nodes.proxy_a.restore()
    # Each message once, through two resyncs: the history after the last message shown.
    shown = page.locator("#chat-log li.chat-msg--me, #chat-log li.chat-msg--them").all_inner_texts()
    assert len(shown) == 3
    for text in ["Gde je moje rešenje?", *replies]:
        assert sum(text in item for item in shown) == 1
    bystander.call("heartbeat", {})  # anything sent to it before this answer has arrived
    assert bystander.resyncs == []
    assert [m["text"] for m in bystander.shown] == ["Druga prijava"]
    bystander.drop()
    assert errors == []


def test_a_reply_lost_before_one_that_arrived_is_still_fetched_in_its_place(nodes: Nodes, page: Any) -> None:
    """chat.js: the first reply is lost, the second waits in A's outbox and arrives right after
    the resync (same pipeline), so the page shows it before its catch-up runs. The catch-up asks
    for everything after what the page has *all* of, not after the last message shown: the lost
    reply appears, once, above the later one."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{nodes.b.url}/chat?lang=en")
    page.fill("#chat-text", "Kada stiže moja lična karta?")
    page.press("#chat-text", "Enter")
    page.wait_for_function("() => !document.querySelector('#chat-log li .chat-msg__state')")
    token = page.evaluate("JSON.parse(localStorage.getItem('helpdesk.chat.token'))")
    ticket = chat_store.current_ticket(nodes.a.services, chat_store.token_hash(token))
    assert ticket is not None
    with nodes.a.services.db.session() as s:
        ana = s.scalars(select(Agent.id).where(Agent.email == AGENT)).one()

    def emitted(count: int) -> None:  # A's dispatcher has handed this many replies to its outbox
        dispatched(nodes, ticket.id, count)

    lost, kept = "Karta je spremna u policijskoj upravi.", "Ponesite staru kartu."
    nodes.proxy_a.cut()
    try:
        nodes.outbox.limit = 0
        reply_to_ticket(nodes.a.services, ticket.reference, Actor.agent(ana), lost)
        emitted(1)  # and dropped
        nodes.outbox.limit = BUFFER_LIMIT
        reply_to_ticket(nodes.a.services, ticket.reference, Actor.agent(ana), kept)
        emitted(2)  # and waiting in A's outbox, behind the resync
    finally:
        nodes.outbox.limit = BUFFER_LIMIT
        nodes.proxy_a.restore()
    page.locator("#chat-log li.chat-msg--them", has_text=lost).wait_for(timeout=30_000)
    shown = page.locator("#chat-log li.chat-msg--them").all_inner_texts()
    assert [sum(text in item for item in shown) for text in (lost, kept)] == [1, 1]
    assert lost in shown[0] and kept in shown[1]  # in the order the agent wrote them
    assert errors == []


def dispatched(nodes: Nodes, ticket_id: int, count: int) -> None:
    """Wait until A's dispatcher has sent this many of the ticket's outbox items (the chat sender
    has handed their events to A's outbox: lost there, or waiting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with nodes.a.services.db.session() as s:
            sent = s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.ticket_id == ticket_id, OutboxItem.status == "sent")
            )
        if sent == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} outbox items not dispatched")


def chat_on_b(nodes: Nodes, page: Any, text: str) -> Any:
    """A citizen's chat page on B whose first message is stored; its ticket (read on A)."""
    page.goto(f"{nodes.b.url}/chat?lang=en")
    page.fill("#chat-text", text)
    page.press("#chat-text", "Enter")
    page.wait_for_function("() => !document.querySelector('#chat-log li .chat-msg__state')")
    token = page.evaluate("JSON.parse(localStorage.getItem('helpdesk.chat.token'))")
    ticket = chat_store.current_ticket(nodes.a.services, chat_store.token_hash(token))
    assert ticket is not None
    page.locator("#chat-close:not([hidden])").wait_for()  # an open conversation can be closed
    return ticket


SURVEY_NOTICE = "#chat-log li.chat-msg--notice:has(a[href*='/survey/'])"


def test_a_survey_notice_lost_between_the_processes_is_shown_after_the_catch_up(
    nodes: Nodes, page: Any
) -> None:
    """chat.js: the agent resolves the conversation; its survey notice (no message row, no seq) is
    emitted on A for the page on B and lost. The resync's history answer carries what still
    stands: the page shows the survey, once, and no longer offers to close the conversation."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    ticket = chat_on_b(nodes, page, "Kako da platim taksu?")
    nodes.proxy_a.cut()
    try:
        nodes.outbox.limit = 0  # nothing is kept: the survey notice never reaches B
        set_status(nodes.a.services, ticket.reference, Actor.system("test"), "resolved")
        dispatched(nodes, ticket.id, 1)  # emitted, and dropped
    finally:
        nodes.outbox.limit = BUFFER_LIMIT
        nodes.proxy_a.restore()  # the resync goes out; the notice itself is gone
    # The page's only other way to it is a reconnect, which this test never makes.
    survey = page.locator(SURVEY_NOTICE)
    survey.wait_for(timeout=30_000)
    assert survey.count() == 1
    assert "How did we do?" in survey.inner_text()
    assert page.locator("#chat-close").is_hidden()  # resolved: nothing left to close
    assert axe(page) == []  # with the survey notice shown
    assert errors == []


def test_a_survey_notice_that_arrived_is_shown_once_through_a_later_catch_up(nodes: Nodes, page: Any) -> None:
    """chat.js: the survey notice arrives live; a reply lost afterwards (the ticket stays
    resolved) brings a resync whose history answer carries the same survey again, by the same
    id: the page shows the lost reply and still one survey."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    ticket = chat_on_b(nodes, page, "Da li je moj zahtev odobren?")
    set_status(nodes.a.services, ticket.reference, Actor.system("test"), "resolved")
    page.locator(SURVEY_NOTICE).wait_for(timeout=30_000)  # live, through Redis
    with nodes.a.services.db.session() as s:
        ana = s.scalars(select(Agent.id).where(Agent.email == AGENT)).one()

    lost = "Zahtev je odobren, rešenje stiže poštom."
    nodes.proxy_a.cut()
    try:
        nodes.outbox.limit = 0
        reply_to_ticket(nodes.a.services, ticket.reference, Actor.agent(ana), lost)
        dispatched(nodes, ticket.id, 2)  # the survey, then this reply: dropped
    finally:
        nodes.outbox.limit = BUFFER_LIMIT
        nodes.proxy_a.restore()
    # Shown by the catch-up's history answer, whose notices the page handled in the same turn.
    page.locator("#chat-log li.chat-msg--them", has_text=lost).wait_for(timeout=30_000)
    assert page.locator(SURVEY_NOTICE).count() == 1
    assert page.locator("#chat-close").is_hidden()
    assert errors == []


@dataclass
class Lone:
    server: Server
    proxy: RedisProxy
    channel: str
    log: Path


@pytest.fixture
def lone(redis_url: str, tmp_path: Path) -> Iterator[Lone]:
    """One `helpdesk serve` of its own, to be stopped by SIGTERM while its events wait."""
    proxy = RedisProxy.to(redis_url)
    channel = f"helpdesk-test-{uuid.uuid4().hex[:8]}"
    env = base_env(
        tmp_path / "c",
        HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
        HELPDESK_REDIS_URL=proxy.url,
        HELPDESK_SOCKETIO_CHANNEL=channel,
        HELPDESK_SECRET_KEY="redis-outage-test-" + "k" * 32,
        HELPDESK_EMBEDDED_SERVICES="0",
    )
    prepare_store(env, [])
    server = Server(env, tmp_path / "c.log").start()
    try:
        yield Lone(server, proxy, channel, tmp_path / "c.log")
    finally:
        server.kill()
        proxy.close()


def terminate(server: Server) -> None:
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(60)  # it ends: the exit's wait for the message queue is bounded


def test_a_process_stopped_while_redis_is_down_sends_its_events_when_redis_is_back(
    lone: Lone, redis_url: str
) -> None:
    listener = redis.Redis.from_url(redis_url, socket_timeout=10).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(lone.channel)  # this test's own channel on the shared Redis
    citizen = Citizen(lone.server.url)
    citizen.connect()
    lone.proxy.cut()
    sent = citizen.send("Poslednja poruka pre gasenja")
    assert sent is not None and sent["ok"]
    citizen.drop()
    terminate_started = threading.Thread(target=terminate, args=(lone.server,))
    terminate_started.start()
    lone.proxy.restore()  # Redis is back while the process exits
    terminate_started.join()
    published = []
    for _ in range(10):  # None: the subscription's confirmation, or nothing more
        message = listener.get_message(timeout=1)
        if message is not None:
            published.append(message["data"].decode())
    listener.close()
    assert any("Poslednja poruka pre gasenja" in m for m in published)
    assert "not sent to the message queue" not in lone.log.read_text()


def test_a_process_stopped_while_redis_hangs_ends_and_logs_how_many_events_it_could_not_send(
    lone: Lone,
) -> None:
    citizen = Citizen(lone.server.url)
    citizen.connect()
    lone.proxy.pause()
    sent = citizen.send("Poruka koju Redis nije primio")
    assert sent is not None and sent["ok"]
    citizen.drop()
    terminate(lone.server)
    log = lone.log.read_text()
    assert re.search(r"exiting with [1-9]\d* events \(and no resync\) not sent to the message queue", log)
    assert "Redis nije primio" not in log  # a count, never what the citizen wrote
