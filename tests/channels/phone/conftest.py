"""Phone channel fixtures, defined in phone_helpers.py (which the tests import helpers from)."""

from phone_helpers import dispatch, double, phone, phone_app, phone_db_url, svc, twilio

__all__ = ["dispatch", "double", "phone", "phone_app", "phone_db_url", "svc", "twilio"]
