"""`helpdesk token list` and `helpdesk token revoke`: operators see tokens without their secrets
and can stop one at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.auth.accounts import create_token
from helpdesk.cli import cli
from helpdesk.models import Agent, AuditEvent
from helpdesk.services import Services
from tests.conftest import add_agent


def make_token(svc: Services, email: str) -> str:
    with svc.db.transaction() as s:
        agent = s.scalar(select(Agent).where(Agent.email == email))
        return create_token(s, agent, svc.clock.now())


def test_list_shows_tokens_without_secrets_and_revoke_stops_one(
    app: Any, client: Any, services: Services
) -> None:
    add_agent(services, "ana@helpdesk.localhost")
    add_agent(services, "boris@helpdesk.localhost")
    ana = make_token(services, "ana@helpdesk.localhost")
    boris = make_token(services, "boris@helpdesk.localhost")
    bearer = {"Authorization": f"Bearer {ana}"}
    assert client.get("/api/v1/tickets", headers=bearer).status_code == 200

    runner = app.test_cli_runner()
    listed = runner.invoke(cli, ["token", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["ID", "OWNER", "SCOPE", "CREATED", "LAST", "USED", "EXPIRES", "STATE"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert set(rows) == {"ana@helpdesk.localhost", "boris@helpdesk.localhost"}
    assert "2026-11-23 09:00 UTC" in rows["ana@helpdesk.localhost"].split("  ", 3)[-1]  # used
    assert "never" in rows["boris@helpdesk.localhost"]
    for secret in (ana, boris):
        assert secret not in listed.output and secret[3:12] not in listed.output
    ana_id = rows["ana@helpdesk.localhost"].split()[0]

    only = runner.invoke(cli, ["token", "list", "--email", "Boris@helpdesk.localhost"])
    assert "ana@" not in only.output and "boris@" in only.output

    revoked = runner.invoke(cli, ["token", "revoke", ana_id])
    assert revoked.exit_code == 0 and f"revoked token {ana_id}" in revoked.output
    assert client.get("/api/v1/tickets", headers=bearer).status_code == 401
    other = {"Authorization": f"Bearer {boris}"}
    assert client.get("/api/v1/tickets", headers=other).status_code == 200  # only that one

    again = runner.invoke(cli, ["token", "revoke", ana_id])
    assert again.exit_code == 0 and "revoked already" in again.output
    unknown = runner.invoke(cli, ["token", "revoke", "999"])
    assert unknown.exit_code == 2 and "no token with id 999" in unknown.output
    assert "ana@" not in runner.invoke(cli, ["token", "list"]).output
    everything = runner.invoke(cli, ["token", "list", "--all"]).output
    assert "revoked" in everything and "ana@" in everything
    ghost = runner.invoke(cli, ["token", "list", "--email", "ghost@x.rs"])
    assert ghost.exit_code == 2 and "no agent with email ghost@x.rs" in ghost.output
    with services.db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoked")).one()
        assert audit.after == {"token_id": int(ana_id), "revoked": True}
