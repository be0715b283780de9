"""Two server processes on one PostgreSQL and one Redis: a chat through one reaches a console on
the other, and the agent's answer comes back (Flask-SocketIO's Redis message queue)."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_servers import Citizen, Console, Server, base_env, login_cookie, prepare_store  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
AGENT = "ana@helpdesk.test"


def fresh_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def test_citizen_on_process_a_reaches_agent_on_process_b(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    fresh_schema(pg_url)
    env = base_env(
        tmp_path / "data",
        HELPDESK_DATABASE_URL=pg_url,
        HELPDESK_REDIS_URL=redis_url,
        HELPDESK_SOCKETIO_CHANNEL=f"helpdesk-test-{uuid.uuid4().hex[:8]}",
        HELPDESK_SECRET_KEY="scale-out-test-" + "k" * 32,
    )
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    agent = citizen = None
    try:
        agent = Console(b.url, login_cookie(b.url, AGENT))  # the agent works on process B
        citizen = Citizen(a.url)  # the citizen's browser is on process A
        assert citizen.connect()["agents_online"] is True  # presence lives in the database

        sent = citizen.send("Poruka preko procesa A")
        assert sent["ok"]
        reference = sent["reference"]
        _, created = agent.wait_for(
            lambda n, d: n == "ticket.created" and d["ticket"]["reference"] == reference
        )
        assert created["ticket"]["channel"] == "chat"
        _, msg = agent.wait_for(
            lambda n, d: n == "message.created" and d["message"]["text"] == "Poruka preko procesa A"
        )
        assert msg["ticket"]["reference"] == reference

        assert agent.call("view", {"reference": reference})["ok"]
        citizen.call("typing", {"typing": True})
        agent.wait_for(lambda n, d: n == "citizen.typing" and d["reference"] == reference)

        assert agent.call("reply", {"reference": reference, "text": "Odgovor sa procesa B"})["ok"]
        shown = citizen.wait_text("Odgovor sa procesa B")
        assert shown["author"] == "Ana Petrović"
        assert citizen.doubles == 0

        # Several citizens at once: the chat writer stores them in one batch and sends the
        # batch's events to Redis together; process B's agent gets each, opening before message.
        others = [Citizen(a.url) for _ in range(6)]
        for other in others:
            other.connect()
        threads = [threading.Thread(target=o.send, args=(f"Zajedno {i}",)) for i, o in enumerate(others)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for i in range(6):
            agent.wait_for(
                lambda n, d, i=i: n == "message.created" and d["message"]["text"] == f"Zajedno {i}"
            )
        names = [
            (n, d["ticket"]["reference"])
            for n, d in agent.events
            if n in ("ticket.created", "message.created")
        ]
        for i in range(6):
            ref = next(r for n, r in names if n == "message.created" and r == others[i].reference)
            assert names.index(("ticket.created", ref)) < names.index(("message.created", ref))
        for other in others:
            other.drop()
    finally:
        for client in (agent, citizen):
            if client is not None:
                client.close() if isinstance(client, Console) else client.drop()
        a.stop()
        b.stop()
