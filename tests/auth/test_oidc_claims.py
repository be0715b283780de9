"""What an office account's claims map to (role, queues, name, account key), and what
`helpdesk check --production` says about a half-configured single sign-on."""

from __future__ import annotations

from pathlib import Path

from helpdesk.auth.oidc_claims import (
    claim_values,
    mapped_queues,
    mapped_role,
    person,
    problems,
)
from helpdesk.production_checks import production_problems
from tests.conftest import make_settings

MAP = "staff-a=agent,leads=supervisor,it=admin"


def test_the_highest_mapped_role_wins_and_unmapped_values_give_none(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, oidc_role_map=MAP)
    assert mapped_role(settings, {"roles": ["leads", "staff-a"]}) == "supervisor"
    assert mapped_role(settings, {"roles": "it"}) == "admin"
    assert mapped_role(settings, {"roles": ["library"]}) is None
    assert mapped_role(settings, {}) is None
    nested = make_settings(tmp_path, oidc_role_map=MAP, oidc_role_claim="realm_access.roles")
    assert mapped_role(nested, {"realm_access": {"roles": ["staff-a"]}}) == "agent"
    assert claim_values({"a": {"b": 3}}, "a.b") == ["3"]


def test_queues_follow_the_map_only_when_there_is_one(tmp_path: Path) -> None:
    plain = make_settings(tmp_path)
    assert mapped_queues(plain, {"groups": ["x"]}) is None  # admins manage queues
    mapped = make_settings(tmp_path, oidc_queue_map="x=payments, x=accounts, y=documents")
    assert mapped_queues(mapped, {"groups": ["x"]}) == ("payments", "accounts")
    assert mapped_queues(mapped, {"groups": []}) == ()


def test_the_account_key_is_a_verified_lower_case_email(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, oidc_role_map=MAP)
    who = person(
        settings,
        {"email": " Ana.Ilic@Office.test", "given_name": "Ana", "family_name": "Ilić", "roles": ["leads"]},
    )
    assert who is not None
    assert (who.email, who.name, who.role) == ("ana.ilic@office.test", "Ana Ilić", "supervisor")
    assert person(settings, {"email": "a@b.c", "email_verified": False}) is None
    assert person(settings, {"name": "No Mail"}) is None


def test_production_check_names_a_half_configured_provider(tmp_path: Path) -> None:
    half = make_settings(tmp_path, oidc_issuer="https://login.office.example")
    assert any("HELPDESK_OIDC_CLIENT_ID, HELPDESK_OIDC_ROLE_MAP" in p for p in problems(half))
    plain_http = make_settings(
        tmp_path, oidc_issuer="http://login.office.example", oidc_client_id="helpdesk", oidc_role_map="x=boss"
    )
    found = " | ".join(production_problems(plain_http))
    assert "HELPDESK_OIDC_ISSUER is not https" in found
    assert "HELPDESK_OIDC_CLIENT_SECRET is not set" in found
    assert "unknown roles ['boss']" in found
    locked_out = make_settings(tmp_path, local_login=False)
    assert any("no agent could sign in" in p for p in problems(locked_out))
    complete = make_settings(
        tmp_path,
        oidc_issuer="https://login.office.example",
        oidc_client_id="helpdesk",
        oidc_client_secret="s" * 40,
        oidc_role_map=MAP,
        local_login=False,
    )
    assert problems(complete) == []
