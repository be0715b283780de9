"""Who may see what: the public allow-list and role checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["login_required", "public", "roles_required"]


def public(view: F) -> F:
    """Put a view on the allow-list of pages open without login (citizen pages, webhooks)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow agents with one of ``roles`` or a higher one (admin > supervisor > agent)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
