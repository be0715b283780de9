"""Canned responses: short, translated starting points for common answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CANNED = [
    (
        "greeting",
        _l("Greeting"),
        _l("Hello, thank you for contacting the support center. I will gladly help you."),
    ),
    (
        "more_info",
        _l("Ask for details"),
        _l(
            "Could you tell me a bit more: which service are you using and what do you see on the "
            "screen? Please do not send passwords or your full personal ID number."
        ),
    ),
    (
        "password_reset",
        _l("Password reset"),
        _l(
            'You can reset your password on the portal\'s login page with "Forgot password?". '
            "The link in the email is valid for 24 hours."
        ),
    ),
    (
        "working_on_it",
        _l("Working on it"),
        _l(
            "Thank you for your patience. We are looking into it and will write back as soon as we know more."
        ),
    ),
    (
        "closing",
        _l("Closing"),
        _l("I am glad we could help. If anything else comes up, just reply to this conversation."),
    ),
]
