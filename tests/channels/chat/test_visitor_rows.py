"""The chat writer's visitor upsert decides as ``touch_in`` did: made if missing, written only
when something changes, a page that left marked gone, in the order given (both databases)."""

from __future__ import annotations

from datetime import timedelta

from channels.chat import store as chat_store
from channels.chat.visitor_rows import VisitorTouch, touch_all
from helpdesk.services import Services


def visitor(svc: Services, hashed: str) -> chat_store.ChatVisitor | None:
    with svc.db.session() as s:
        row = s.get(chat_store.ChatVisitor, hashed)
        if row is not None:
            s.expunge(row)
        return row


def touch(svc: Services, *touches: VisitorTouch) -> None:
    with svc.db.transaction() as s:
        touch_all(s.connection(), touches)


def test_a_visitor_is_made_then_written_only_when_something_changes(store: Services) -> None:
    hashed, t0 = "a" * 64, store.clock.now()
    touch(store, VisitorTouch(hashed, t0, name="Milica", language="sr-Latn"))
    first = visitor(store, hashed)
    assert first is not None and first.name == "Milica" and first.language == "sr-Latn"
    assert first.present_until == t0 + chat_store.PRESENCE

    touch(store, VisitorTouch(hashed, t0 + timedelta(seconds=10)))  # nothing new: no write
    assert visitor(store, hashed).updated_at == t0  # type: ignore[union-attr]

    t1 = t0 + timedelta(seconds=20)
    touch(store, VisitorTouch(hashed, t1, email="milica@example.rs"))  # kept name, new email
    second = visitor(store, hashed)
    assert second is not None and (second.name, second.email) == ("Milica", "milica@example.rs")
    assert second.updated_at == t1 and second.present_until == t1 + chat_store.PRESENCE

    t2 = t1 + timedelta(seconds=70)  # presence about to run out: refreshed
    touch(store, VisitorTouch(hashed, t2))
    assert visitor(store, hashed).present_until == t2 + chat_store.PRESENCE  # type: ignore[union-attr]


def test_a_page_that_left_and_came_back_in_one_batch_is_present(store: Services) -> None:
    back, left, unknown, now = "b" * 64, "c" * 64, "d" * 64, store.clock.now()
    touch(store, VisitorTouch(back, now), VisitorTouch(left, now))
    touch(
        store,
        VisitorTouch(back, now, present=False),
        VisitorTouch(back, now, name="Petar"),
        VisitorTouch(left, now, name="Jovana"),
        VisitorTouch(left, now, present=False),
        VisitorTouch(unknown, now, present=False),
    )
    came_back, gone = visitor(store, back), visitor(store, left)
    assert came_back is not None and came_back.present_until is not None and came_back.name == "Petar"
    assert gone is not None and gone.present_until is None and gone.name == "Jovana"
    assert visitor(store, unknown) is None  # a page that left makes no row
