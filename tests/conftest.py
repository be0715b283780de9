"""Shared fixtures: settings on a tmp data dir, the store on SQLite and PostgreSQL, a live server,
Redis and a headless Chromium.

PostgreSQL, Redis and Chromium tests skip with a reason on a laptop without them; CI sets
HELPDESK_TEST_DATABASE_URL, HELPDESK_TEST_REDIS_URL and HELPDESK_TEST_REQUIRE_BROWSER=1, and then an
unreachable server or a missing browser fails the run instead.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from helpdesk import create_app
from helpdesk.auth.accounts import hash_password
from helpdesk.db import Database
from helpdesk.events import RecordingPublisher
from helpdesk.migrate import upgrade
from helpdesk.models import Agent, Queue
from helpdesk.services import FixedClock, Services, SystemClock
from helpdesk.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")
REQUIRE_BROWSER = (
    os.environ.get("HELPDESK_TEST_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in Belgrade


# --- the store -------------------------------------------------------------------------------


# The session database's URL -> (an AUTOCOMMIT engine on the server, its template's name).
_PG_TEMPLATES: dict[str, tuple[Any, str]] = {}


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (so parallel runs never collide)."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set HELPDESK_TEST_DATABASE_URL)")
    url = make_url(PG_URL)
    name = f"hd_test_{uuid.uuid4().hex[:10]}"
    template = f"{name}_migrated"  # made on first use by _reset_postgres
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # fails the run (not skips) when the server is unreachable
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        session_url = url.set(database=name).render_as_string(hide_password=False)
        _PG_TEMPLATES[session_url] = (admin, template)
        yield session_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> str:
    return pg_server_url


def _reset_postgres(url: str) -> None:
    """Make the session database new and migrated to the head (``migrate`` then finds nothing to
    do). A copy of a template migrated once per session: CREATE DATABASE … TEMPLATE takes a
    fraction of a second where the migrations take seconds."""
    if url not in _PG_TEMPLATES:  # not the session database: empty its schema, as it was
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        return
    admin, template = _PG_TEMPLATES[url]
    name = make_url(url).database
    with admin.connect() as conn:
        made = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template})
        if made.first() is None:
            conn.execute(text(f'CREATE DATABASE "{template}"'))
            db = Database(make_url(url).set(database=template).render_as_string(hide_password=False))
            upgrade(db)
            db.dispose()
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on PostgreSQL (a fresh database each time)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'helpdesk.db'}"
    url: str = request.getfixturevalue("pg_server_url")
    _reset_postgres(url)
    return url


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "database_url": database_url or f"sqlite:///{tmp_path / 'helpdesk.db'}",
        "secret_key": "test-secret-key-" + "x" * 32,
        "testing": True,
        "channels": (),
        "triage": "local",
        "embedded_services": False,
        "socketio_channel": f"helpdesk-test-{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return Settings(**values).resolved()


_SQLITE_TEMPLATE: list[Path] = []  # one SQLite file migrated to the head, made on first use
_HEADS: set[str] = set()  # the migrations' heads, read on first use


def _sqlite_template() -> Path:
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="helpdesk-test-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        db = Database(f"sqlite:///{folder / 'migrated.db'}")
        upgrade(db)
        with db.engine.connect() as conn:  # everything in the main file, no -wal beside it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        _SQLITE_TEMPLATE.append(folder / "migrated.db")
    return _SQLITE_TEMPLATE[0]


def _at_head(db: Database) -> bool:
    from alembic.runtime.migration import MigrationContext

    from helpdesk.migrate import alembic_config

    if not _HEADS:
        from alembic.script import ScriptDirectory

        _HEADS.update(ScriptDirectory.from_config(alembic_config(db.url)).get_heads())
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return set(MigrationContext.configure(conn).get_current_heads()) == _HEADS


def migrate(db: Database) -> None:
    """What ``upgrade(db)`` does, without running the migrations once per test: a new SQLite
    file becomes a copy of one migrated once per session, and a database already at the head
    (``_reset_postgres`` made it so) is left as it is, as Alembic would leave it."""
    url = make_url(db.url)
    path = Path(url.database or "") if url.get_backend_name() == "sqlite" else None
    if path is not None and url.database not in (None, "", ":memory:"):
        companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
        fresh = path.exists() and path.stat().st_size == 0 and not any(c.exists() for c in companions)
        if fresh:  # Database made it empty (0600) and nothing has opened it yet
            db.engine.dispose()
            with _sqlite_template().open("rb") as source, path.open("r+b") as target:
                shutil.copyfileobj(source, target)
            return
    elif path is None and _at_head(db):
        return
    upgrade(db)


def make_services(settings: Settings, clock: Any = None) -> Services:
    db = Database(settings.database_url)
    migrate(db)
    svc = Services(settings=settings, db=db, publisher=RecordingPublisher())
    svc.clock = clock or FixedClock(T0)
    with db.transaction() as s:
        for name in ("triage", "accounts", "payments", "documents", "technical", "complaints"):
            s.add(Queue(name=name, title=name.title()))
    return svc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = make_services(settings)
    yield svc
    svc.db.dispose()


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Services]:
    """Services on SQLite and on PostgreSQL (parametrized)."""
    svc = make_services(make_settings(tmp_path, store_url))
    yield svc
    svc.db.dispose()


@functools.cache
def password_hash() -> str:
    """PASSWORD's scrypt hash, made once per session (0.15-0.6 s each); every login still checks it."""
    return hash_password(PASSWORD)


