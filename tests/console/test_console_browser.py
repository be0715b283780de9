"""One agent's walk through the console in Chromium, by keyboard: search, sort, local times, a
reply whose own view turns "Open" and "sent" live, and a merge of two tickets of one citizen.
axe-core checks every page on the way."""

from __future__ import annotations

from typing import Any

from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from tests.conftest import add_agent, axe, browser_login


def inbound(svc: Any, email: str, subject: str, text: str, name: str) -> str:
    msg = InboundMessage(
        channel="email", sender=Identity("email", email), sender_name=name, subject=subject, text=text
    )
    return receive_inbound(svc, msg).ticket_reference


def search(page: Any, words: str) -> list[str]:
    """Keyboard only: / jumps to the search box, Enter searches."""
    page.locator("body").focus()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.keyboard.press("Control+A")
    page.keyboard.type(words)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return list(
        page.locator("#ticket-list tr[data-reference]").evaluate_all(
            "rows => rows.map(r => r.dataset.reference)"
        )
    )


def test_agent_walk_search_sort_times_live_reply_and_merge(page: Any, live_server: Any) -> None:
    svc = live_server.services
    add_agent(svc, "ana@helpdesk.test", "supervisor", name="Ana Petrović", is_editor=True)
    tax = inbound(
        svc, "petar@example.rs", "Порез на имовину", "Добио сам решење о порезу за стан.", "Петар Јовић"
    )
    again = inbound(
        svc, "petar@example.rs", "Још једно питање", "Да ли могу да платим на рате?", "Петар Јовић"
    )
    other = inbound(svc, "mila@example.rs", "eUprava nalog", "Ne mogu da se prijavim.", "Mila Ilić")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    browser_login(page, live_server.url, "ana@helpdesk.test")
    page.goto(f"{live_server.url}/console?lang=en")
    page.locator("#console-connection", has_text="Live").wait_for()
    assert axe(page) == []
    assert search(page, tax) == [tax]
    assert sorted(search(page, "petar@example.rs")) == sorted([tax, again])
    assert search(page, "resenje o porezu") == [tax]  # Cyrillic text, typed in Latin without diacritics
    assert other not in search(page, "porez")
    assert axe(page) == []

    # Sort by due, by keyboard: the header is a button, and the header says how it is sorted.
    page.goto(f"{live_server.url}/console?lang=en")
    due = page.locator("th.col-due")
    assert due.get_attribute("aria-sort") == "ascending"  # the default: soonest deadline first
    due.locator("button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("th.col-due").get_attribute("aria-sort") == "descending"
    # Times in Belgrade, with the zone; the absolute time on hover (title) and on focus.
    assert "Europe/Belgrade (CE" in page.locator(".zone-label").inner_text()
    when = page.locator("#ticket-list time.when").first
    assert when.get_attribute("title").endswith(("CET", "CEST"))
    when.focus()
    shown = page.evaluate("getComputedStyle(document.activeElement, '::after').content")
    assert "CET" in shown or "CEST" in shown
    assert axe(page) == []

    # As editor: a canned response in Cyrillic, by keyboard.
    page.goto(f"{live_server.url}/console/canned/new?lang=en")
    page.get_by_label("Title").focus()
    page.keyboard.type("Поздрав")
    page.keyboard.press("Tab")
    page.keyboard.type("pozdrav")
    page.get_by_label("Language and script").select_option("sr-Cyrl")
    page.get_by_label("Text").focus()
    page.keyboard.type("Поштовани {citizen_name}, решење стиже поштом.")
    assert axe(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Save").press("Enter")
    assert "Поздрав" in page.locator(".canned-items").inner_text()
    assert axe(page) == []
    page.goto(f"{live_server.url}/console/profile?lang=en")
    assert axe(page) == []

    # The reply: the canned response found by its shortcut, the citizen's name filled in; the
    # agent's own view turns "Open" and the reply "sent", without a reload.
    page.goto(f"{live_server.url}/console/tickets/{tax}?lang=en")
    page.locator("#console-connection", has_text="Live").wait_for()
    assert page.locator("#ticket-status").inner_text() == "New"
    assert axe(page) == []
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Find a canned response (title or shortcut)").focus()
    page.keyboard.type("pozdrav")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    assert page.locator("#reply-text").input_value() == "Поштовани Петар Јовић, решење стиже поштом."
    page.keyboard.press("Control+Enter")
    page.locator("#ticket-status", has_text="Open").wait_for()
    reply = page.locator("#timeline li.tl--outbound", has_text="поштом")
    reply.locator(".tl__meta", has_text="sent").wait_for()
    assert page.evaluate("window.__sameDocument === true")  # no reload happened

    # The contact's other ticket is listed; merge it into this one, after the preview.
    others = page.locator("section[aria-labelledby='others-title']")
    assert again in others.inner_text()
    others.get_by_role("link", name=f"Merge into this ticket ({again})").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 message moves from" in page.locator(".merge-preview").inner_text()
    assert axe(page) == []
    page.get_by_role("button", name=f"Merge {again} into {tax}").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/console/tickets/{tax}?lang=en") or f"/console/tickets/{tax}" in page.url
    page.locator("#timeline li", has_text="платим на рате").wait_for()  # the timeline joined
    assert page.locator("#timeline li", has_text="решење о порезу").count() == 1
    assert f"{again} was merged into {tax}" in page.locator(".flashes").inner_text()
    assert axe(page) == []

    page.goto(f"{live_server.url}/console/contacts/1/merge?other=mila@example.rs&lang=en")
    assert "1 ticket moves to this contact" in page.locator(".merge-preview").inner_text()
    assert axe(page) == []
    assert errors == []


def test_an_open_ticket_catches_up_on_resync_without_a_second_access_log_entry(
    page: Any, live_server: Any
) -> None:
    """The page's catch-up after a reconnect or a resync reads the ticket's fields, not the page
    again: the privacy access log keeps one entry per opening, as the agent opened it once."""
    from sqlalchemy import func, select, update

    from helpdesk.models import AccessLogEntry, Ticket

    svc = live_server.services
    add_agent(svc, "ana@helpdesk.test", "supervisor", name="Ana Petrović")
    ref = inbound(svc, "petar@example.rs", "Порез", "Добио сам решење о порезу.", "Петар Јовић")
    browser_login(page, live_server.url, "ana@helpdesk.test")
    with page.expect_response(lambda r: r.url.endswith(f"/console/tickets/{ref}/fields")):
        page.goto(f"{live_server.url}/console/tickets/{ref}?lang=en")  # connect fetches the fields
    page.locator("#console-connection", has_text="Live").wait_for()
    assert page.locator("#p-priority").input_value() != "urgent"

    # Changed behind the page's back (no event reached it), then the server says events were lost.
    with svc.db.transaction() as s:
        s.execute(update(Ticket).where(Ticket.reference == ref).values(priority="urgent"))
    live_server.app.extensions["socketio"].emit("resync", {"type": "resync"}, namespace="/console")
    page.wait_for_function("() => document.getElementById('p-priority').value === 'urgent'")

    with svc.db.session() as s:
        views = s.scalar(
            select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.reference == ref)
        )
    assert views == 1
