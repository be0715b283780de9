"""Accommodations: what a contact needs from us, chosen by the citizen or set by an agent.

Shown at the top of every ticket of the contact. A contact merged into another keeps its rows;
readers follow the merge (``of_contact`` gathers the contact's and those merged into it), so no
merge code has to know about this table.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from helpdesk.models import Contact, ContactAccommodation
from helpdesk.services import Services
from helpdesk.tickets import Actor, InvalidChange
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

# key -> the words agents and citizens see (in the order they are shown).
KINDS = {
    "phone_call": _l("Prefers a phone call"),
    "screen_reader": _l("Uses a screen reader"),
    "plain_language": _l("Needs plain language"),
    "sign_language": _l("Needs a sign-language interpreter"),
    "hard_of_hearing": _l("Hard of hearing: prefers writing"),
    "cyrillic": _l("Prefers Cyrillic"),
}


def clean(kinds: Iterable[str]) -> list[str]:
    """The known kinds among ``kinds``, in display order (unknown ones are dropped, not errors:
    a form posted from an older page must still go through)."""
    wanted = set(kinds)
    return [k for k in KINDS if k in wanted]


def _merged_ids(session: Session, contact_id: int) -> list[int]:
    ids, frontier = [contact_id], [contact_id]
    while frontier:  # contacts merged into this one (and into those): a short chain in practice
        frontier = list(session.scalars(select(Contact.id).where(Contact.merged_into_id.in_(frontier))))
        ids += frontier
    return ids


def of_contact(session: Session, contact_id: int) -> list[str]:
    rows = session.scalars(
        select(ContactAccommodation.kind).where(
            ContactAccommodation.contact_id.in_(_merged_ids(session, contact_id))
        )
    )
    return clean(rows)


def add_in(uow: UnitOfWork, contact_id: int, kinds: Iterable[str], actor: Actor) -> list[str]:
    """Add kinds (the citizen's choice on a form) inside a unit of work; audited when it changes."""
    before = of_contact(uow.session, contact_id)
    added = [k for k in clean(kinds) if k not in before]
    for kind in added:
        uow.session.add(
            ContactAccommodation(contact_id=contact_id, kind=kind, set_by=actor.kind, created_at=uow.now)
        )
    if added:
        after = clean([*before, *added])
        uow.audit(
            actor,
            "contact.accommodations",
            None,
            {"accommodations": before},
            {"accommodations": after},
            subject_id=contact_id,
        )
        return after
    return before


def set_accommodations(svc: Services, contact_id: int, kinds: Iterable[str], actor: Actor) -> list[str]:
    """Replace the contact's accommodations (an agent's edit in the console); audited."""
    wanted = clean(kinds)
    with unit_of_work(svc) as uow:
        s = uow.session
        contact = s.get(Contact, contact_id)
        if contact is None:
            raise InvalidChange("no such contact")
        ids = _merged_ids(s, contact_id)
        before = of_contact(s, contact_id)
        if before == wanted:
            return before
        # Rows that stay keep who chose them (the citizen's own choice stays the citizen's).
        s.execute(
            delete(ContactAccommodation).where(
                ContactAccommodation.contact_id.in_(ids), ContactAccommodation.kind.not_in(wanted)
            )
        )
        for kind in (k for k in wanted if k not in before):
            s.add(
                ContactAccommodation(contact_id=contact_id, kind=kind, set_by=actor.kind, created_at=uow.now)
            )
        uow.audit(
            actor,
            "contact.accommodations",
            None,
            {"accommodations": before},
            {"accommodations": wanted},
            subject_id=contact_id,
        )
        return wanted


def labels(kinds: Iterable[str]) -> list[tuple[str, str]]:
    return [(k, str(KINDS[k])) for k in clean(kinds)]


def add_accommodations(svc: Services, reference: str, kinds: Iterable[str]) -> list[str]:
    """The citizen's own choice on a form (no callback asked): added to the ticket's contact."""
    from helpdesk.tickets import get_ticket

    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference)
        return add_in(uow, ticket.contact_id, kinds, Actor.contact(ticket.contact_id))
