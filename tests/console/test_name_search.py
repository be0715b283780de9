"""The console finds a citizen by name through the contact-name index (helpdesk.name_index), in
either script, with or without diacritics, among all contacts; erasure takes the name out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, text

from helpdesk import create_app
from helpdesk.cli import cli
from helpdesk.models import Contact, Ticket
from helpdesk.name_index import build_name_index, name_owner_ids
from helpdesk.privacy.erasure import erase_contact
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, merge_contacts, receive_inbound
from tests.conftest import login


def inbound(svc: Services, email: str, name: str, subject: str = "Pitanje") -> str:
    message = InboundMessage(
        channel="email",
        sender=Identity("email", email),
        sender_name=name,
        subject=subject,
        text="Molim odgovor.",
    )
    return receive_inbound(svc, message).ticket_reference


def contact_of(svc: Services, reference: str) -> int:
    with svc.db.session() as s:
        return s.scalar(select(Ticket.contact_id).where(Ticket.reference == reference)) or 0


@pytest.fixture
def web(store: Services) -> Any:
    client = create_app(store.settings, services=store).test_client()
    login(client, store, "supervisor")
    return client


def search(web: Any, q: str, **extra: str) -> list[str]:
    response = web.get("/console", query_string={"q": q, "status": "", **extra})
    assert response.status_code == 200
    return re.findall(r'data-reference="([^"]+)"', response.get_data(as_text=True))


def test_names_across_scripts_and_ages_erased_and_merged(
    web: Any, store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    cyrillic = inbound(store, "pj@example.rs", "Петар Јовић")
    latin = inbound(store, "ds@example.rs", "Đorđe Stanković")
    # Both are now far older than the newest 20,000 contacts the search used to look among:
    # a later contact's id jumps past that window instead of inserting 20,000 rows.
    with store.db.transaction() as s:
        s.add(Contact(id=contact_of(store, latin) + 50_000, name="Mila Ilić"))

    assert search(web, "petar jovic") == [cyrillic]  # Cyrillic found by Latin without diacritics
    assert search(web, "Petar Jović") == [cyrillic]
    assert search(web, "ђорђе станковић") == [latin]  # Latin found by Cyrillic
    assert search(web, "djordje stankovic") == [latin]  # ... and without diacritics
    assert search(web, "Станковића") == [latin]  # a case ending
    assert search(web, "jovic petar") == [cyrillic]  # word order does not matter
    assert search(web, "petar stankovic") == []  # every word must match the same name

    # The index is what answers (not a scan): the old contact is found among all contacts.
    with store.db.session() as s:
        assert name_owner_ids(s.connection(), "stankovic") == [contact_of(store, latin)]

    gone = inbound(store, "vesna@example.rs", "Весна Марковић")
    kept = inbound(store, "vm@example.rs", "Vesna Marić")
    source = inbound(store, "nikola@example.rs", "Nikola Tesla")
    target = inbound(store, "nt@example.rs", "Никола Т.")
    assert search(web, "vesna") == [kept, gone]
    monkeypatch.setattr("helpdesk.console.listing.PER_PAGE", 1)  # the rank order holds across pages
    assert search(web, "vesna", page="2") == [gone]
    monkeypatch.undo()

    erase_contact(store, contact_of(store, gone), None, "Zahtev 7/2026")
    assert search(web, "vesna markovic") == []  # an erased contact is not found by its former name
    assert search(web, "vesna") == [kept]
    with store.db.session() as s:
        conn = s.connection()
        table, key = (
            ("contact_name_docs", "contact_id")
            if conn.dialect.name == "postgresql"
            else ("contact_name_fts", "rowid")
        )
        row = text(f"SELECT count(*) FROM {table} WHERE {key} = :c")  # noqa: S608 - constants
        assert conn.execute(row, {"c": contact_of(store, gone)}).scalar() == 0  # the row is gone
        assert conn.execute(row, {"c": contact_of(store, kept)}).scalar() == 1
        if conn.dialect.name == "postgresql":  # nor its entry in the dictionary of names
            left = text("SELECT doc FROM contact_name_dict WHERE doc LIKE 'vesna%'")
            assert list(conn.execute(left).scalars()) == ["vesna maric"]

    # A merged contact's name finds its tickets, which now belong to the target.
    merge_contacts(store, contact_of(store, source), contact_of(store, target), Actor.system("test"))
    assert sorted(search(web, "tesla")) == sorted([source, target])


def test_the_migration_builds_the_index_from_existing_contacts(store: Services) -> None:
    names = ["Ana Perić", "Ана Перић", "John Smith", "Ivana Đurić", "Ana Jović"]
    for i, name in enumerate(names):
        inbound(store, f"c{i}@example.rs", name)
    with store.db.transaction() as s:
        conn = s.connection()
        table = "contact_name_docs" if conn.dialect.name == "postgresql" else "contact_name_fts"
        conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - constant
        assert name_owner_ids(conn, "peric") == []
        s.add(Contact(name=None))  # no name: no row
        s.flush()
        assert build_name_index(conn, batch=2) == len(names)  # several ranges of ids
        ids = {n: c for c, n in s.execute(select(Contact.id, Contact.name))}
        assert sorted(name_owner_ids(conn, "ana peric")) == sorted([ids["Ana Perić"], ids["Ана Перић"]])
        assert name_owner_ids(conn, "djuric") == [ids["Ivana Đurić"]]
        assert name_owner_ids(conn, "smith") == [ids["John Smith"]]
        # Two dictionary entries ("ana peric", "ana jovic"): their contacts merged newest first.
        assert name_owner_ids(conn, "ana") == [ids["Ana Jović"], ids["Ана Перић"], ids["Ana Perić"]]
        assert name_owner_ids(conn, "zakazivanje") == []  # a word in no name
        # A rename through the ORM: the flush hook moves the contact to its new name.
        s.get_one(Contact, ids["John Smith"]).name = "Џон Смит"
        s.flush()
        assert name_owner_ids(conn, "smith") == []
        assert name_owner_ids(conn, "dzon smit") == [ids["John Smith"]]
        if conn.dialect.name == "postgresql":  # the old name's dictionary entry went with it
            assert (
                conn.execute(text("SELECT count(*) FROM contact_name_dict WHERE doc = 'john smith'")).scalar()
                == 0
            )


def test_reindex_names_command_rebuilds_the_index_after_a_manual_fix(web: Any, store: Services) -> None:
    """IT fixes a name with SQL (or restores an old dump): the index still has the old name until
    `helpdesk kb reindex-names` rebuilds it from the contacts."""
    fixed = inbound(store, "mm@example.rs", "Милан Мирић")
    other = inbound(store, "ap@example.rs", "Ana Perić")
    with store.db.transaction() as s:
        rename = text("UPDATE contacts SET name = 'Milena Mirić' WHERE id = :c")
        s.execute(rename, {"c": contact_of(store, fixed)})
    assert search(web, "milena") == []  # plain SQL bypasses the index
    assert search(web, "milan miric") == [fixed]

    info = ScriptInfo(create_app=lambda: create_app(store.settings, services=store))
    result = CliRunner().invoke(cli, ["kb", "reindex-names"], obj=info, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output == "indexed 2 contact names\n"
    assert search(web, "Милена Мирић") == [fixed]  # found by the name it has now, either script
    assert search(web, "milan") == []  # ... and no longer by the old one
    assert search(web, "peric") == [other]


def test_every_prefix_of_a_name_finds_it_in_either_script(store: Services) -> None:
    """An agent types part of a name: any prefix of either word, in Cyrillic, in Latin or in
    Latin without diacritics, finds the citizen (SQLite answers a prefix with or without a
    prefix index of that length; PostgreSQL with the dictionary's GIN)."""
    contact = contact_of(store, inbound(store, "dj@example.rs", "Ђорђе Šćepanović"))
    inbound(store, "x@example.rs", "Ana Perić")  # another name, which none of these may find
    spellings = ["Ђорђе Шћепановић", "Đorđe Šćepanović", "Djordje Scepanovic"]
    with store.db.session() as s:
        conn = s.connection()
        for spelling in spellings:
            for word in spelling.split():
                for end in range(1, len(word) + 1):
                    assert name_owner_ids(conn, word[:end]) == [contact], word[:end]
        assert name_owner_ids(conn, "Ђорђе Шћепановићка") == []  # longer than the name: no match
