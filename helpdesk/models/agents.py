"""Agents, their queues, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.models.base import Base, utcnow

ROLES = ("agent", "supervisor", "admin")

queue_members = Table(
    "queue_members",
    Base.metadata,
    Column("queue_id", ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    is_editor: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(default=10)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two-factor sign-in (TOTP): the secret is stored encrypted (helpdesk.auth.twofactor); set but
    # not enabled while the agent is enrolling. The last accepted time step stops a code's replay.
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_counter: Mapped[int | None]

    queues: Mapped[list[Queue]] = relationship(secondary=queue_members, back_populates="members")

    def has_role(self, *roles: str) -> bool:
        # admin may do everything a supervisor may, a supervisor everything an agent may
        rank = {"agent": 0, "supervisor": 1, "admin": 2}
        return self.active and rank.get(self.role, -1) >= min(rank[r] for r in roles)

    # Flask-Login protocol (the session cookie holds an AgentSession key, not the agent id)
    is_authenticated = True
    is_anonymous = False
    session_key: str = ""

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_key


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # the fallback name (an install's first)
    # the name per interface language (sr-Latn, sr-Cyrl, en); see helpdesk.administration.names
    names: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    members: Mapped[list[Agent]] = relationship(secondary=queue_members, back_populates="queues")


class AgentSession(Base):
    """A server-side login session: rotated at every login, revoked at logout."""

    __tablename__ = "agent_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
    # comma list of read|tickets|metrics; None: a token made before scopes existed (all of them)
    scopes: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its hash is kept."""

    __tablename__ = "agent_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
