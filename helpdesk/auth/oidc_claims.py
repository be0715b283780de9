"""Staff single sign-on: what the settings mean, and what a signed-in person's claims map to.

Pure functions (no Flask, no database), so the mapping rules are tested on their own and
`helpdesk check --production` can name a half-configured provider before anyone tries to sign in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from helpdesk.settings import Settings

RANK = {"agent": 0, "supervisor": 1, "admin": 2}


def configured(settings: Settings) -> bool:
    """SSO is on when the issuer and the client id are set (the secret is optional: PKCE)."""
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def parse_map(text: str) -> list[tuple[str, str]]:
    """``"a=x, b=y"`` as pairs; a claim value may map to several targets by repeating it."""
    pairs = []
    for item in text.split(","):
        value, eq, target = item.partition("=")
        if eq and value.strip() and target.strip():
            pairs.append((value.strip(), target.strip()))
    return pairs


def bad_map_items(text: str) -> list[str]:
    return [
        item.strip()
        for item in text.split(",")
        if item.strip() and not all(part.strip() for part in item.partition("=")[::2])
    ]


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """The claim's values as strings: a single value, a list, or (dotted name) a nested one such
    as Keycloak's ``realm_access.roles``."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    return [str(item) for item in items if isinstance(item, str | int) and str(item)]


def mapped_role(settings: Settings, claims: Mapping[str, Any]) -> str | None:
    """The highest role the claims map to, or None: nobody gets a default role by accident."""
    values = set(claim_values(claims, settings.oidc_role_claim))
    roles = [role for value, role in parse_map(settings.oidc_role_map) if value in values and role in RANK]
    return max(roles, key=RANK.__getitem__) if roles else None


def mapped_queues(settings: Settings, claims: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The queues the claims map to (in the map's order), or None when no queue map is set: then
    the queues are the administrators' to manage and a sign-in leaves them as they are."""
    pairs = parse_map(settings.oidc_queue_map)
    if not pairs:
        return None
    values = set(claim_values(claims, settings.oidc_queue_claim))
    return tuple(dict.fromkeys(queue for value, queue in pairs if value in values))


def display_name(claims: Mapping[str, Any], email: str) -> str:
    for candidate in (
        claims.get("name"),
        " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")),
        claims.get("preferred_username"),
    ):
        if isinstance(candidate, str) and candidate.split():
            return " ".join(candidate.split())[:200]
    return email.split("@")[0]


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The email that keys the account, lower-cased; None when missing or marked unverified (an
    address the provider has not checked must not take over the agent who owns it)."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        return None
    return email.strip().lower()


def origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class Person:
    """Who the provider says signed in, mapped to this install's terms."""

    email: str
    name: str
    role: str | None
    queues: tuple[str, ...] | None


def person(settings: Settings, claims: Mapping[str, Any]) -> Person | None:
    email = verified_email(claims)
    if email is None:
        return None
    return Person(
        email, display_name(claims, email), mapped_role(settings, claims), mapped_queues(settings, claims)
    )


def problems(settings: Settings) -> list[str]:
    """What `helpdesk check --production` says about sign-in: half a provider, or no way in."""
    found: list[str] = []
    sso_vars = {
        "HELPDESK_OIDC_ISSUER": settings.oidc_issuer,
        "HELPDESK_OIDC_CLIENT_ID": settings.oidc_client_id,
        "HELPDESK_OIDC_ROLE_MAP": settings.oidc_role_map,
    }
    if any(sso_vars.values()) and not all(sso_vars.values()):
        missing = ", ".join(name for name, value in sso_vars.items() if not value)
        found.append(
            f"single sign-on is half configured: {missing} not set (without the role "
            "map nobody can sign in through the provider)"
        )
    if settings.oidc_issuer and not settings.oidc_issuer.startswith("https://"):
        found.append(f"HELPDESK_OIDC_ISSUER is not https ({settings.oidc_issuer})")
    if configured(settings) and not settings.oidc_client_secret:
        found.append(
            "HELPDESK_OIDC_CLIENT_SECRET is not set: a confidential client is safer for "
            "a server (PKCE is used either way)"
        )
    for name, text in (
        ("HELPDESK_OIDC_ROLE_MAP", settings.oidc_role_map),
        ("HELPDESK_OIDC_QUEUE_MAP", settings.oidc_queue_map),
    ):
        if bad_map_items(text):
            found.append(f"{name} has items that are not value=target: {bad_map_items(text)}")
    unknown = sorted({role for _, role in parse_map(settings.oidc_role_map)} - set(RANK))
    if unknown:
        found.append(f"HELPDESK_OIDC_ROLE_MAP maps to unknown roles {unknown} (agent, supervisor, admin)")
    if not settings.local_login and not configured(settings):
        found.append(
            "HELPDESK_LOCAL_LOGIN is off but single sign-on is not configured: no agent could sign in"
        )
    return found
