"""JSON API v1 (bearer tokens; the public ticket form needs none)."""

from helpdesk.api.views import bp

__all__ = ["bp"]