def add_agent(svc: Services, email: str, role: str = "agent", **fields: Any) -> int:
    with svc.db.transaction() as s:
        agent = Agent(
            email=email,
            name=fields.pop("name", email.split("@")[0].title()),
            role=role,
            password_hash=password_hash(),
            **fields,
        )
        s.add(agent)
        s.flush()
        return agent.id


def join_every_queue(svc: Services, email: str) -> None:
    """Make the agent a member of every queue (pages filtered by the access policy show it all)."""
    from sqlalchemy import select

    with svc.db.transaction() as s:
        agent = s.scalars(select(Agent).where(Agent.email == email)).one()
        agent.queues = list(s.scalars(select(Queue)))


# --- the web app -----------------------------------------------------------------------------


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services.settings, services=services)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def login(client: Any, svc: Services, role: str = "agent", email: str | None = None) -> int:
    """Create an agent with ``role`` and log the test client in as them; returns the agent id."""
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@helpdesk.localhost"
    agent_id = add_agent(svc, email, role)
    page = client.get("/login")
    token = _csrf(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return agent_id


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


csrf_token_from = _csrf


# --- a live server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app with Socket.IO served on a free port, in a thread of this process."""

    def __init__(self, settings: Settings, services: Services | None = None) -> None:
        self.port = settings.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, services=services)
        self.services: Services = self.app.extensions["helpdesk"]
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        from helpdesk.serving import make_server  # the embedded server's handler, as `make run`

        self._server = make_server("127.0.0.1", self.port, self.app)
        # shutdown() waits for the serving loop's next poll: 50 ms, not the default 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def stop(self) -> None:
        for service in self.services.background:
            service.stop()
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_live_server(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> LiveServer:
    port = free_port()
    values: dict[str, Any] = {
        "port": port,
        "host": "127.0.0.1",
        "public_url": f"http://127.0.0.1:{port}",
        "channels": ("channels.chat", "channels.email", "channels.phone"),
        "smtp_port": free_port(),
        "outbox_poll_seconds": 0.2,
    }
    values.update(overrides)
    settings = make_settings(tmp_path, database_url, **values)
    svc = make_services(settings, clock=SystemClock())
    server = LiveServer(settings, services=svc)
    for service in svc.background:
        service.start()
    return server.start()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The whole system (all channels and their background services) on SQLite, on a free port."""
    server = start_live_server(tmp_path)
    yield server
    server.stop()
    server.services.db.dispose()


# --- Redis and the browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("Redis not configured (set HELPDESK_TEST_REDIS_URL)")
    import redis

    redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()  # unreachable: fail, don't skip
    return REDIS_URL


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"{CHROMIUM} is missing but browser tests are required here")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def axe(page: Any, context: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; returns the violations."""
    # Loaded from our own origin: the pages' CSP (script-src 'self') refuses an inline script.
    origin = "/".join(page.url.split("/")[:3])
    page.add_script_tag(url=f"{origin}/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async (context) => {
            const r = await axe.run(context || document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        context,
    )
    return list(result)


def browser_login(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():  # the click alone does not wait for the form's new page
        page.get_by_role("button", name="Log in").click()
