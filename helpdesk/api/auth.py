"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from helpdesk.access import Viewer, viewer_of
from helpdesk.api.errors import ApiError
from helpdesk.auth.accounts import agent_for_token, mark_token_used
from helpdesk.models import Agent
from helpdesk.services import current_services

F = TypeVar("F", bound=Callable[..., Any])


def needed_scope() -> str:
    """The scope this request needs: the figures need "metrics"; reading tickets "read" (or
    "tickets"); any change "tickets"."""
    if request.blueprint == "metrics_api":
        return "metrics"
    return "read" if request.method in {"GET", "HEAD"} else "tickets"


def token_required(*roles: str) -> Callable[[F], F]:
    """401 without a valid (unexpired, unrevoked) token, 403 when the token's agent lacks the role
    or the token lacks the scope."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError(401)
            svc = current_services()
            now = svc.clock.now()
            with svc.db.session() as s:  # a read: the token is looked up on every call
                found = agent_for_token(s, token.strip(), now)
                if found is not None:
                    # The policy's view of the agent, from the row just read (not a second read).
                    g.api_viewer = viewer_of(s, found.agent)
                    s.expunge(found.agent)
            if found is None:
                raise ApiError(401, "The bearer token is not valid, or it has expired.")
            if found.record_use:
                mark_token_used(svc, found.token_id, now)
            agent, scopes = found.agent, found.scopes
            if roles and not agent.has_role(*roles):
                raise ApiError(403)
            scope = needed_scope()
            if scope not in scopes and not (scope == "read" and "tickets" in scopes):
                raise ApiError(403, f"This token's scope does not include {scope}.",
                               code="insufficient_scope")
            g.api_agent = agent
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def api_agent() -> Agent:
    agent: Agent = g.api_agent
    return agent


def api_viewer() -> Viewer:
    """The token's agent as the access policy sees it (role and queues read with the token)."""
    viewer: Viewer | None = g.get("api_viewer")
    if viewer is None:  # an account without a staff role
        raise ApiError(401, "The bearer token is not valid.")
    return viewer
