"""Canned responses: ready answers kept by editors, per language and script, with placeholders.

An editor writes "Poštovani {citizen_name}, vaš zahtev {reference} ..." once; when an agent
inserts it, the ticket's citizen, reference and the agent's own name are filled in. Every change
is audited. Until editors have written any, the built-in starters below (in the interface
language) keep the console useful on a fresh install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from helpdesk.models import CANNED_LANGUAGES, CannedResponse
from helpdesk.services import Services
from helpdesk.tickets import Actor, InvalidChange
from helpdesk.tickets.uow import unit_of_work
from triage.text import normalize

PLACEHOLDERS = ("citizen_name", "reference", "agent_name")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_BODY = 10_000

BUILT_IN = [
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


@dataclass(frozen=True)
class Canned:
    id: int | None  # None: a built-in starter
    title: str
    shortcut: str
    language: str
    body: str

    @property
    def search(self) -> str:
        """What the reply box's finder matches: title and shortcut, Latin, no diacritics."""
        return normalize(f"{self.title} {self.shortcut}")


def ticket_language(language: str | None, script: str | None) -> str:
    """The canned-response language that suits a ticket: sr-Latn, sr-Cyrl or en."""
    if (language or "sr").startswith("en"):
        return "en"
    return "sr-Cyrl" if (script or "").lower().startswith("cyr") else "sr-Latn"


def list_canned(svc: Services, q: str = "", language: str = "") -> list[Canned]:
    with svc.db.session() as s:
        stmt = select(CannedResponse).order_by(CannedResponse.language, CannedResponse.title)
        if language in CANNED_LANGUAGES:
            stmt = stmt.where(CannedResponse.language == language)
        rows = [Canned(c.id, c.title, c.shortcut, c.language, c.body) for c in s.scalars(stmt)]
    if q.strip():
        # Titles and shortcuts, in any script and without diacritics ("pozdrav" finds "Поздрав").
        wanted = normalize(q.strip())
        rows = [c for c in rows if wanted in normalize(c.title) or wanted in normalize(c.shortcut)]
    return rows


def for_ticket(svc: Services, language: str) -> list[Canned]:
    """What the reply box offers: the ticket's language first, then the others; the built-in
    starters while editors have written none."""
    rows = list_canned(svc)
    if not rows:
        return [Canned(None, str(title), key, "", str(text)) for key, title, text in BUILT_IN]
    return sorted(rows, key=lambda c: (c.language != language, c.language, c.title.lower()))


def fill(body: str, values: dict[str, str]) -> str:
    """Put the ticket's values into the placeholders; an unknown one is left as written."""
    filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)
    return re.sub(r"[ \t]+([,.!?])", r"\1", filled)  # "Poštovani ," when the name is unknown


def _validate(title: str, shortcut: str, language: str, body: str) -> tuple[str, str, str, str]:
    title, shortcut, body = " ".join(title.split()), shortcut.strip().lower(), body.strip()
    if not title or len(title) > 120:
        raise InvalidChange("title")
    if not _SHORTCUT.match(shortcut):
        raise InvalidChange("shortcut")
    if language not in CANNED_LANGUAGES:
        raise InvalidChange("language")
    if not body or len(body) > MAX_BODY:
        raise InvalidChange("body")
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(body)} - set(PLACEHOLDERS))
    if unknown:
        raise InvalidChange("placeholder")
    return title, shortcut, language, body


def save_canned(
    svc: Services,
    agent_id: int,
    canned_id: int | None,
    title: str,
    shortcut: str,
    language: str,
    body: str,
) -> int:
    """Create or change a canned response (audited); raises InvalidChange naming the bad field."""
    title, shortcut, language, body = _validate(title, shortcut, language, body)
    with unit_of_work(svc) as uow:
        s = uow.session
        same = select(CannedResponse.id).where(
            CannedResponse.language == language, CannedResponse.shortcut == shortcut
        )
        if canned_id is not None:
            same = same.where(CannedResponse.id != canned_id)
        clash = s.scalar(same)
        if clash is not None:
            raise InvalidChange("shortcut_taken")
        if canned_id is None:
            row = CannedResponse(title=title, shortcut=shortcut, language=language, body=body)
            s.add(row)
            before = None
        else:
            found = s.get(CannedResponse, canned_id)
            if found is None:
                raise InvalidChange("missing")
            row = found
            before = {"title": row.title, "shortcut": row.shortcut, "language": row.language}
            row.title, row.shortcut, row.language, row.body = title, shortcut, language, body
        row.updated_by = agent_id
        row.updated_at = uow.now
        s.flush()
        uow.audit(
            Actor.agent(agent_id),
            "canned.created" if before is None else "canned.changed",
            None,
            before,
            {"title": title, "shortcut": shortcut, "language": language},
            subject_id=row.id,
        )
        return row.id


def delete_canned(svc: Services, agent_id: int, canned_id: int) -> bool:
    with unit_of_work(svc) as uow:
        row = uow.session.get(CannedResponse, canned_id)
        if row is None:
            return False
        uow.audit(
            Actor.agent(agent_id),
            "canned.deleted",
            None,
            {"title": row.title, "shortcut": row.shortcut, "language": row.language, "body": row.body},
            None,
            subject_id=row.id,
        )
        uow.session.delete(row)
        return True
