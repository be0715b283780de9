"""The supervisor dashboard over real HTTP: the app served on a free loopback port in a thread
(the embedded server's handler), a `requests` session logged in as the demo supervisor."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from helpdesk import create_app
from helpdesk.demo import DEMO_LOGINS
from helpdesk.settings import Settings

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def logged_in_page(data_dir: Path, url: str, path: str = "/supervisor") -> Iterator[Callable[..., object]]:
    from helpdesk.serving import make_server

    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        channels=(),
        triage="local",
        embedded_services=False,
        log_level="WARNING",
    ).resolved()
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    try:
        boss = next(d for d in DEMO_LOGINS if d.role == "supervisor")
        form = session.get(f"{base}/login", timeout=30).text
        match = _CSRF.search(form)
        assert match, "no CSRF token on the login page"
        response = session.post(
            f"{base}/login",
            timeout=30,
            allow_redirects=False,
            data={"email": boss.email, "password": boss.password, "csrf_token": match[1]},
        )
        assert response.status_code in (302, 303), response.status_code

        def get(page_path: str = path) -> object:
            page = session.get(f"{base}{page_path}", timeout=120, allow_redirects=False)
            assert page.status_code == 200, page.status_code
            return page

        yield get
    finally:
        session.close()
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["helpdesk"].db.dispose()
