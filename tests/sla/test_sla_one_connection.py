"""Opening a ticket holds one database connection: the SLA policy's stored settings are never read
on a second one inside the write transaction (under load that deadlocked the connection pool)."""

from __future__ import annotations

import threading

from sqlalchemy import event

from helpdesk.services import Services
from helpdesk.sla.stored import ConfiguredSla
from helpdesk.tickets import Identity, InboundMessage, receive_inbound


def test_a_stale_sla_policy_does_not_take_a_second_connection(store: Services) -> None:
    store.sla = ConfiguredSla(store.settings, store.db)
    store.sla._loaded_at = float("-inf")  # due for its half-minute reload
    held, most = 0, 0
    caller = threading.get_ident()  # connections other threads take hold no lock of ours

    def checkout(*_args: object) -> None:
        nonlocal held, most
        if threading.get_ident() == caller:
            held += 1
            most = max(most, held)

    def checkin(*_args: object) -> None:
        nonlocal held
        if threading.get_ident() == caller:
            held -= 1

    event.listen(store.db.engine, "checkout", checkout)
    event.listen(store.db.engine, "checkin", checkin)
    try:
        result = receive_inbound(
            store,
            InboundMessage(
                channel="web", sender=Identity("email", "citizen@example.rs"), subject="eID", text="Ne radi"
            ),
        )
    finally:
        event.remove(store.db.engine, "checkout", checkout)
        event.remove(store.db.engine, "checkin", checkin)
    assert result.created
    assert most == 1  # the reload went to its own thread, after the ticket's transaction
    # And it did reload. Wait for the reload thread to end, not only to start (it marks the time
    # first): a read still under way when the fixture disposes the pool leaves its connection to
    # the garbage collector, whose ResourceWarning then fails whichever test runs next.
    assert store.sla._reloading.acquire(timeout=10)
    store.sla._reloading.release()
    assert store.sla._loaded_at > float("-inf")
