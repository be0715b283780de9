"""The production shape, for real: Debian's nginx (sticky by client address, WebSocket upgrade) in
front of two `helpdesk serve --production` processes, `helpdesk smtp` and `helpdesk worker` as their
own processes, all on one PostgreSQL and one Redis.

Chat, console, email and the API all go through their real protocols. Then the app process that
serves the citizen and the agent is killed mid-conversation: both reconnect through nginx to the
other process and carry on, and nothing is lost or shown twice (counted in the database and in the
events each client received)."""

from __future__ import annotations

import os
import re
import smtplib
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_prod import NGINX, Nginx, smtp, web, worker  # noqa: E402
from hd_servers import Citizen, Console, base_env, free_port, login_cookie, prepare_store  # noqa: E402

REQUIRE_NGINX = os.environ.get("HELPDESK_TEST_REQUIRE_NGINX") == "1"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not NGINX.exists() and not REQUIRE_NGINX, reason="nginx not installed (apt-get install nginx)"
    ),
]
AGENT = "ana@helpdesk.test"


def _fresh_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _api_token(env: dict[str, str]) -> str:
    from helpdesk.auth.accounts import create_token
    from helpdesk.db import Database
    from helpdesk.models import Agent
    from helpdesk.settings import Settings

    db = Database(Settings.from_env(env).database_url)
    with db.transaction() as s:
        agent = s.scalars(select(Agent).where(Agent.email == AGENT)).one()
        from datetime import UTC, datetime

        token = create_token(s, agent, datetime.now(UTC))
    db.engine.dispose()
    return token


def _upstream_of_last_request(nginx: Nginx) -> int:
    """The app port nginx chose last (its access log names the upstream address)."""
    lines = (nginx.dir / "access.log").read_text().splitlines()
    return int(lines[-1].rsplit(":", 1)[1])


def _texts(console: Console, reference: str) -> list[str]:
    """The chat messages of one ticket that reached this console, in order of arrival, one entry
    per stored message (a viewer gets each event twice, from the ticket's and the queue's room, and
    the console redraws the timeline from the server; two rows for one message would show twice)."""
    seen: dict[int, str] = {}
    with console.cond:
        for n, d in console.events:
            if n == "message.created" and d["ticket"]["reference"] == reference:
                seen.setdefault(d["message"]["id"], d["message"]["text"])
    return list(seen.values())


