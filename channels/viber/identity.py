"""A Viber user as a contact identity.

The core knows three identity kinds (email, phone, chat) and `helpdesk/tickets/` may not change
for this channel (issue 17), so a Viber user is a "chat" identity with a `viber:` prefix: it can
never collide with a web chat token (those are random URL-safe text without a colon), threads
like chat does, and merges like any other identity.
"""

from __future__ import annotations

from helpdesk.tickets import Identity

PREFIX = "viber:"
MAX_USER_ID = 100  # Viber ids are ~24 characters; the chat identity allows 128 in all


def identity(user_id: str) -> Identity:
    return Identity("chat", PREFIX + user_id)


def user_id_of(addresses: dict[str, str]) -> str | None:
    """The Viber user id among a contact's identities, if it has one."""
    value = addresses.get("chat") or ""
    return value[len(PREFIX) :] if value.startswith(PREFIX) else None


def valid_user_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_USER_ID and value.isprintable()
