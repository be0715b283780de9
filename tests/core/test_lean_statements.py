"""The inbound write's statements on SQLite's own cursor (helpdesk.db.run / first / insert_id):
the same SQL and the same stored values as through SQLAlchemy, and SQLAlchemy's per-statement
machinery no longer run for them (issue 14: most of a new ticket's CPU went there)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from helpdesk import db, sqlite_cursor
from helpdesk.privacy.vault import Sealed
from helpdesk.services import Services
from helpdesk.tickets import (
    Identity,
    InboundMessage,
    ThreadHints,
    inbound_contacts,
    inbound_prepare,
    receive_inbound,
)
from helpdesk.tickets.inbound import receive_inbound_many
from tests.conftest import T0, make_services, make_settings

JMBG = "0101990710006"
TABLES = (
    "contacts",
    "contact_identities",
    "tickets",
    "messages",
    "sensitive_values",
    "audit_events",
    "outbox",
    "ticket_counters",
    "report_changes",
    "ticket_fts",
    "contact_name_fts",
)


def day_at_the_helpdesk(svc: Services) -> None:
    """New tickets (named, unnamed, with an acknowledgement, with a personal number sealed),
    a reply threaded by reference, a redelivery, a chat batch, a known sender's extra identity."""
    first = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "ana@example.rs"),
            sender_name="Ana Anić",
            subject="Taksa",
            text=f"Moj JMBG je {JMBG}, uplata nije prošla.",
            external_id="<m1@example.rs>",
            wants_acknowledgement=True,
            meta={"to": "pisarnica@example.rs"},
        ),
    )
    receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "ana@example.rs"),
            subject=f"Re: [{first.ticket_reference}] Taksa",
            text="Još uvek ništa.",
            external_id="<m2@example.rs>",
            hints=ThreadHints(ticket_reference=first.ticket_reference),
            extra_identities=(Identity("phone", "+381641234567"),),
        ),
    )
    again = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "ana@example.rs"),
            subject="Taksa",
            text=f"Moj JMBG je {JMBG}, uplata nije prošla.",
            external_id="<m1@example.rs>",
        ),
    )
    assert again.duplicate
    receive_inbound_many(
        svc,
        [
            InboundMessage(
                channel="chat",
                sender=Identity("chat", "h" * 64),
                subject="",
                text=f"poruka {n}",
                client_id=f"c{n}",
                hints=ThreadHints(latest_on_channel=True),
            )
            for n in range(3)
        ],
    )
    receive_inbound(
        svc, InboundMessage(channel="sms", sender=Identity("phone", "+381600000001"), subject="", text="Halo")
    )


@contextmanager
def sent(svc: Services) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, *args: Any) -> None:
        seen.append((sql, params))

    event.listen(svc.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", record)


def stored(svc: Services) -> dict[str, list[tuple[Any, ...]]]:
    with svc.db.engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY rowid"))] for t in TABLES
        }  # noqa: S608


def fixed_seal(settings: Any, text: str, html: Any, meta: Any, *also_in: Any) -> Sealed:
    """The vault's contract (the texts masked, the sealed numbers) without its random IV."""
    if JMBG not in text:
        return Sealed(text, html, dict(meta), [])
    return Sealed(text.replace(JMBG, "*" * len(JMBG)), html, dict(meta), [("jmbg", "sealed")])


def deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed reply tokens and ciphertexts, so two stores can be compared value for value."""
    tokens = iter(range(10**6))
    monkeypatch.setattr(secrets, "token_hex", lambda n=32: f"{next(tokens):0{2 * n}x}")
    monkeypatch.setattr(inbound_prepare, "seal_texts", fixed_seal)


def run_day(tmp_path: Path, name: str) -> tuple[list[tuple[str, Any]], dict[str, list[tuple[Any, ...]]]]:
    (tmp_path / name).mkdir()
    svc = make_services(make_settings(tmp_path / name))
    try:
        with sent(svc) as seen:
            day_at_the_helpdesk(svc)
        return [(sql, tuple(p) if isinstance(p, list | tuple) else p) for sql, p in seen], stored(svc)
    finally:
        svc.db.dispose()


def test_the_cursor_path_sends_and_stores_what_sqlalchemy_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deterministic(monkeypatch)
    fast_sql, fast_rows = run_day(tmp_path, "fast")
    with monkeypatch.context() as m:
        m.setattr(sqlite_cursor, "_lookup", lambda *args: None)  # every statement through SQLAlchemy
        deterministic(m)
        slow_sql, slow_rows = run_day(tmp_path, "slow")
    assert fast_rows == slow_rows
    assert fast_rows["sensitive_values"] and fast_rows["outbox"] and fast_rows["contact_name_fts"]
    assert [sql for sql, _ in fast_sql] == [sql for sql, _ in slow_sql]
    assert fast_sql == slow_sql


def test_a_new_ticket_runs_almost_no_statement_through_sqlalchemy(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def message(n: int) -> InboundMessage:
        return InboundMessage(
            channel="web",
            sender=Identity("email", f"gradjanin{n}@example.rs"),
            sender_name="Građanin",
            subject="Ne mogu da se prijavim",
            text="Lozinka ne radi posle resetovanja.",
        )

    receive_inbound(services, message(0))
    through_sqlalchemy: list[Any] = []
    real = Connection.execute

    def counting(self: Connection, statement: Any, *args: Any, **kw: Any) -> Any:
        through_sqlalchemy.append(statement)
        return real(self, statement, *args, **kw)

    monkeypatch.setattr(Connection, "execute", counting)
    with sent(services) as seen:
        result = receive_inbound(services, message(1))
    assert result.created
    assert len(seen) >= 11  # contact, identity, name, reference, checks, ticket, message, audit...
    # the report change log (helpdesk.metrics.changes) too: nothing left to SQLAlchemy
    assert through_sqlalchemy == []


def test_a_refused_row_raises_sqlalchemys_error_and_the_transaction_keeps_nothing(
    services: Services,
) -> None:
    """write_prepared retries on SQLAlchemy's IntegrityError (a redelivery racing the first
    delivery): a refusal on the cursor must arrive as that, and roll back with the rest."""
    receive_inbound(
        services,
        InboundMessage(channel="sms", sender=Identity("phone", "+381600000001"), subject="", text="a"),
    )
    with services.db.engine.connect() as conn:
        with pytest.raises(IntegrityError), conn.begin():
            contact = db.insert_id(conn, inbound_contacts.INSERT_CONTACT, {"name": "B", "created_at": T0})
            db.run(  # the identity belongs to the first contact already
                conn,
                inbound_contacts.INSERT_IDENTITY,
                {"contact_id": contact, "kind": "phone", "value": "+381600000001", "created_at": T0},
            )
        assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 1


def test_an_instants_text_is_remembered_only_in_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from helpdesk.tickets.serialize import iso

    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert iso(at) == iso(at) == "2026-12-01T10:00:00Z"
    # the same instant in another zone keeps its own offset, not the remembered UTC text
    assert iso(at.astimezone(timezone(timedelta(hours=1)))) == "2026-12-01T11:00:00+01:00"
    assert iso(None) is None


def test_sealing_plain_values_masks_them_and_keeps_them_when_no_number(services: Services) -> None:
    from helpdesk.privacy.vault import seal_texts

    meta = {"to": "pisarnica@example.rs"}
    plain = seal_texts(services.settings, "Halo", None, meta, "Taksa")
    assert (plain.text, plain.html, plain.meta, plain.sealed) == ("Halo", None, meta, [])
    assert plain.meta is not meta  # a copy: the caller's message is never changed
    valid = "0101990710008"  # passes the checksum (the fixed seal above takes any 13 digits)
    found = seal_texts(services.settings, f"JMBG {valid}", None, {"subject": valid}, None)
    assert valid not in (found.text or "") and valid not in found.meta["subject"]
    assert [kind for kind, _ in found.sealed] == ["jmbg"]
