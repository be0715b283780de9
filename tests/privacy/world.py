"""What the retention and erasure tests share: demo data on a data dir of its own, citizens who
wrote with attachments, raw mail and JMBGs, and a scan of every byte the office keeps."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from helpdesk import create_app
from helpdesk.cli.metrics import weekly
from helpdesk.demo import ensure_base, generate
from helpdesk.models import Agent, Contact, ContactIdentity, Message, Ticket
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import (
    AttachmentIn,
    Identity,
    InboundMessage,
    receive_inbound,
    reply_to_ticket,
    set_status,
)
from helpdesk.tickets.types import Actor
from tests.conftest import make_services, make_settings

VALID_JMBG = "0101990710008"


def demo_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The database inside the data dir, so a scan of the data dir covers it too."""
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    return make_settings(tmp_path, f"sqlite:///{data / 'helpdesk.db'}", **overrides)


def demo_world(settings: Settings, tickets: int = 30) -> tuple[Services, Any]:
    svc = make_services(settings)
    app = create_app(settings, services=svc)
    ensure_base(svc)
    generate(svc, tickets, weeks=6, seed=16)
    return svc, app


def citizen_writes(svc: Services, email: str, name: str, address: str, attachment: bytes) -> str:
    """An email with an attachment, its raw .eml, a JMBG and a street address; answered."""
    raw = f"From: {name} <{email}>\r\nSubject: Adresa\r\n\r\n{address}\r\n".encode()
    result = receive_inbound(
        svc,
        InboundMessage(
            "email",
            Identity("email", email),
            f"Promena adrese {name}",
            f"Moja nova adresa je {address}, JMBG {VALID_JMBG}.",
            sender_name=name,
            html=f"<p>Moja nova adresa je {address}</p>",
            attachments=(AttachmentIn("licna-karta.pdf", "application/pdf", attachment),),
            raw=raw,
            meta={"from": f"{name} <{email}>"},
        ),
    )
    reply_to_ticket(svc, result.ticket_reference, Actor.system("test"), f"Poštovani {name}, primili smo.")
    return result.ticket_reference


def close_everything(svc: Services) -> None:
    with svc.db.session() as s:
        refs = s.scalars(select(Ticket.reference).where(Ticket.status.not_in(("resolved", "closed")))).all()
    for ref in refs:
        set_status(svc, ref, Actor.system("test"), "closed")


def weekly_json(app: Any) -> Any:
    result = app.test_cli_runner().invoke(weekly, ["--format", "json", "--from", "2026-W38"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def personal_needles(svc: Services, contact_ids: Iterable[int] | None = None) -> set[str]:
    """The contacts' names, emails, phones and chat ids and what they wrote (inbound texts).

    Staff names are left out: the demo's agents share first and last names with its citizens
    ("Ana Nikolić"), and an agent's own name is not a citizen's data."""
    with svc.db.session() as s:
        staff = set(s.scalars(select(Agent.name)))
        contacts = select(Contact.id)
        if contact_ids is not None:
            contacts = contacts.where(Contact.id.in_(list(contact_ids)))
        ids = list(s.scalars(contacts))
        names = set(s.scalars(select(Contact.name).where(Contact.id.in_(ids)))) - staff - {None}
        values = set(s.scalars(select(ContactIdentity.value).where(ContactIdentity.contact_id.in_(ids))))
        texts = {
            t
            for t in s.scalars(
                select(Message.text).where(Message.contact_id.in_(ids), Message.direction == "inbound")
            )
            if len(t) >= 20
        }
    return names | values | texts


def scan(data_dir: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in any file under the data dir (the database too)."""
    found = []
    encoded = [(n, n.encode()) for n in needles]
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [(str(path.relative_to(data_dir)), n) for n, b in encoded if b in data]
    return found


def search_rows(svc: Services, ticket_ids: Iterable[int]) -> int:
    """Rows the full-text index (SQLite FTS5) holds for these tickets, content table included."""
    with svc.db.session() as s:
        return sum(
            s.execute(text("SELECT count(*) FROM ticket_fts WHERE ticket_id = :t"), {"t": t}).scalar_one()
            for t in ticket_ids
        )
