"""Staff single sign-on against a real OpenID provider, at the HTTP level: provisioning with the
mapped role and queues, a person with no Helpdesk role refused, a state this browser did not
start refused, a deactivated agent kept out, logout ending both sessions; all audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.extensions import get_socketio
from helpdesk.models import Agent, AuditEvent
from helpdesk.services import Services
from tests.auth.conftest import OidcProvider, sign_in_at_provider
from tests.conftest import (
    PASSWORD,
    add_agent,
    csrf_token_from,
    free_port,
    make_services,
    make_settings,
)


@pytest.fixture
def sso(tmp_path: Path, oidc_provider: OidcProvider) -> Any:
    built: list[Services] = []

    def tracked(**overrides: Any) -> tuple[Any, Services]:
        folder = tmp_path / f"app{len(built)}"  # an install of its own each time
        folder.mkdir()
        svc = make_services(make_settings(folder, **oidc_provider.settings(**overrides)))
        built.append(svc)
        return create_app(svc.settings, services=svc).test_client(), svc

    yield tracked
    for svc in built:
        svc.db.dispose()


def start(client: Any, next_url: str = "") -> str:
    """Click "Sign in with Office ID": the provider's authorization URL."""
    token = csrf_token_from(client.get("/login?lang=en").get_data(as_text=True))
    response = client.post(
        "/login/oidc" + (f"?next={next_url}" if next_url else ""), data={"csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def come_back(client: Any, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client: Any, login: str, next_url: str = "") -> Any:
    return come_back(client, sign_in_at_provider(start(client, next_url), login))


def audit_actions(svc: Services) -> list[tuple[str, int | None, Any]]:
    with svc.db.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(r.action, r.subject_id, r.after) for r in rows]


def test_first_sign_in_provisions_the_agent_with_role_and_queues(sso: Any) -> None:
    client, svc = sso()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    # authorization code flow with PKCE (S256), a state and a nonce
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0] and query["code_challenge"][0]
    response = come_back(client, sign_in_at_provider(authorize, "marko"))
    assert response.status_code == 302
    assert client.get("/console").status_code == 200

    with svc.db.session() as s:
        agent = s.scalars(select(Agent).where(Agent.email == "marko@office.test")).one()
        assert (agent.name, agent.role, agent.active) == ("Marko Jovanović", "agent", True)
        assert sorted(q.name for q in agent.queues) == ["accounts", "documents"]  # "nope": none
        agent_id = agent.id
    actions = audit_actions(svc)
    assert ("agent.created", agent_id) in [(a, s) for a, s, _ in actions]
    assert ("sso.login", agent_id, {"role": "agent", "provisioned": True}) in actions

    # The next sign-in of the same person reuses the account (the email is the key).
    other = client.application.test_client()
    assert sign_in(other, "marko").status_code == 302
    with svc.db.session() as s:
        assert len(s.scalars(select(Agent).where(Agent.email == "marko@office.test")).all()) == 1
    assert ("sso.login", agent_id, {"role": "agent", "provisioned": False}) in audit_actions(svc)


def test_role_follows_the_claims_and_next_is_kept(sso: Any) -> None:
    client, svc = sso()
    add_agent(svc, "vesna.petrovic@office.test", "agent", name="V. P.")
    response = sign_in(client, "vesna", next_url="/supervisor")
    assert response.headers["Location"] == "/supervisor"
    assert client.get("/supervisor").status_code == 200
    with svc.db.session() as s:
        vesna = s.scalars(select(Agent).where(Agent.email == "vesna.petrovic@office.test")).one()
        assert (vesna.role, vesna.name) == ("supervisor", "Vesna Petrović")
        assert [q.name for q in vesna.queues] == ["payments"]


def test_claims_without_a_helpdesk_role_are_refused_with_a_clear_page(sso: Any) -> None:
    client, svc = sso()
    response = sign_in(client, "gost")
    assert response.status_code == 403
    assert "has no Helpdesk role" in response.get_data(as_text=True)
    assert client.get("/console").status_code == 302  # to the login page: nothing opened
    with svc.db.session() as s:
        assert s.scalars(select(Agent).where(Agent.email == "gost@office.test")).first() is None
    assert ("sso.refused", None, {"reason": "no_role"}) in audit_actions(svc)


def test_an_unverified_email_cannot_take_over_an_account(sso: Any) -> None:
    client, svc = sso()
    vesna = add_agent(svc, "vesna.petrovic@office.test", "agent")
    response = sign_in(client, "nepotvrdjen")  # claims admin with Vesna's address, unverified
    assert response.status_code == 403
    assert "verified email address" in response.get_data(as_text=True)
    with svc.db.session() as s:
        assert s.get_one(Agent, vesna).role == "agent"