def _wait(predicate: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_nginx_two_nodes_smtp_worker_survive_a_node_dying(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    assert NGINX.exists(), "nginx is required here (HELPDESK_TEST_REQUIRE_NGINX=1)"
    _fresh_schema(pg_url)
    data = tmp_path / "data"
    env = base_env(
        data,
        HELPDESK_DATABASE_URL=pg_url,
        HELPDESK_REDIS_URL=redis_url,
        HELPDESK_SOCKETIO_CHANNEL=f"helpdesk-test-{uuid.uuid4().hex[:8]}",
        HELPDESK_SECRET_KEY="multi-node-test-" + "k" * 32,
        HELPDESK_CHANNELS="channels.chat,channels.email",
        HELPDESK_EMBEDDED_SERVICES="0",
        HELPDESK_PROXY_HOPS="1",
    )
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    token = _api_token(env)

    procs: list[Any] = []
    nginx: Nginx | None = None
    clients: list[Any] = []
    try:
        # The nginx port is known first: it is the public URL every process announces.
        web_ports = [free_port(), free_port()]
        nginx = Nginx(tmp_path / "nginx", web_ports)
        env["HELPDESK_PUBLIC_URL"] = nginx.url
        procs.append(worker(env, tmp_path / "worker.log"))
        mail = smtp(env, tmp_path / "smtp.log", ready=False)
        nodes = {p: web(env, tmp_path / f"web-{p}.log", port=p, ready=False) for p in web_ports}
        procs.extend([mail, *nodes.values()])
        for proc in (mail, *nodes.values()):  # started together, awaited together
            proc.ready()
        nginx.start()
        base = nginx.url

        # Console: the agent logs in and connects through nginx.
        cookie = login_cookie(base, AGENT)
        agent = Console(base, cookie)
        clients.append(agent)
        serving = _upstream_of_last_request(nginx)  # ip_hash: every local client goes there

        # Chat through nginx: the citizen asks, the agent answers (delivered by the worker).
        citizen = Citizen(base)
        clients.append(citizen)
        citizen.connect()
        first = citizen.send("Ne radi mi prijava na portal")
        assert first and first["ok"], first
        reference = first["reference"]
        agent.wait_for(lambda n, d: n == "message.created" and d["ticket"]["reference"] == reference)
        assert agent.call("reply", {"reference": reference, "text": "Pokušajte ponovo sada"})["ok"]
        citizen.wait_text("Pokušajte ponovo sada")

        # Email to the SMTP process: a ticket the agent sees live (through Redis).
        msg = EmailMessage()
        msg["From"] = "Građanin <gradjanin@example.rs>"
        msg["To"] = "podrska@helpdesk.localhost"
        msg["Subject"] = "Pitanje o eID kartici"
        msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.rs>"
        msg.set_content("Kako da aktiviram elektronsku ličnu kartu?")
        with smtplib.SMTP("127.0.0.1", mail.port, timeout=30) as client:
            refused = client.send_message(msg)
        assert refused == {}
        _, created = agent.wait_for(
            lambda n, d: n == "ticket.created" and d["ticket"]["channel"] == "email"
        )
        email_ref = created["ticket"]["reference"]

        # The API through nginx: find the email ticket and answer it; the worker sends the mail.
        auth = {"Authorization": f"Bearer {token}"}
        found = requests.get(f"{base}/api/v1/tickets", params={"channel": "email"}, headers=auth, timeout=10)
        assert found.status_code == 200
        assert [t["reference"] for t in found.json()["tickets"]] == [email_ref]
        answer = requests.post(
            f"{base}/api/v1/tickets/{email_ref}/messages",
            json={"body": "Aktivacija ide preko portala eUprava."},
            headers=auth,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text

        # Mid-conversation, the node serving both dies (SIGKILL: no goodbye at all).
        nodes[serving].kill()
        _wait(lambda: citizen.sio is None or not citizen.sio.connected, "the citizen to notice")
        citizen.sio = None
        citizen.send("Sada mi traži kod")  # typed while the connection is gone: kept pending
        before = _texts(agent, reference)
        agent.close()
        clients.remove(agent)
        agent = Console(base, cookie)  # the session lives in the database: no new login
        clients.append(agent)
        citizen.connect()  # through nginx, which now sends it to the other node; resends
        assert not citizen.pending
        agent.wait_for(lambda n, d: n == "message.created" and d["message"]["text"] == "Sada mi traži kod")
        assert agent.call("view", {"reference": reference})["ok"]
        assert agent.call("reply", {"reference": reference, "text": "Kod stiže SMS-om"})["ok"]
        citizen.wait_text("Kod stiže SMS-om")

        # Nothing lost, nothing shown twice: the citizen's screen, the database, the outbox.
        assert [m["text"] for m in citizen.shown] == [
            "Ne radi mi prijava na portal",
            "Pokušajte ponovo sada",
            "Sada mi traži kod",
            "Kod stiže SMS-om",
        ]
        assert citizen.doubles == 0
        # Each message reached the agent's console once: before the crash on the first node's
        # connection, after it on the second's.
        assert before == ["Ne radi mi prijava na portal", "Pokušajte ponovo sada"]
        assert _texts(agent, reference) == ["Sada mi traži kod", "Kod stiže SMS-om"]
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            texts = conn.execute(
                text(
                    "SELECT m.text FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                    "WHERE t.reference = :r ORDER BY m.id"
                ),
                {"r": reference},
            ).scalars().all()
            assert [re.sub(r"\s+", " ", t).strip() for t in texts] == [
                "Ne radi mi prijava na portal",
                "Pokušajte ponovo sada",
                "Sada mi traži kod",
                "Kod stiže SMS-om",
            ]

            def outbox_settled() -> list[Any]:
                rows = conn.execute(
                    text("SELECT kind, status FROM outbox WHERE channel = 'email' ORDER BY id")
                ).all()
                conn.commit()
                return rows if rows and all(r.status == "sent" for r in rows) else []

            mails = _wait(outbox_settled, "the worker to send the email answer")
        engine.dispose()
        assert [tuple(r) for r in mails].count(("reply", "sent")) == 1
        for proc in procs:
            if hasattr(proc, "tracebacks"):
                assert proc.tracebacks() == [], proc.log.read_text()[-3000:]
    finally:
        for client in clients:
            client.close() if isinstance(client, Console) else client.drop()
        if nginx is not None:
            nginx.stop()
        for proc in procs:
            if hasattr(proc, "stop"):
                proc.stop()
            else:
                proc.terminate()
                proc.wait(30)
