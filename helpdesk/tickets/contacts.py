"""One citizen is one contact across channels: identities are normalized and unique."""

from __future__ import annotations

import re

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helpdesk import name_index  # noqa: F401 - registers the name index hook (ORM contacts)
from helpdesk.models import Contact, ContactIdentity, Message, Ticket
from helpdesk.tickets.types import Identity, InvalidChange

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
DEFAULT_REGION = "RS"  # a number written 064 123 4567 is Serbian


def normalize_identity(identity: Identity) -> Identity:
    """Lower-cased email, E.164 phone, chat tokens as given; raise InvalidChange when unusable."""
    value = identity.value.strip()
    if identity.kind == "email":
        value = value.lower()
        if not _EMAIL.match(value):
            raise InvalidChange("not an email address")
        return Identity("email", value)
    if identity.kind == "phone":
        return Identity("phone", normalize_phone(value))
    if identity.kind == "chat":
        if not value or len(value) > 128:
            raise InvalidChange("not a chat token")
        return Identity("chat", value)
    raise InvalidChange(f"unknown identity kind {identity.kind!r}")


def normalize_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidChange("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidChange("not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_contact(session: Session, identity: Identity) -> Contact | None:
    identity = normalize_identity(identity)
    contact = session.scalar(
        select(Contact)
        .join(ContactIdentity)
        .where(ContactIdentity.kind == identity.kind, ContactIdentity.value == identity.value)
    )
    while contact is not None and contact.merged_into_id is not None:
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def find_or_create_contact(
    session: Session, identity: Identity, name: str | None = None
) -> tuple[Contact, bool]:
    identity = normalize_identity(identity)
    contact = find_contact(session, identity)
    if contact is not None:
        if name and not contact.name:
            contact.name = name
        return contact, False
    contact = Contact(name=name)
    contact.identities.append(ContactIdentity(kind=identity.kind, value=identity.value))
    session.add(contact)
    session.flush()
    return contact, True


def add_identity(session: Session, contact: Contact, identity: Identity) -> bool:
    """Attach another identity (an email left in chat) unless it already belongs to someone."""
    identity = normalize_identity(identity)
    if find_contact(session, identity) is not None:
        return False
    session.add(ContactIdentity(contact_id=contact.id, kind=identity.kind, value=identity.value))
    return True


def move_contact(session: Session, source: Contact, target: Contact) -> None:
    """Give everything of ``source`` to ``target`` and leave a forwarding pointer behind."""
    if source.id == target.id:
        raise InvalidChange("a contact cannot be merged into itself")
    session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == source.id)
        .values(contact_id=target.id)
    )
    session.execute(
        update(Ticket).where(Ticket.contact_id == source.id).values(contact_id=target.id)
    )
    session.execute(
        update(Message).where(Message.contact_id == source.id).values(contact_id=target.id)
    )
    target.name = target.name or source.name
    target.language = target.language or source.language
    target.script = target.script or source.script
    source.merged_into_id = target.id
    session.expire(target, ["identities"])
