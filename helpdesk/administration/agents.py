"""Agent accounts: create, change role and queues, deactivate; every change audited.

The CLI (`helpdesk user create|deactivate`) and the admin pages call these, so both apply the
same rules: a valid unique email, a known role, queues that exist, a password of 10 characters
or more, and never an install without an active administrator.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpdesk.administration.common import N_, AdminError
from helpdesk.auth.accounts import hash_password
from helpdesk.models import ROLES, Agent, AgentSession, ApiToken, Queue
from helpdesk.services import Services
from helpdesk.tickets import Actor
from helpdesk.tickets.uow import unit_of_work

MIN_PASSWORD = 10


@dataclass(frozen=True)
class NewAgent:
    id: int
    password: str | None  # the generated password, shown once; None when one was given


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > 320 or " " in email:
        raise AdminError(N_("%(email)s is not an email address."), email=repr(email))
    return email


def _queues(s: Session, names: Iterable[str]) -> list[Queue]:
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    found = {q.name: q for q in s.scalars(select(Queue).where(Queue.name.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise AdminError(N_("There is no queue %(key)s."), key=missing[0])
    return [found[n] for n in wanted]


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AdminError(N_("The role must be one of: %(roles)s."), roles=", ".join(ROLES))
    return role


def create_agent(
    svc: Services,
    actor: Actor,
    email: str,
    *,
    name: str | None = None,
    role: str = "agent",
    editor: bool = False,
    queues: Iterable[str] = (),
    password: str | None = None,
) -> NewAgent:
    """A new active agent; without a password one is generated and returned (shown once)."""
    email = normalize_email(email)
    _check_role(role)
    display = " ".join((name or email.split("@")[0]).split())[:200]
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD:
        raise AdminError(N_("The password must have at least %(min)d characters."), min=MIN_PASSWORD)
    with unit_of_work(svc) as uow:
        s = uow.session
        if s.scalar(select(Agent.id).where(Agent.email == email)) is not None:
            raise AdminError(N_("An agent with the email %(email)s exists already."), email=email)
        agent = Agent(email=email, name=display, role=role, is_editor=editor,
                      password_hash=hash_password(password), queues=_queues(s, queues))
        s.add(agent)
        s.flush()
        # no name or email in the audit values: the agent id identifies them
        uow.audit(actor, "agent.created", subject_id=agent.id,
                  after={"role": role, "editor": editor, "queues": [q.name for q in agent.queues]})
        return NewAgent(agent.id, generated)


def update_agent(
    svc: Services,
    actor: Actor,
    agent_id: int,
    *,
    role: str | None = None,
    editor: bool | None = None,
    queues: Iterable[str] | None = None,
    name: str | None = None,
) -> None:
    """Change what is given (role, editor, queue memberships, display name)."""
    with unit_of_work(svc) as uow:
        s = uow.session
        agent = s.get(Agent, agent_id)
        if agent is None:
            raise AdminError(N_("There is no such agent."))
        before = {"role": agent.role, "editor": agent.is_editor,
                  "queues": sorted(q.name for q in agent.queues)}
        if role is not None and role != agent.role:
            _check_role(role)
            if agent.role == "admin":
                _keep_an_admin(s, agent)
            agent.role = role
        if editor is not None:
            agent.is_editor = editor
        if queues is not None:
            agent.queues = _queues(s, queues)
        if name is not None and " ".join(name.split()):
            agent.name = " ".join(name.split())[:200]
        after = {"role": agent.role, "editor": agent.is_editor,
                 "queues": sorted(q.name for q in agent.queues)}
        if after != before:
            uow.audit(actor, "agent.updated", subject_id=agent.id, before=before, after=after)


def _keep_an_admin(s: Session, agent: Agent) -> None:
    others = s.scalar(
        select(func.count()).select_from(Agent)
        .where(Agent.role == "admin", Agent.active.is_(True), Agent.id != agent.id)
    )
    if not others:
        raise AdminError(N_("This is the last active administrator; make another one first."))


def deactivate_agent(svc: Services, actor: Actor, agent_id: int) -> bool:
    """Stop an agent's access at once: sessions and API tokens revoked, queues kept for history.

    Tickets stay assigned (a supervisor reassigns them); returns False if already inactive.
    """
    with unit_of_work(svc) as uow:
        s = uow.session
        agent = s.get(Agent, agent_id)
        if agent is None:
            raise AdminError(N_("There is no such agent."))
        if not agent.active:
            return False
        if agent.role == "admin":
            _keep_an_admin(s, agent)
        agent.active = False
        agent.online = False
        s.execute(update(AgentSession).where(AgentSession.agent_id == agent.id).values(revoked=True))
        s.execute(update(ApiToken).where(ApiToken.agent_id == agent.id).values(revoked=True))
        uow.audit(actor, "agent.deactivated", subject_id=agent.id,
                  before={"active": True}, after={"active": False})
    return True


def reactivate_agent(svc: Services, actor: Actor, agent_id: int) -> bool:
    with unit_of_work(svc) as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None:
            raise AdminError(N_("There is no such agent."))
        if agent.active:
            return False
        agent.active = True
        uow.audit(actor, "agent.reactivated", subject_id=agent.id,
                  before={"active": False}, after={"active": True})
    return True


def agent_id_for_email(svc: Services, email: str) -> int:
    with svc.db.session() as s:
        found = s.scalar(select(Agent.id).where(Agent.email == (email or "").strip().lower()))
    if found is None:
        raise AdminError(N_("There is no agent with the email %(email)s."), email=email)
    return found
