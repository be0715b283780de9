"""A console that only listens is hung up when its login ends (logout elsewhere, `helpdesk user
deactivate`), without waiting for it to send an event; the deactivated agent's cookie and API
token are refused from the next request on."""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests
from hd_servers import Console, login_cookie
from sqlalchemy import select

from helpdesk.auth.accounts import create_token
from helpdesk.cli import cli
from helpdesk.models import Agent
from tests.conftest import PASSWORD, add_agent, start_live_server


def hung_up(console: Console) -> None:
    console.wait_for(lambda name, data: name == "session_ended")
    deadline = time.monotonic() + 10
    while console.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not console.sio.connected


def test_listening_consoles_end_with_their_login(tmp_path: Path) -> None:
    server = start_live_server(tmp_path, session_check_seconds=0.2)
    try:
        svc = server.services
        add_agent(svc, "nina@helpdesk.localhost")
        pavle_id = add_agent(svc, "pavle@helpdesk.localhost")
        with svc.db.transaction() as s:
            bearer = create_token(s, s.get(Agent, pavle_id), svc.clock.now())
        http = requests.Session()  # Nina's browser: it keeps the cookie the server updates
        csrf = r'name="csrf_token" value="([^"]+)"'
        token = re.search(csrf, http.get(f"{server.url}/login", timeout=10).text).group(1)  # type: ignore[union-attr]
        http.post(f"{server.url}/login", timeout=10, data={
            "csrf_token": token, "email": "nina@helpdesk.localhost", "password": PASSWORD})
        nina = Console(server.url, "; ".join(f"{c.name}={c.value}" for c in http.cookies))
        pavle_cookie = login_cookie(server.url, "pavle@helpdesk.localhost")
        pavle = Console(server.url, pavle_cookie)

        # Nina logs out in another tab: her open console hears of it and is disconnected.
        token = re.search(csrf, http.get(f"{server.url}/console", timeout=10).text).group(1)  # type: ignore[union-attr]
        assert http.post(f"{server.url}/logout", data={"csrf_token": token}, timeout=10).ok
        hung_up(nina)
        assert pavle.sio.connected  # only hers

        # An administrator deactivates Pavle with the CLI (in production: another process).
        done = server.app.test_cli_runner().invoke(
            cli, ["user", "deactivate", "pavle@helpdesk.localhost"]
        )
        assert done.exit_code == 0 and "deactivated pavle@helpdesk.localhost" in done.output
        hung_up(pavle)
        again = requests.get(f"{server.url}/console", headers={"Cookie": pavle_cookie},
                             allow_redirects=False, timeout=10)
        assert again.status_code == 302 and "/login" in again.headers["Location"]
        api = requests.get(f"{server.url}/api/v1/tickets",
                           headers={"Authorization": f"Bearer {bearer}"}, timeout=10)
        assert api.status_code == 401
        with svc.db.session() as s:
            assert s.scalar(select(Agent.online).where(Agent.id == pavle_id)) is False
    finally:
        server.stop()
        server.services.db.dispose()
