"""What the console's search box finds: a reference, a citizen's email, phone or name, or words.

Each kind of match is asked separately and the ids are kept in rank order: an identity (email or
phone) or a reference is what the agent was looking for, so it comes first; then contact names;
then the full-text search over subjects and messages (``helpdesk.ticket_search``, bm25 /
ts_rank), which already folds Cyrillic, Latin and missing diacritics. The caller narrows the ids
by the agent's access and filters, so nothing here decides who sees what.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.models import Contact, ContactIdentity, Ticket
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import InvalidChange, normalize_phone
from triage.text import to_cyrillic, to_latin

MAX_RESULTS = 500  # ranked ids one search considers; far more than an agent pages through
MAX_QUERY = 200
NAME_WINDOW = 20_000  # newest contacts a name is looked for among (see _name_ids)
_PHONE = re.compile(r"^\+?[\d\s\-/().]{6,20}$")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tickets_of(contacts: Select[Any]) -> Select[Any]:
    return (
        select(Ticket.id)
        .where(Ticket.contact_id.in_(contacts))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(MAX_RESULTS)
    )


def _starting_with(kind: str, prefix: str) -> Select[Any]:
    """Contacts with an identity of `kind` that starts with `prefix`: a range on the unique
    (kind, value) index (LIKE 'x%' would not use it on SQLite), LIKE kept for exactness."""
    return select(ContactIdentity.contact_id).where(
        ContactIdentity.kind == kind,
        ContactIdentity.value >= prefix,
        ContactIdentity.value < prefix + "\uffff",
        ContactIdentity.value.like(f"{_escape_like(prefix)}%", escape="\\"),
    )


def _identity_ids(session: Session, q: str) -> list[int]:
    """An email or phone number, whole or its beginning: index lookups, never a scan of every
    identity (a million contacts made the old substring match cost 0.3-0.5 s a search)."""
    if "@" in q:
        return list(session.scalars(_tickets_of(_starting_with("email", q.lower()))))
    if _PHONE.match(q) and sum(ch.isdigit() for ch in q) >= 6:
        try:
            number = normalize_phone(q)
        except InvalidChange:
            number = ""
        if number:
            exact = select(ContactIdentity.contact_id).where(
                ContactIdentity.kind == "phone", ContactIdentity.value == number
            )
            found = list(session.scalars(_tickets_of(exact)))
            if found:
                return found
        # The beginning of a number, as typed: "+381 64 12", "064 12", "00381 64 12".
        digits = "".join(ch for ch in q if ch.isdigit())
        if q.lstrip().startswith("+"):
            prefix = "+" + digits
        elif digits.startswith("00"):
            prefix = "+" + digits[2:]
        else:
            prefix = "+381" + digits.lstrip("0")
        return list(session.scalars(_tickets_of(_starting_with("phone", prefix))))
    return []


_UNFOLD = {"c": ("c", "ć", "č"), "s": ("s", "š"), "z": ("z", "ž")}
MAX_UNFOLDED = 3  # letters with diacritic twins expanded per query (at most 27 spellings)


def _unfolded(q: str) -> set[str]:
    """The spellings a name typed without diacritics may have ("jovic" -> "jović", "jovič"...)."""
    q = q.lower()
    if sum(ch in _UNFOLD for ch in q) > MAX_UNFOLDED:
        return {q}
    spellings = [""]
    i = 0
    while i < len(q):
        if q.startswith("dj", i):
            options: tuple[str, ...] = ("dj", "đ")
            i += 2
        else:
            options = _UNFOLD.get(q[i], (q[i],))
            i += 1
        spellings = [s + o for s in spellings for o in options]
    return set(spellings)


def _name_ids(session: Session, q: str) -> list[int]:
    """Contact names as typed, without diacritics, and in the other script ("petar jovic" finds
    "Петар Јовић")."""
    if len(q) < 2 or q.isdigit():
        return []
    # SQLite folds case for ASCII only: ask for the spellings as a name is written too.
    cased = {q} | {v for u in _unfolded(q) for v in (u, u.title())}
    variants = cased | {to_cyrillic(v) for v in cased} | {to_latin(v) for v in cased}
    # The newest NAME_WINDOW contacts only: the match is a scan (one ILIKE per spelling, up to
    # ~100 spellings), which took 2.6 s to a statement timeout over a million contacts. Older
    # citizens are still found by email, phone, reference or the words they wrote.
    newest = select(func.max(Contact.id)).scalar_subquery()
    contacts = select(Contact.id).where(
        Contact.id > newest - NAME_WINDOW,
        or_(*(Contact.name.ilike(f"%{_escape_like(v)}%", escape="\\") for v in variants)),
    )
    return list(session.scalars(_tickets_of(contacts)))


def ranked_ticket_ids(session: Session, q: str) -> list[int]:
    """Ticket ids matching the query, the best first (merged tickets included; callers filter)."""
    q = " ".join(q.split())[:MAX_QUERY]
    if not q:
        return []
    found = _identity_ids(session, q)
    found += search_ticket_ids(session, q, limit=MAX_RESULTS)  # reference first, then text rank
    if "@" not in q and not any(ch.isdigit() for ch in q):
        # Names hold no digits and no @; the name match scans every contact (seconds at a
        # million), so an email, a phone number or a reference does not pay for it.
        found += _name_ids(session, q)
    return list(dict.fromkeys(found))[:MAX_RESULTS]
