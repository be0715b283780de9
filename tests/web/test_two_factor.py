"""Two-factor sign-in (TOTP): enrolment with recovery codes, the second login step, the replay
rule, the role requirement, the admin's reset, and the audit trail."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pyotp
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth import twofactor
from helpdesk.cli import cli
from helpdesk.extensions import get_socketio
from helpdesk.models import Agent, AuditEvent, RecoveryCode
from helpdesk.services import Services
from tests.conftest import PASSWORD, add_agent, csrf_token_from, login, make_services, make_settings


def post_login(client: Any, email: str) -> Any:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def post_code(client: Any, code: str) -> Any:
    token = csrf_token_from(client.get("/login/code?lang=en").get_data(as_text=True))
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def logout(client: Any) -> None:
    token = csrf_token_from(client.get("/console").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def audit_actions(svc: Services, agent_id: int) -> list[str]:
    with svc.db.session() as s:
        return list(s.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == agent_id)
            .where(AuditEvent.action.startswith("2fa.")).order_by(AuditEvent.id)
        ))


def test_enrolment_gives_recovery_codes_and_login_then_needs_a_second_step(
    app: Any, client: Any, services: Services
) -> None:
    agent_id = login(client, services, "agent", "milica@helpdesk.localhost")
    page = client.get("/account/two-factor?lang=en").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    totp = pyotp.TOTP(secret)
    token = csrf_token_from(page)

    wrong = client.post("/account/two-factor", data={"action": "confirm", "code": "000000"
                        if totp.at(services.clock.now()) != "000000" else "111111",
                        "csrf_token": token})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.get_data(as_text=True)

    done = client.post("/account/two-factor?lang=en", data={
        "action": "confirm", "code": totp.at(services.clock.now()), "csrf_token": token})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    with services.db.session() as s:
        agent = s.get(Agent, agent_id)
        assert agent is not None and agent.totp_enabled_at is not None
        assert secret not in (agent.totp_secret or "")  # stored sealed, not as the app's key
        stored = s.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.agent_id == agent_id))
        hashes = set(stored)
    assert len(hashes) == 10 and not hashes & set(codes)
    # the status page no longer shows the secret or the codes
    status = client.get("/account/two-factor?lang=en").get_data(as_text=True)
    assert "10 recovery codes left." in status and secret[:8] not in status and codes[0] not in status

    logout(client)
    after_password = post_login(client, "milica@helpdesk.localhost")
    assert after_password.headers["Location"].startswith("/login/code")
    # half logged in: neither the console nor the API by session counts it as a login
    assert client.get("/console").headers["Location"].startswith("/login")
    assert client.get("/api/v1/tickets", headers={"Accept": "application/json"}).status_code == 401

    assert post_code(client, "abcde-fghjk").status_code == 401
    used = post_code(client, codes[3].upper())  # typed in capitals: still the same code
    assert used.status_code == 302
    assert client.get("/console").status_code == 200
    logout(client)

    post_login(client, "milica@helpdesk.localhost")
    assert post_code(client, codes[3]).status_code == 401  # a recovery code works once
    services.clock.advance(seconds=30)  # the enrolment's own code was spent: the next one works
    assert post_code(client, totp.at(services.clock.now())).status_code == 302
    assert client.get("/console").status_code == 200
    assert audit_actions(services, agent_id) == [
        "2fa.enrol_failed", "2fa.enrolled", "2fa.failed", "2fa.recovery_code_used",
        "2fa.failed", "2fa.succeeded",
    ]

    # an administrator resets it (lost phone): the next login needs the password only
    result = app.test_cli_runner().invoke(cli, ["user", "reset-2fa", "Milica@helpdesk.localhost"])
    assert result.exit_code == 0, result.output
    assert "two-factor reset" in result.output
    assert audit_actions(services, agent_id)[-1] == "2fa.reset"
    logout(client)
    assert post_login(client, "milica@helpdesk.localhost").headers["Location"] == "/"
    with services.db.session() as s:
        assert s.scalar(select(RecoveryCode.id).where(RecoveryCode.agent_id == agent_id)) is None


def test_code_step_shares_the_password_throttle(tmp_path: Any) -> None:
    svc = make_services(make_settings(tmp_path))
    client = create_app(svc.settings, services=svc).test_client()
    agent_id = add_agent(svc, "goran@helpdesk.localhost", "supervisor")
    secret = pyotp.random_base32()
    with svc.db.transaction() as s:
        agent = s.get(Agent, agent_id)
        assert agent is not None
        agent.totp_secret, agent.totp_enabled_at = twofactor.seal(svc, secret), svc.clock.now()
    good = pyotp.TOTP(secret).at(svc.clock.now())
    bad = "000000" if good != "000000" else "111111"
    post_login(client, "goran@helpdesk.localhost")
    for _ in range(5):  # the pair's free failures, spent on codes
        assert post_code(client, bad).status_code == 401
    # the pair is now blocked: even the right code is refused, and a new password does not help
    assert post_code(client, good).status_code == 401
    post_login(client, "goran@helpdesk.localhost")
    assert client.get("/console").headers["Location"].startswith("/login")


def test_required_role_is_sent_to_enrolment_and_reaches_nothing_else(tmp_path: Any) -> None:
    svc = make_services(make_settings(tmp_path, require_2fa_roles=("supervisor", "admin")))
    client = create_app(svc.settings, services=svc).test_client()
    # an agent's role is not listed: the password is enough
    add_agent(svc, "ana@helpdesk.localhost", "agent")
    assert post_login(client, "ana@helpdesk.localhost").headers["Location"] == "/"
    logout(client)

    add_agent(svc, "sef@helpdesk.localhost", "supervisor")
    assert post_login(client, "sef@helpdesk.localhost").headers["Location"] == "/account/two-factor"
    for path in ("/console", "/supervisor", "/api/v1/tickets"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code in (302, 401), path
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), path
    enrol = client.get("/account/two-factor?lang=en")
    assert "Your role must sign in with a code" in enrol.get_data(as_text=True)
    assert enrol.headers["Cache-Control"] == "no-store"  # the secret is on this page


def test_a_session_opened_before_the_rule_reaches_only_enrolment(
    app: Any, client: Any, services: Services
) -> None:
    """HELPDESK_REQUIRE_2FA_ROLES turned on while a supervisor is logged in: pages (403 to a
    script) and the console socket keep them out until they have enrolled."""
    login(client, services, "supervisor")
    assert client.get("/console").status_code == 200
    services.settings = replace(services.settings, require_2fa_roles=("supervisor",))
    assert client.get("/console").headers["Location"] == "/account/two-factor"
    assert client.get("/supervisor").headers["Location"] == "/account/two-factor"
    assert client.get("/console", headers={"Accept": "application/json"}).status_code == 403
    assert client.get("/account/two-factor").status_code == 200
    socket = get_socketio(app).test_client(app, namespace="/console", flask_test_client=client)
    assert not socket.is_connected("/console")
