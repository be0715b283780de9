"""Phone channel fixtures (defined in phone_helpers.py, which the tests also import helpers from)."""

from phone_helpers import dispatch, double, phone, phone_app, svc, twilio

__all__ = ["dispatch", "double", "phone", "phone_app", "svc", "twilio"]
