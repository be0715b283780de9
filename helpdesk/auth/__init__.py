"""Agent login, sessions, API tokens and role checks."""

from helpdesk.auth.roles import login_required, public, roles_required

__all__ = ["login_required", "public", "roles_required"]
