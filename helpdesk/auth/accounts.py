"""Agent accounts: password hashes, server-side login sessions, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.models import Agent, AgentSession, ApiToken
from helpdesk.services import Services
from helpdesk.tickets.types import Actor

SESSION_IDLE = timedelta(hours=12)


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown: a wrong email costs as much time as a wrong password."""
    return generate_password_hash("not-a-password", method="scrypt")


def warm_up() -> None:
    _dummy_hash()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(
    s: Session, email: str, password: str, *, throttled: bool = False
) -> Agent | None:
    """The agent for these credentials, or None.

    Every way to fail costs one scrypt check, so the time of the answer does not tell an unknown
    address from a deactivated or throttled account or a wrong password. Throttling itself is
    the caller's (helpdesk.auth.throttle): it is by account and client address together.
    """
    agent = s.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None or throttled or not agent.active:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(agent.password_hash, password):
        return None
    return agent


def open_session(s: Session, agent: Agent, now: datetime) -> str:
    """A new session key at every login (the old one is never reused)."""
    key = secrets.token_urlsafe(32)
    s.add(AgentSession(key_hash=digest(key), agent_id=agent.id, created_at=now, last_seen_at=now))
    return key


def load_session(s: Session, key: str, now: datetime) -> tuple[Agent | None, bool]:
    """The agent of a live session, and whether its last-seen time is worth writing down."""
    row = s.get(AgentSession, digest(key))
    if row is None or row.revoked or now - row.last_seen_at > SESSION_IDLE:
        return None, False
    agent = s.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        return None, False
    agent.session_key = key
    return agent, now - row.last_seen_at > timedelta(minutes=1)  # don't write on every request


def touch_session(s: Session, key: str, now: datetime) -> None:
    s.execute(
        update(AgentSession).where(AgentSession.key_hash == digest(key)).values(last_seen_at=now)
    )


def close_session(s: Session, key: str) -> None:
    s.execute(update(AgentSession).where(AgentSession.key_hash == digest(key)).values(revoked=True))


# What a token may do: "read" answers GET requests of the ticket API; "tickets" also changes
# tickets (and reads them); "metrics" reads the supervisors' figures (/api/v1/metrics).
SCOPES = ("read", "tickets", "metrics")


def parse_scopes(text: str) -> tuple[str, ...]:
    """A comma list of scopes, in the canonical order; ValueError on an unknown one or none."""
    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        raise ValueError(", ".join(sorted(unknown)) or text)
    return tuple(scope for scope in SCOPES if scope in wanted)


def create_token(
    s: Session,
    agent: Agent,
    now: datetime,
    scopes: tuple[str, ...] = SCOPES,
    expires_at: datetime | None = None,
) -> str:
    token = "hd_" + secrets.token_urlsafe(32)
    s.add(ApiToken(agent_id=agent.id, token_hash=digest(token), prefix=token[:8], created_at=now,
                   scopes=",".join(scopes), expires_at=expires_at))
    return token


def token_scopes(row: ApiToken) -> frozenset[str]:
    # A token made before scopes existed keeps what it could always do.
    return frozenset(SCOPES if row.scopes is None else row.scopes.split(","))


# A token's last use is kept to the minute: writing it on every call made each API read a write
# transaction (on SQLite the database's one write lock) for a time nobody reads to the second.
TOKEN_USE_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenUse:
    agent: Agent
    scopes: frozenset[str]
    token_id: int
    record_use: bool  # last_used_at is unset or TOKEN_USE_STEP old: call mark_token_used


def agent_for_token(s: Session, token: str, now: datetime) -> TokenUse | None:
    """The token's agent and scopes, or None (unknown, revoked, expired, agent inactive).

    Only reads, and nothing is cached: every call looks the token up by its hash, so a revoked or
    expired token (or a deactivated agent) is refused from the next request on."""
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked or (row.expires_at is not None and row.expires_at <= now):
        return None
    agent = s.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        return None
    stale = row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_STEP
    return TokenUse(agent, token_scopes(row), row.id, stale)


def mark_token_used(svc: Services, token_id: int, now: datetime) -> None:
    with svc.db.transaction() as s:
        s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


@dataclass(frozen=True)
class TokenInfo:
    id: int
    owner: str  # the agent's email
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool
    scopes: tuple[str, ...] = SCOPES
    expires_at: datetime | None = None
    prefix: str = ""


def list_tokens(
    svc: Services, agent_id: int | None = None, include_revoked: bool = False
) -> list[TokenInfo]:
    """API tokens for operators (`helpdesk token list`); only the hash is stored, so no secret."""
    stmt = select(ApiToken, Agent.email).join(Agent, Agent.id == ApiToken.agent_id)
    if agent_id is not None:
        stmt = stmt.where(ApiToken.agent_id == agent_id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked.is_(False))
    with svc.db.session() as s:
        return [
            TokenInfo(row.id, email, row.created_at, row.last_used_at, row.revoked,
                      tuple(sc for sc in SCOPES if sc in token_scopes(row)), row.expires_at,
                      row.prefix)
            for row, email in s.execute(stmt.order_by(ApiToken.id))
        ]


def revoke_token(svc: Services, token_id: int, actor: Actor | None = None) -> bool | None:
    """Revoke one API token: True if revoked now, False if it was already, None if unknown."""
    from helpdesk.tickets.uow import unit_of_work  # the core's unit of work: commit, then audit

    with unit_of_work(svc) as uow:
        row = uow.session.get(ApiToken, token_id)
        if row is None:
            return None
        if row.revoked:
            return False
        row.revoked = True
        uow.audit(
            actor or Actor.system("cli"), "token.revoked", subject_id=row.agent_id,
            before={"token_id": row.id, "revoked": False},
            after={"token_id": row.id, "revoked": True},
        )
    return True
