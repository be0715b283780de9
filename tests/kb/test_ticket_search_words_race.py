"""PostgreSQL's table of search words under two writers at once (migration 0033).

A word leaves ``ticket_search_words`` when the last row holding it goes, and a word search looks
an old ticket up through that table only (a word in no row skips the older-matches pass). Under
READ COMMITTED, a transaction removing the last row with a word and one adding a new row with it
must not both miss the other: that left the word out of the table while a row held it, and the
old ticket was never found again. Each interleaving is driven for real on two connections: a
step that has to wait for the other transaction is seen waiting (pg_stat_activity), and the test
then goes on with the other one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

from helpdesk.models import Ticket
from helpdesk.services import Services
from helpdesk.ticket_index import row_key, write_rows
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import Identity, InboundMessage, receive_inbound


class Writer:
    """One connection in a thread of its own, so that a step may wait on the other's locks."""

    def __init__(self, svc: Services) -> None:
        self.conn = svc.db.engine.connect()
        self.pid = int(self.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        self.conn.rollback()
        self._steps: queue.Queue[tuple[Callable[[Connection], Any], queue.Queue[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._steps.get()) is not None:
            step, done = item
            try:
                done.put((True, step(self.conn)))
            except Exception as exc:  # noqa: BLE001 - handed to the test's thread
                done.put((False, exc))

    def start(self, step: Callable[[Connection], Any]) -> queue.Queue[Any]:
        done: queue.Queue[Any] = queue.Queue()
        self._steps.put((step, done))
        return done

    def close(self) -> None:
        self._steps.put(None)
        self._thread.join()
        self.conn.close()


def finished_or_waiting(writer: Writer, done: queue.Queue[Any], watcher: Connection) -> bool:
    """True when the step finished, False when it waits on a lock (the other writer's)."""
    for _ in range(3000):  # a bound, so that a mistake fails the test instead of hanging it
        if not done.empty():
            return True
        waiting = watcher.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p"), {"p": writer.pid}
        ).scalar()
        watcher.rollback()
        if waiting:
            return False
        time.sleep(0.01)
    raise AssertionError("the step neither finished nor waited on a lock")


def result(done: queue.Queue[Any]) -> Any:
    ok, value = done.get(timeout=30)
    if not ok:
        raise value
    return value


@pytest.fixture
def pg_store(store: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    if store.db.dialect != "postgresql":
        pytest.skip("SQLite's FTS5 has prefix indexes; the table of words is PostgreSQL's")
    import helpdesk.ticket_search as ticket_search

    monkeypatch.setattr(ticket_search, "RECENT_TICKETS", 1)  # only the newest ticket is "recent"
    return store


@pytest.fixture
def writers(pg_store: Services) -> Iterator[tuple[Writer, Writer, Connection]]:
    one, two = Writer(pg_store), Writer(pg_store)
    watcher = pg_store.db.engine.connect()
    yield one, two, watcher
    for writer in (one, two):
        writer.close()
    watcher.close()


def open_ticket(svc: Services, sender: str, body: str) -> int:
    result = receive_inbound(svc, InboundMessage("email", Identity("email", sender), "Pitanje", body))
    with svc.db.session() as s:
        return int(s.scalars(select(Ticket.id).where(Ticket.reference == result.ticket_reference)).one())


def three_tickets(svc: Services) -> tuple[int, int]:
    """The only ticket with the citizen's name, an old ticket without it, and a newer one."""
    named = open_ticket(svc, "z@example.rs", "Ja sam Milorad Zrnić iz Kuršumlije.")
    other = open_ticket(svc, "v@example.rs", "Ja sam iz Kraljeva.")
    open_ticket(svc, "n@example.rs", "Dobar dan.")
    return named, other


def remove_rows_of(ticket_id: int) -> Callable[[Connection], None]:
    """The rows of a ticket deleted (as erasure and merges do), not yet committed."""

    def step(conn: Connection) -> None:
        conn.execute(
            text("DELETE FROM ticket_search_docs WHERE key >= :lo AND key < :hi"),
            {"lo": row_key(ticket_id), "hi": row_key(ticket_id + 1)},
        )

    return step


def note_on(ticket_id: int, body: str) -> Callable[[Connection], None]:
    """A new message row on a ticket, written as the flush hook and the inbound path write it."""

    def step(conn: Connection) -> None:
        write_rows(conn, [(row_key(ticket_id, 7), ticket_id, body)])

    return step


def commit(conn: Connection) -> None:
    conn.commit()


def found(svc: Services, q: str) -> list[int]:
    with svc.db.session() as s:
        return search_ticket_ids(s, q)


def test_a_word_added_while_its_last_row_goes_stays_findable(pg_store: Services, writers: Any) -> None:
    # The new row comes first: the remover, not seeing it yet, must not take the word away.
    one, two, watcher = writers
    named, other = three_tickets(pg_store)
    result(two.start(note_on(other, "milorad zrnic je zvao ponovo")))  # not committed
    removing = one.start(lambda conn: (remove_rows_of(named)(conn), conn.commit()))
    if not finished_or_waiting(one, removing, watcher):
        result(two.start(commit))
        result(removing)
    else:
        result(removing)
        result(two.start(commit))
    assert found(pg_store, "Zrnić") == [other]
    assert found(pg_store, "milorad") == [other]


def test_a_word_removed_while_a_new_row_brings_it_stays_findable(pg_store: Services, writers: Any) -> None:
    # The removal comes first: the new row, written before it commits, must bring the word back.
    one, two, watcher = writers
    named, other = three_tickets(pg_store)
    result(one.start(remove_rows_of(named)))  # not committed
    adding = two.start(lambda conn: (note_on(other, "milorad zrnic je zvao ponovo")(conn), conn.commit()))
    if not finished_or_waiting(two, adding, watcher):
        result(one.start(commit))
        result(adding)
    else:
        result(adding)
        result(one.start(commit))
    assert found(pg_store, "Zrnić") == [other]
    assert found(pg_store, "milorad") == [other]


def test_the_last_rows_words_still_go_when_nobody_brings_them(pg_store: Services, writers: Any) -> None:
    # Both writers at once, but the new row holds other words: the removed words go as before.
    one, two, _ = writers
    named, other = three_tickets(pg_store)
    result(two.start(note_on(other, "hvala na odgovoru")))
    result(one.start(lambda conn: (remove_rows_of(named)(conn), conn.commit())))
    result(two.start(commit))
    with pg_store.db.session() as s:
        left = s.scalars(
            text("SELECT word FROM ticket_search_words WHERE word IN ('zrnic', 'milorad', 'hvala')")
        )
        assert set(left) == {"hvala"}
    assert found(pg_store, "Zrnić") == []
