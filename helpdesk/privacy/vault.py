"""Full JMBGs kept apart from the text, encrypted; masked text everywhere else.

``seal`` runs where a message is built (inbound and agent messages), before the first flush: the
message keeps only the masked text, so everything that reads it later (console, API, search
index, KB suggestions, exports, outbound quotes) is masked by construction. The full numbers go
to ``sensitive_values`` as Fernet tokens (AES-CBC + HMAC, ``cryptography``) under a key from
``HELPDESK_PRIVACY_KEY``, or derived from the secret key when that is unset
(``helpdesk.privacy.reveal`` gives them back). No import of the core here: the core calls in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select

from helpdesk.models import Message, SensitiveValue
from helpdesk.privacy import jmbg, keys
from helpdesk.services import Services
from helpdesk.settings import Settings

KIND_JMBG = "jmbg"


def cipher(settings: Settings) -> Fernet:
    return keys.cipher(settings, keys.VALUES)


def seal(settings: Settings, message: Message, *also_in: str | None) -> list[SensitiveValue]:
    """Mask the message's text, html and text-valued meta (an email's full text and html with
    its quotes) in place; the full numbers (found there and in ``also_in``, e.g. the mail's
    subject) as encrypted rows to add with the message."""
    found = seal_texts(settings, message.text, message.html, message.meta or {}, *also_in)
    if not found.sealed:
        return []
    message.text, message.html, message.meta = found.text or "", found.html, found.meta
    return [SensitiveValue(message=message, kind=kind, ciphertext=c) for kind, c in found.sealed]


@dataclass(frozen=True)
class Sealed:
    """A message's texts masked, and its full numbers as (kind, ciphertext)."""

    text: str | None
    html: str | None
    meta: dict[str, Any]
    sealed: list[tuple[str, str]]


def seal_texts(
    settings: Settings, text: str | None, html: str | None, meta: dict[str, Any], *also_in: str | None
) -> Sealed:
    """``seal`` on plain values, for a writer that keeps no ORM ``Message`` (the inbound path:
    building one only to seal it cost ~10% of preparing a message). Returns the values as given
    (``meta`` copied) when no number is found."""
    meta = dict(meta)
    texts = [text, html, *also_in, *(v for v in meta.values() if isinstance(v, str))]
    numbers = jmbg.find("\n".join(t for t in texts if t))
    if not numbers:
        return Sealed(text, html, meta, [])
    f = cipher(settings)
    return Sealed(
        jmbg.mask(text or ""),
        jmbg.mask_optional(html),
        {k: jmbg.mask(v) if isinstance(v, str) else v for k, v in meta.items()},
        [(KIND_JMBG, f.encrypt(n.encode()).decode()) for n in numbers],
    )


def has_sealed(svc: Services, message_ids: list[int]) -> set[int]:
    """Which of these messages hold a number an agent may reveal (the console's buttons)."""
    if not message_ids:
        return set()
    with svc.db.session() as s:
        return set(
            s.scalars(
                select(SensitiveValue.message_id).where(SensitiveValue.message_id.in_(message_ids))
            ).all()
        )