def test_a_state_this_browser_did_not_start_is_refused(sso: Any) -> None:
    client, svc = sso()
    callback = sign_in_at_provider(start(client), "vesna")
    stranger = client.application.test_client()  # a code and state carried to another browser
    stranger.get("/login?lang=en")
    response = come_back(stranger, callback)
    assert response.status_code == 400
    assert "did not complete" in response.get_data(as_text=True)
    assert stranger.get("/console").status_code == 302
    forged = callback.replace("state=", "state=x")
    assert come_back(client, forged).status_code == 400
    assert client.get("/console").status_code == 302
    failures = [a for a in audit_actions(svc) if a[0] == "sso.failed"]
    assert [f[2] for f in failures] == [{"error": "MismatchingStateError"}] * 2
    # The browser that did start it still finishes (the forged answer did not spend its state).
    assert come_back(client, callback).status_code == 302
    assert client.get("/supervisor").status_code == 200


def test_a_deactivated_agent_cannot_come_back_through_sso(sso: Any) -> None:
    client, svc = sso()
    dragan = add_agent(svc, "dragan@office.test", "agent", active=False)
    response = sign_in(client, "dragan")
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/console").status_code == 302
    with svc.db.session() as s:
        assert s.get_one(Agent, dragan).active is False
    assert ("sso.refused", dragan, {"reason": "deactivated"}) in audit_actions(svc)


def test_logout_ends_the_session_here_and_at_the_provider(sso: Any, oidc_provider: OidcProvider) -> None:
    client, svc = sso()
    sign_in(client, "vesna")
    session_cookie = client.get_cookie("helpdesk_session").value
    token = csrf_token_from(client.get("/console").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (f"{oidc_provider.issuer}/session/end")
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://127.0.0.1:5000/login"]
    assert query["id_token_hint"][0].count(".") == 2  # the ID token the provider issued
    assert client.get("/console").status_code == 302
    replay = client.application.test_client()
    replay.set_cookie("helpdesk_session", session_cookie)
    assert replay.get("/console").status_code == 302  # the server-side session is revoked


def test_local_login_off_refuses_passwords_and_offers_the_provider(sso: Any) -> None:
    client, svc = sso(local_login=False)
    add_agent(svc, "jelena@helpdesk.localhost")
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in with Office ID" in page and 'name="password"' not in page
    token = csrf_token_from(page)
    response = client.post(
        "/login", data={"email": "jelena@helpdesk.localhost", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403
    assert "password is turned off" in response.get_data(as_text=True)
    assert client.get("/console").status_code == 302


def test_required_two_factor_trusts_the_provider_unless_told_otherwise(sso: Any) -> None:
    client, svc = sso(require_2fa_roles=("supervisor",))
    sign_in(client, "vesna")
    assert client.get("/supervisor").status_code == 200  # the provider's MFA stands in
    app = client.application
    socket = get_socketio(app).test_client(app, namespace="/console", flask_test_client=client)
    assert socket.is_connected("/console")  # the console's socket agrees with the pages
    socket.disconnect(namespace="/console")

    client, svc = sso(require_2fa_roles=("supervisor",), oidc_local_2fa=True)
    response = sign_in(client, "vesna")
    assert response.headers["Location"] == "/account/two-factor"  # enrol first
    assert client.get("/supervisor").status_code == 302


def test_the_button_speaks_all_three_languages(sso: Any) -> None:
    client, _ = sso()
    expected = {
        "en": "Sign in with Office ID",
        "sr-Latn": "Prijavite se preko servisa Office ID",
        "sr-Cyrl": "Пријавите се преко сервиса Office ID",
    }
    for lang, label in expected.items():
        page = client.get(f"/login?lang={lang}").get_data(as_text=True)
        assert f'<button type="submit" class="button primary">{label}</button>' in page, lang
        assert 'name="password"' in page  # local passwords stay on by default


def test_a_provider_that_cannot_be_reached_gets_a_page_not_an_error(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    svc = make_services(
        make_settings(tmp_path, oidc_issuer=closed, oidc_client_id="helpdesk", oidc_role_map="x=agent")
    )
    try:
        client = create_app(svc.settings, services=svc).test_client()
        token = csrf_token_from(client.get("/login?lang=en").get_data(as_text=True))
        response = client.post("/login/oidc", data={"csrf_token": token})
        assert response.status_code == 503
        assert "cannot be reached right now" in response.get_data(as_text=True)
        assert client.post("/login/oidc").status_code == 400  # no CSRF token: refused first
    finally:
        svc.db.dispose()
