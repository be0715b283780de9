"""Staff single sign-on: the agent behind a sign-in, provisioned at the first one; all audited.

The provider is the source of truth for who may work here and in which role: the role (and, when
a queue map is set, the queues) follow the claims at every sign-in, through the same audited
operations the admin pages use. The email is the account key. A deactivated agent stays out —
deactivation is this install's decision, and the provider cannot undo it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from helpdesk.administration.agents import create_agent, update_agent
from helpdesk.administration.common import AdminError
from helpdesk.auth.oidc_claims import Person
from helpdesk.models import Agent, Queue
from helpdesk.services import Services
from helpdesk.tickets.types import Actor
from helpdesk.tickets.uow import unit_of_work

log = logging.getLogger(__name__)
SSO = Actor.system("sso")


@dataclass(frozen=True)
class Outcome:
    agent_id: int | None
    refused: str | None = None  # "no_role" | "deactivated"


def audit(svc: Services, action: str, agent_id: int | None = None, **after: object) -> None:
    """One audit line per sign-in outcome; never the email or name (the agent id says who)."""
    with unit_of_work(svc) as uow:
        actor = Actor.agent(agent_id) if action == "sso.login" and agent_id else SSO
        uow.audit(actor, action, subject_id=agent_id, after=dict(after) or None)


def sign_in(svc: Services, who: Person) -> Outcome:
    with svc.db.session() as s:
        row = s.execute(select(Agent.id, Agent.active).where(Agent.email == who.email)).first()
    if row is not None and not row.active:
        audit(svc, "sso.refused", row.id, reason="deactivated")
        return Outcome(row.id, "deactivated")
    if who.role is None:
        audit(svc, "sso.refused", row.id if row else None, reason="no_role")
        return Outcome(row.id if row else None, "no_role")
    queues = _existing(svc, who.queues)
    agent_id = row.id if row is not None else _provision(svc, who, queues)
    _follow_claims(svc, agent_id, who, queues)
    audit(svc, "sso.login", agent_id, role=who.role, provisioned=row is None)
    return Outcome(agent_id)


def _existing(svc: Services, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The mapped queues this install has; a map naming a missing queue is logged, not fatal."""
    if names is None:
        return None
    with svc.db.session() as s:
        found = set(s.scalars(select(Queue.name).where(Queue.name.in_(names))))
    if missing := [n for n in names if n not in found]:
        log.warning("HELPDESK_OIDC_QUEUE_MAP names queues that do not exist: %s", missing)
    return tuple(n for n in names if n in found)


def _provision(svc: Services, who: Person, queues: tuple[str, ...] | None) -> int:
    assert who.role is not None
    try:
        # A long random password nobody is told: the account is reachable only through the
        # provider until an administrator sets one (and local login is on).
        return create_agent(
            svc,
            SSO,
            who.email,
            name=who.name,
            role=who.role,
            queues=queues or (),
            password=secrets.token_urlsafe(32),
        ).id
    except AdminError:  # a parallel first sign-in of the same person created it a moment ago
        with svc.db.session() as s:
            found = s.scalar(select(Agent.id).where(Agent.email == who.email))
        if found is None:
            raise
        return found


def _follow_claims(svc: Services, agent_id: int, who: Person, queues: tuple[str, ...] | None) -> None:
    try:
        update_agent(svc, SSO, agent_id, role=who.role, queues=queues, name=who.name)
    except AdminError:
        # The last active administrator would lose the role: the install keeps it (an install
        # with no administrator cannot be repaired from the pages); the rest still follows.
        log.warning("sso sign-in of agent %s keeps the admin role: it is the last one", agent_id)
        update_agent(svc, SSO, agent_id, queues=queues, name=who.name)
