"""Viber channel fixtures, defined in viber_helpers.py (which the tests import helpers from)."""

from viber_helpers import app, dispatch, double, post, svc, viber_db_url

__all__ = ["app", "dispatch", "double", "post", "svc", "viber_db_url"]
