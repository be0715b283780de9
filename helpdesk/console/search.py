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

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from helpdesk.models import Contact, ContactIdentity, Ticket
from helpdesk.name_index import name_owner_ids, names_available, newest_tickets
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import InvalidChange, normalize_phone

MAX_RESULTS = 500  # ranked ids one search considers; far more than an agent pages through
MAX_QUERY = 200
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


def _name_ids(session: Session, q: str) -> list[int]:
    """Tickets of the contacts whose name holds the query's words, newest first: a full-text
    index of normalized names (``helpdesk.name_index``), so "petar jovic" finds "Петар Јовић"
    among every contact, not a scan of the newest few."""
    if len(q) < 2 or q.isdigit():
        return []
    conn = session.connection()
    if not names_available(conn):
        return _name_scan(session, q)
    return newest_tickets(conn, name_owner_ids(conn, q), MAX_RESULTS)


def _name_scan(session: Session, q: str) -> list[int]:
    """Without the index (a create_all() database): a case-insensitive substring of the name."""
    contacts = select(Contact.id).where(Contact.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    return list(session.scalars(_tickets_of(contacts)))


def ranked_ticket_ids(session: Session, q: str) -> list[int]:
    """Ticket ids matching the query, the best first (merged tickets included; callers filter)."""
    q = " ".join(q.split())[:MAX_QUERY]
    if not q:
        return []
    found = _identity_ids(session, q)
    found += search_ticket_ids(session, q, limit=MAX_RESULTS)  # reference first, then text rank
    if "@" not in q and not any(ch.isdigit() for ch in q):
        # Names hold no digits and no @: an email, a phone number or a reference skips them.
        found += _name_ids(session, q)
    return list(dict.fromkeys(found))[:MAX_RESULTS]
