"""The year's reference counter is taken as late as a new ticket's row allows (issue 14, helper
``paced250``): on PostgreSQL its row stays locked from the UPDATE to the COMMIT, so every other
transaction that opens a ticket waits that long. References stay without gaps and in commit order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import event, text

from helpdesk.name_index import name_owner_ids
from helpdesk.services import Services
from helpdesk.tickets import Identity, InboundMessage, ThreadHints, receive_inbound
from helpdesk.tickets.inbound import receive_inbound_many
from helpdesk.tickets.references import format_reference


def chat(hashed: str, text: str) -> InboundMessage:
    return InboundMessage(
        channel="chat",
        sender=Identity("chat", hashed),
        subject="",
        text=text,
        client_id=f"c-{hashed[:20]}",
        hints=ThreadHints(latest_on_channel=True),
        wants_acknowledgement=True,
    )


def email(sender: str) -> InboundMessage:
    return InboundMessage(
        channel="email",
        sender=Identity("email", sender),
        subject="Taksa",
        text="Ne mogu da platim taksu.",
        wants_acknowledgement=True,
    )


@contextmanager
def waited_for(svc: Services) -> Iterator[list[str]]:
    """The statements whose answer the writer waited for: on PostgreSQL those outside psycopg's
    pipeline (the rows sent with the COMMIT are not), on SQLite every one."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if getattr(conn.connection.dbapi_connection, "_pipeline", None) is None:
            seen.append(" ".join(sql.split()[:3]).upper())

    event.listen(svc.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", record)


def after_the_counter(seen: list[str]) -> list[str]:
    # PostgreSQL: the tickets' INSERT takes the numbers itself (WITH numbers AS (INSERT INTO
    # ticket_counters ... ON CONFLICT DO UPDATE ...) INSERT INTO tickets ...).
    taken = [i for i, sql in enumerate(seen) if sql.startswith(("UPDATE TICKET_COUNTERS", "WITH NUMBERS AS"))]
    assert len(taken) == 1, seen
    return seen[taken[0] + 1 :]


def test_only_the_new_tickets_and_their_messages_are_waited_for_after_the_counter(store: Services) -> None:
    """No read (the new-ticket checks, the assignee) and no acknowledgement row between the
    counter's UPDATE and the COMMIT: on PostgreSQL the acknowledgements go with the COMMIT, and
    so do the messages."""
    receive_inbound(store, email("prva@example.rs"))  # the year's counter row exists
    with waited_for(store) as lone:
        assert receive_inbound(store, email("druga@example.rs")).created
    with waited_for(store) as batch:
        results = receive_inbound_many(store, [chat(f"{n}" * 64, f"poruka {n}") for n in range(3)])
    assert all(r.created for r in results)
    for seen in (lone, batch):
        later = after_the_counter(seen)
        if store.db.dialect == "postgresql":
            # The tickets are inserted by the counter's own statement, and their messages (ids
            # reserved by it) go with the COMMIT: nothing is waited for while the row is held.
            assert later == [], later
        assert not [s for s in later if s.startswith("SELECT")], later
    with store.db.engine.connect() as conn:
        acks = conn.execute(text("SELECT count(*) FROM outbox WHERE kind = 'ack'")).scalar()
    assert acks == 5  # every new ticket's acknowledgement is still queued


def test_references_stay_without_gaps_and_in_commit_order_with_concurrent_writers(store: Services) -> None:
    """Writers open tickets at once, alone and in batches, while a reader checks that the
    committed references are always 1..n: a later commit never holds a smaller number, and no
    number is skipped."""
    receive_inbound(store, email("prva@example.rs"))
    writers, per_writer = 4, 6
    errors: list[BaseException] = []
    done = threading.Event()
    views: list[list[int]] = []

    def write(w: int) -> None:
        try:
            for n in range(per_writer):
                if n % 2:
                    receive_inbound(store, email(f"w{w}n{n}@example.rs"))
                else:
                    pair = [chat(f"{w}{n}{k}".ljust(64, "x"), "poruka") for k in range(2)]
                    receive_inbound_many(store, pair)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def read() -> None:
        while not done.is_set():
            with store.db.engine.connect() as conn:
                refs = conn.execute(text("SELECT reference FROM tickets")).scalars().all()
            views.append(sorted(int(r.rsplit("-", 1)[1]) for r in refs))

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()
    assert not errors, errors
    total = 1 + writers * (per_writer // 2) * (1 + 2)
    with store.db.engine.connect() as conn:
        refs = conn.execute(text("SELECT reference FROM tickets")).scalars().all()
    assert sorted(int(r.rsplit("-", 1)[1]) for r in refs) == list(range(1, total + 1))
    assert len(set(refs)) == total
    # never a gap, not even for a moment
    assert views and all(v == list(range(1, len(v) + 1)) for v in views)


def test_references_read_as_before_past_a_million_and_in_a_new_year(store: Services) -> None:
    """The numbers taken inside the tickets' INSERT (PostgreSQL) are formatted as
    ``format_reference`` does, past six digits too, and a year without a counter row gets one."""
    now = store.clock.now()
    first = receive_inbound(store, email("prva@example.rs"))  # the year's row made by the first ticket
    assert first.ticket_reference == format_reference(now.year, 1)
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE ticket_counters SET last = 999998"))
    lone = receive_inbound(store, email("druga@example.rs"))
    batch = receive_inbound_many(store, [chat(f"{n}" * 64, f"poruka {n}") for n in range(3)])
    assert [lone.ticket_reference] + [r.ticket_reference for r in batch] == [
        format_reference(now.year, n) for n in (999999, 1000000, 1000001, 1000002)
    ]
    assert format_reference(now.year, 1000000).endswith("-1000000")
    with store.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT reference FROM tickets ORDER BY id")).scalars().all()
        last = conn.execute(text("SELECT last FROM ticket_counters")).scalar()
    assert stored == [first.ticket_reference, lone.ticket_reference] + [r.ticket_reference for r in batch]
    assert last == 1000002


def test_a_new_senders_message_does_not_look_for_its_tickets(store: Services) -> None:
    """A contact made in the transaction has no ticket to continue: its message opens one
    without the thread lookup (a round trip fewer for every citizen's first chat message)."""
    receive_inbound(store, email("prva@example.rs"))
    with waited_for(store) as seen:
        result = receive_inbound(store, chat("a" * 64, "prva poruka"))
    assert result.created
    assert not [sql for sql in seen if sql.startswith("SELECT TICKETS.")], seen
    with waited_for(store) as again:  # the same citizen again: its ticket is found and continued
        later = receive_inbound(store, replace(chat("a" * 64, "druga poruka"), client_id="c-drugi"))
    assert not later.created and later.ticket_reference == result.ticket_reference
    assert [sql for sql in again if sql.startswith("SELECT TICKETS.")], again


def test_a_first_chat_message_waits_only_for_its_reads_and_the_numbered_insert(store: Services) -> None:
    """PostgreSQL: the new contact's identity and name index rows and the message's row go with
    the COMMIT (its id reserved by the ticket's INSERT); what is waited for is the contact lookup,
    the contact's INSERT, the new-ticket checks and the numbered ticket INSERT. Alone and in a
    batch; what is stored is the same as before (one contact found again by its identity and its
    name, the message numbered 1)."""
    receive_inbound(store, replace(email("prva@example.rs"), sender_name="Petar"))  # tables seen once
    named = replace(chat("n" * 64, "prva poruka"), sender_name="Milica Jovanović")
    with waited_for(store) as lone:
        first = receive_inbound(store, named)
    with waited_for(store) as batch:
        firsts = receive_inbound_many(store, [chat(f"{n}" * 64, f"poruka {n}") for n in range(3)])
    if store.db.dialect == "postgresql":
        for seen in (lone, batch):
            assert [s for s in seen if s.startswith("INSERT")] == ["INSERT INTO CONTACTS"], seen
            assert len(seen) == 4, seen  # contacts, new-ticket checks, the numbered INSERT
    later = receive_inbound(store, replace(named, client_id="c-drugi", text="druga poruka"))
    assert (later.created, later.ticket_reference, later.seq) == (False, first.ticket_reference, 2)
    with store.db.engine.connect() as conn:
        contacts = conn.execute(
            text("SELECT count(*) FROM contact_identities WHERE kind = 'chat' AND value = :v"),
            {"v": "n" * 64},
        ).scalar()
        messages = conn.execute(
            text("SELECT id, seq FROM messages WHERE ticket_id = :t ORDER BY seq"), {"t": first.ticket_id}
        ).all()
    assert contacts == 1
    assert [(m.id, m.seq) for m in messages] == [(first.message_id, 1), (later.message_id, 2)]
    assert all(r.created and r.seq == 1 for r in firsts)
    with store.db.engine.connect() as conn:
        assert name_owner_ids(conn, "Jovanović")  # the name index row went with the COMMIT


def test_two_first_messages_of_one_new_sender_in_one_transaction_open_one_ticket(store: Services) -> None:
    """The identity row of a contact made in the transaction waits for the COMMIT; a second
    message of the same sender in that transaction still finds the contact (and its ticket)."""
    same = "s" * 64
    results = receive_inbound_many(
        store, [chat(same, "prva"), replace(chat(same, "druga"), client_id="c-druga")]
    )
    assert [(r.created, r.seq, r.duplicate) for r in results] == [(True, 1, False), (False, 2, False)]
    assert results[0].ticket_reference == results[1].ticket_reference
    with store.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 1
