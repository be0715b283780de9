"""Threading signals we put into outgoing mail and read back from replies.

Our Message-IDs carry the ticket's reply token and what was sent (``m<Message id>`` or
``a<outbox item id>`` for an acknowledgement, which has no Message row), so a reply or a bounce
names its ticket even when our copy of the Message-ID was never stored. The envelope sender is a
VERP address, ``bounce+<token>.<tag>@domain``, so a bounce names the message it returns even when
the bouncing MTA quotes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

REFERENCE = re.compile(r"\[(HD-\d{4}-\d{6})\]", re.I)
_OUR_ID = re.compile(r"^hd\.([0-9a-f]{16,64})\.([am]\d+)\.[0-9a-f]+@", re.I)
_REPLY_ADDR = re.compile(r"^reply\+([0-9a-f]{16,64})@", re.I)
_BOUNCE_ADDR = re.compile(r"^bounce\+([0-9a-f]{16,64})\.([am]\d+)@", re.I)
_PREFIX = re.compile(r"^\s*((re|odg|одг|aw|sv|fw|fwd|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class SentTag:
    """What one of our outgoing mails was: a Message row, or an acknowledgement's outbox item."""

    token: str
    kind: str  # "m" (Message id) or "a" (outbox item id)
    number: int


def new_message_id(token: str, tag: str, domain: str) -> str:
    """A Message-ID (without angle brackets) naming the ticket token and what was sent."""
    return f"hd.{token}.{tag}.{secrets.token_hex(6)}@{domain}".lower()


def verp_address(token: str, tag: str, domain: str) -> str:
    return f"bounce+{token}.{tag}@{domain}".lower()


def reply_address(token: str, domain: str) -> str:
    return f"reply+{token}@{domain}".lower()


def parse_our_id(message_id: str) -> SentTag | None:
    match = _OUR_ID.match(message_id)
    return _tag(match.group(1), match.group(2)) if match else None


def parse_bounce_address(address: str) -> SentTag | None:
    match = _BOUNCE_ADDR.match(address)
    return _tag(match.group(1), match.group(2)) if match else None


def reply_token_from_address(address: str) -> str | None:
    match = _REPLY_ADDR.match(address)
    return match.group(1).lower() if match else None


def reference_in(subject: str) -> str | None:
    match = REFERENCE.search(subject or "")
    return match.group(1).upper() if match else None


def clean_subject(subject: str) -> str:
    """Subject without Re:/Fwd: prefixes and our reference, to build ours from."""
    return " ".join(REFERENCE.sub(" ", _PREFIX.sub("", subject or "")).split())


def _tag(token: str, tag: str) -> SentTag:
    return SentTag(token=token.lower(), kind=tag[0].lower(), number=int(tag[1:]))
