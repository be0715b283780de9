"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from helpdesk.access import Viewer, load_viewer
from helpdesk.api.errors import ApiError
from helpdesk.auth.accounts import agent_for_token
from helpdesk.models import Agent
from helpdesk.services import current_services

F = TypeVar("F", bound=Callable[..., Any])


def token_required(*roles: str) -> Callable[[F], F]:
    """401 without a valid token, 403 when the token's agent lacks the role."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError(401)
            svc = current_services()
            with svc.db.transaction() as s:
                agent = agent_for_token(s, token.strip(), svc.clock.now())
                if agent is not None:
                    s.expunge(agent)
            if agent is None:
                raise ApiError(401, "The bearer token is not valid.")
            if roles and not agent.has_role(*roles):
                raise ApiError(403)
            g.api_agent = agent
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def api_agent() -> Agent:
    agent: Agent = g.api_agent
    return agent


def api_viewer() -> Viewer:
    """The token's agent as the access policy sees it (queues and role read fresh)."""
    viewer = load_viewer(current_services(), api_agent().id)
    if viewer is None:  # deactivated between the token check and now
        raise ApiError(401, "The bearer token is not valid.")
    return viewer
