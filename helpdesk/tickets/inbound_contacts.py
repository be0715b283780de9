"""The contacts one inbound write finds, makes or fills in, with SQLAlchemy Core (issue 14;
the rest of its rows: ``inbound_rows``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from helpdesk import db
from helpdesk.models import Contact, ContactIdentity
from helpdesk.name_index import new_contact_names, write_names
from helpdesk.tickets.types import Identity

CONTACTS = cast(Table, Contact.__table__)
IDENTITIES = cast(Table, ContactIdentity.__table__)
MERGE_HOPS = 20  # a merge chain longer than this is a loop left by a bug; stop following it

_CONTACT_COLUMNS = (
    CONTACTS.c.id,
    CONTACTS.c.name,
    CONTACTS.c.language,
    CONTACTS.c.script,
    CONTACTS.c.merged_into_id,
)
CONTACT_BY_IDENTITY = (
    select(*_CONTACT_COLUMNS)
    .join(IDENTITIES, IDENTITIES.c.contact_id == CONTACTS.c.id)
    .where(IDENTITIES.c.kind == bindparam("kind"), IDENTITIES.c.value == bindparam("value"))
)
CONTACT_BY_ID = select(*_CONTACT_COLUMNS).where(CONTACTS.c.id == bindparam("contact_id"))
INSERT_CONTACT = insert(CONTACTS)
INSERT_IDENTITY = insert(IDENTITIES)
INSERT_IDENTITY_ROW = insert(IDENTITIES).inline()  # no RETURNING: may go with the COMMIT


@dataclass
class ContactRow:
    id: int
    name: str | None
    language: str | None
    script: str | None


def find_contact(conn: Connection, identity: Identity) -> ContactRow | None:
    """The contact owning a (normalized) identity, following contact merges."""
    row = db.first(conn, CONTACT_BY_IDENTITY, {"kind": identity.kind, "value": identity.value})
    for _ in range(MERGE_HOPS):
        if row is None or row[4] is None:  # merged_into_id
            break
        row = db.first(conn, CONTACT_BY_ID, {"contact_id": row[4]})
    if row is None:
        return None
    return ContactRow(row[0], row[1], row[2], row[3])


def create_contact(
    conn: Connection,
    identity: Identity,
    name: str | None,
    language: str | None,
    script: str | None,
    now: datetime,
    later: list[Callable[[Connection], None]] | None = None,
) -> ContactRow:
    """A new contact with its identity (its rows: ``write_identities``)."""
    contact_id = db.insert_id(
        conn, INSERT_CONTACT, {"name": name, "language": language, "script": script, "created_at": now}
    )
    row = {"contact_id": contact_id, "kind": identity.kind, "value": identity.value, "created_at": now}
    write_identities(conn, [row], [(contact_id, name)] if name else [], later)
    return ContactRow(contact_id, name, language, script)


def write_identities(
    conn: Connection,
    identities: list[dict[str, Any]],
    names: list[tuple[int, str | None]],
    later: list[Callable[[Connection], None]] | None,
) -> None:
    """New contacts' identity rows and name index entries. With ``later`` (the unit of work's
    ``at_commit``) they are sent with the COMMIT, not waited for: nothing in the transaction reads
    them back; two writers making the same identity still collide, at the COMMIT, and the write
    is retried with the duplicate checks, which pass no ``later``."""
    if later is None:
        db.run_many(conn, INSERT_IDENTITY, identities)
        write_names(conn, names)
        return
    later.append(lambda c: db.run_many(c, INSERT_IDENTITY_ROW, identities))
    named = new_contact_names(conn, names)
    if named is not None:
        later.append(named)


def add_identity(conn: Connection, contact_id: int, identity: Identity, now: datetime) -> None:
    db.run(
        conn,
        INSERT_IDENTITY,
        {"contact_id": contact_id, "kind": identity.kind, "value": identity.value, "created_at": now},
    )


def fill_contact(
    conn: Connection,
    contact: ContactRow,
    name: str | None,
    language: str | None,
    script: str | None,
) -> None:
    """Fill what the contact lacks (never overwrite): one UPDATE, only when something changes."""
    values: dict[str, Any] = {}
    if name and not contact.name:
        values["name"] = contact.name = name
    if language and not contact.language:
        values["language"] = contact.language = language
    if script and not contact.script:
        values["script"] = contact.script = script
    if values:
        conn.execute(update(CONTACTS).where(CONTACTS.c.id == contact.id).values(**values))
        if "name" in values:
            write_names(conn, [(contact.id, name)])
