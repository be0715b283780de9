"""serve, db upgrade, user create|deactivate, token create, check."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from sqlalchemy import select, text

from helpdesk.administration import (
    AdminError,
    agent_id_for_email,
    create_agent,
    deactivate_agent,
    ensure_triage_queue,
)
from helpdesk.auth.accounts import SCOPES, create_token, parse_scopes
from helpdesk.cli.common import services, start_background, stop_all
from helpdesk.migrate import pending_heads, upgrade
from helpdesk.models import ROLES, Agent
from helpdesk.tickets import Actor


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(db)
    cli.add_command(user)
    cli.add_command(token)
    cli.add_command(check)


@click.command()
@click.option("--host", default=None, help="Address to listen on (HELPDESK_HOST).")
@click.option("--port", default=None, type=int, help="Port (HELPDESK_PORT).")
@click.option(
    "--production",
    is_flag=True,
    help="Serve with gunicorn (one worker, HELPDESK_THREADS threads, graceful SIGTERM).",
)
def serve(host: str | None, port: int | None, production: bool) -> None:
    """Serve the web app and Socket.IO; in embedded mode also the SMTP server and the outbox."""
    from helpdesk.settings import Settings

    settings = Settings.from_env()
    host, port = host or settings.host, port or settings.port
    if production:
        # gunicorn's worker builds the app: not here too (that would double the start-up time).
        # Become gunicorn's master process (exec), so SIGTERM from systemd reaches it directly.
        argv = [sys.executable, "-m", "gunicorn", "--config", "python:helpdesk.gunicorn_config"]
        os.execv(sys.executable, [*argv, "--bind", f"{host}:{port}", "helpdesk.wsgi:app"])  # noqa: S606
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        _serve_embedded(host, port)


def _serve_embedded(host: str, port: int) -> None:
    """The demo server of `make run`: Werkzeug's threaded server, which simple-websocket supports.

    Werkzeug directly rather than socketio.run(), which warns about production use whenever
    standard input is not a terminal; production is `--production` (gunicorn).
    """
    from helpdesk.serving import make_server, settle_heap  # private access log, quiet closes

    svc = services()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    server = make_server(host, port, app)
    started = start_background(svc) if svc.settings.embedded_services else []

    def _stop(*_: Any) -> None:
        # shutdown() waits for serve_forever to return: not from the signal handler's own thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    settle_heap()
    click.echo(f"Helpdesk at http://{host}:{server.port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stop_all(started)


@click.group(cls=AppGroup)
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    svc = services()
    upgrade(svc.db)
    if ensure_triage_queue(svc):  # a fresh install: uncertain inquiries need somewhere to go
        click.echo("created the triage queue")
    click.echo("database is up to date")


@click.group(cls=AppGroup)
def user() -> None:
    """Agent accounts."""


@user.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--editor", is_flag=True, help="May write knowledge-base articles.")
@click.option("--queue", "queues", multiple=True, help="Queue to join (repeatable).")
def user_create(email: str, role: str, name: str | None, editor: bool, queues: tuple[str, ...]) -> None:
    """Create an agent. The password is read from standard input, or generated and printed."""
    password = "" if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        made = create_agent(
            services(),
            Actor.system("cli"),
            email,
            name=name,
            role=role,
            editor=editor,
            queues=queues,
            password=password or None,
        )
    except AdminError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created {role} {email.strip().lower()}")
    if made.password:
        click.echo(f"password: {made.password}")


@user.command("deactivate")
@click.argument("email")
def user_deactivate(email: str) -> None:
    """Stop an agent's access now: sessions and API tokens revoked, history kept."""
    svc = services()
    try:
        changed = deactivate_agent(svc, Actor.system("cli"), agent_id_for_email(svc, email))
    except AdminError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"deactivated {email.strip().lower()}" if changed else "already inactive")


@click.group(cls=AppGroup)
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("email")
@click.option(
    "--scope", "scope", default="read", show_default=True, help="Comma list of read, tickets, metrics."
)
@click.option(
    "--expires-days",
    type=click.IntRange(min=1),
    default=None,
    help="The token stops working after this many days (default: never).",
)
def token_create(email: str, scope: str, expires_days: int | None) -> None:
    """Print a new API bearer token for an agent (shown once, stored only as a hash)."""
    try:
        scopes = parse_scopes(scope)
    except ValueError as exc:
        raise click.UsageError(f"unknown scope {exc}; use a comma list of {', '.join(SCOPES)}") from exc
    svc = services()
    now = svc.clock.now()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    with svc.db.transaction() as s:
        agent = s.scalar(select(Agent).where(Agent.email == email.strip().lower()))
        if agent is None:
            raise click.UsageError(f"no agent with email {email}")
        value = create_token(s, agent, now, scopes=scopes, expires_at=expires_at)
    click.echo(value)
    expiry = expires_at.strftime("%Y-%m-%d %H:%M UTC") if expires_at else "never"
    click.echo(f"scope: {','.join(scopes)}; expires: {expiry}. The token is shown only now.", err=True)


@click.command()
@with_appcontext
@click.option(
    "--production",
    is_flag=True,
    help="Also fail on settings unsafe for a real service (secret, SQLite, cookies, https, ...).",
)
def check(production: bool) -> None:
    """Check the settings, the database, Redis and the data dir; exit 1 on any problem."""
    svc = services()
    settings = svc.settings
    problems = 0

    def report(ok: bool, what: str, detail: str = "") -> None:
        nonlocal problems
        problems += not ok
        click.echo(f"[{'ok' if ok else 'FAIL'}] {what}{': ' + detail if detail else ''}")

    report(True, "settings", f"data dir {settings.data_dir}, channels {', '.join(settings.channels)}")
    probe = settings.data_dir / ".write-test"
    try:
        probe.write_text("ok")
        probe.unlink()
        report(True, "data dir is writable")
    except OSError as exc:
        report(False, "data dir is writable", str(exc))
    try:
        with svc.db.session() as s:
            s.execute(text("SELECT 1"))
        missing = pending_heads(svc.db)
        report(
            not missing,
            f"database ({svc.db.dialect})",
            "schema current" if not missing else "run `helpdesk db upgrade`",
        )
    except Exception as exc:  # noqa: BLE001 - report any connection failure, never crash
        report(False, f"database ({svc.db.dialect})", type(exc).__name__)
    if settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(settings.redis_url, socket_timeout=3).ping()
            report(True, "redis")
        except Exception as exc:  # noqa: BLE001 - idem
            report(False, "redis", type(exc).__name__)
    report(bool(svc.senders), "outbound channels", ", ".join(sorted(svc.senders)) or "none")
    for channel in sorted(svc.inbound_channels):
        sender = svc.senders.get(channel)
        report(
            sender is not None,
            f"replies to {channel} tickets",
            f"sent by {type(sender).__name__}"
            if sender is not None
            else "NO SENDER: acknowledgements and agents' replies would fail "
            f"(enable the channel package that answers {channel} tickets in HELPDESK_CHANNELS)",
        )
    click.echo(f"background services: {', '.join(s.name for s in svc.background) or 'none'}")
    if production:
        from helpdesk.production_checks import production_problems

        unsafe = production_problems(settings)
        for problem in unsafe:
            report(False, "production", problem)
        if not unsafe:
            report(True, "production settings")
    sys.exit(1 if problems else 0)
