"""The /chat and /console Socket.IO protocol: python-socketio clients against a real server."""

from __future__ import annotations

import threading
import time
from typing import Any

import socketio
from hd_servers import CHAT_AGENT as AGENT
from hd_servers import Citizen, Console, Server, login_cookie


def test_a_conversation(chat_server: Server) -> None:
    """A citizen writes, the agent sees it live, replies, and the citizen reads the reply live."""
    agent = Console(chat_server.url, login_cookie(chat_server.url, AGENT))
    citizen = Citizen(chat_server.url)
    hello = citizen.connect()
    assert hello["agents_online"] is True  # the console connection counts as online
    assert hello["reference"] is None

    sent = citizen.send("Ne mogu da se prijavim na portal", name="Milica", email="milica@example.rs")
    assert sent and sent["ok"] and not sent["duplicate"]
    reference = sent["reference"]
    assert sent["message"]["seq"] == 1

    _, created = agent.wait_for(lambda n, d: n == "ticket.created" and d["ticket"]["reference"] == reference)
    assert created["ticket"]["channel"] == "chat"
    _, msg = agent.wait_for(lambda n, d: n == "message.created" and d["ticket"]["reference"] == reference)
    assert msg["message"]["text"] == "Ne mogu da se prijavim na portal"

    assert agent.call("view", {"reference": reference})["ok"]
    citizen.call("typing", {"typing": True})
    _, typing = agent.wait_for(lambda n, d: n == "citizen.typing")
    assert typing == {"type": "citizen.typing", "reference": reference, "typing": True}

    assert agent.call("presence", {"reference": reference, "state": "typing"})["ok"]
    reply = agent.call("reply", {"reference": reference, "text": "Dobar dan, pomoći ću vam."})
    assert reply["ok"], reply
    shown = citizen.wait_text("Dobar dan, pomoći ću vam.")
    assert shown["direction"] == "outbound"
    assert shown["author"] == "Ana Petrović"  # the agent's name is shown to the citizen
    assert any(t.get("typing") and t.get("name") == "Ana Petrović" for t in citizen.typing)

    note = agent.call("note", {"reference": reference, "text": "internal: check account lock"})
    assert note["ok"]
    # Notes never reach the citizen, live or in the history.
    history = citizen.call("history", {"after": 0})
    assert [m["text"] for m in history["messages"]] == [
        "Ne mogu da se prijavim na portal",
        "Dobar dan, pomoći ću vam.",
    ]
    assert all("internal" not in m["text"] for m in citizen.shown)

    transcript = citizen.call("transcript", {"email": "milica@example.rs"})
    assert transcript == {"ok": True}

    # Resolving the ticket asks the citizen, in the chat, how it went.
    assert agent.call("set", {"reference": reference, "field": "status", "value": "resolved"})["ok"]
    deadline = time.monotonic() + 20
    while not citizen.notices and time.monotonic() < deadline:
        time.sleep(0.05)
    assert citizen.notices and citizen.notices[0]["kind"] == "survey"
    assert citizen.notices[0]["url"].startswith(chat_server.url + "/survey/")
    # A page that lost it (a reconnect, the message queue down) finds it in any history answer,
    # with the live one's id (shown once), and the conversation no longer open.
    caught_up = citizen.call("history", {"after": 2})
    assert caught_up["messages"] == [] and caught_up["status"] == "resolved"
    assert [{**n, "type": "notice"} for n in caught_up["notices"]] == citizen.notices

    # A few seconds later the citizen writes again: the same ticket reopens, with its history.
    later = citizen.send("Još nešto: da li mi treba i lična karta?")
    assert later and later["ok"] and later["reference"] == reference
    assert "offline" not in later  # an agent is online: no "nobody is here" confirmation
    assert later["message"]["seq"] > 2
    _, update = agent.wait_for(
        lambda n, d: n == "message.created" and d["message"]["text"].startswith("Još nešto")
    )
    assert update["ticket"]["reference"] == reference and update["ticket"]["status"] == "open"
    reopened = citizen.call("history", {"after": 0})
    assert reopened["status"] == "open" and reopened["notices"] == []  # the survey is not the news
    texts = [m["text"] for m in reopened["messages"]]
    assert texts[:2] == ["Ne mogu da se prijavim na portal", "Dobar dan, pomoći ću vam."]
    assert texts[-1] == "Još nešto: da li mi treba i lična karta?"
    citizen.drop()
    agent.close()


def test_bad_input_gets_a_protocol_error_not_a_crash(chat_server: Server) -> None:
    citizen = Citizen(chat_server.url)
    citizen.connect()
    assert citizen.call("message", "not an object")["error"]["code"] == "bad_request"
    assert citizen.call("message", {"client_id": "x", "text": "hi"})["error"]["code"] == "bad_client_id"
    too_long = citizen.call("message", {"client_id": "abcdefgh1", "text": "a" * 4001})
    assert too_long["error"]["code"] == "too_long"
    assert citizen.call("message", {"client_id": "abcdefgh2", "text": "   "})["error"]["code"] == "empty"
    bad_mail = citizen.call("message", {"client_id": "abcdefgh3", "text": "hi", "email": "nope"})
    assert bad_mail["error"]["code"] == "bad_email"
    assert citizen.call("history", {"after": -1})["error"]["code"] == "bad_after"
    # Nothing refused was stored, and the connection still works.
    assert citizen.call("history", {"after": 0})["messages"] == []
    assert citizen.send("still here")["ok"]


def test_resend_after_reconnect_and_restart_loses_and_doubles_nothing(
    own_chat_server: Server, tmp_path
) -> None:
    url = own_chat_server.url
    agent = Console(url, login_cookie(url, AGENT))
    citizen = Citizen(url)
    citizen.connect()
    first = citizen.send("prva poruka")
    reference = first["reference"]
    citizen.send("druga poruka")
    assert agent.call("reply", {"reference": reference, "text": "odgovor 1"})["ok"]
    citizen.wait_text("odgovor 1")

    # 1. A cut connection: the agent answers meanwhile, the citizen writes meanwhile.
    citizen.cut()
    assert agent.call("reply", {"reference": reference, "text": "odgovor 2"})["ok"]
    assert citizen.send("treća, napisana bez veze") is None  # kept pending in the "browser"
    citizen.connect()  # hello, history after the last seq, then the pending resend
    citizen.wait_text("odgovor 2")
    assert citizen.pending == []

    # A resend whose acknowledgement was lost: the same client_id is stored once.
    third = next(m for m in citizen.shown if m["text"] == "treća, napisana bez veze")
    again = citizen.call("message", {"client_id": third["client_id"], "text": third["text"]})
    assert again["ok"] and again["duplicate"] is True
    assert again["message"]["seq"] == third["seq"]

    # 2. The server crashes mid-conversation (SIGKILL) and comes back on the same port.
    assert agent.call("reply", {"reference": reference, "text": "odgovor 3"})["ok"]
    agent.close()
    own_chat_server.kill()
    citizen.drop()
    assert citizen.send("četvrta, dok server ne radi") is None
    restarted = Server(own_chat_server.env, tmp_path / "server2.log", port=own_chat_server.port).start()
    try:
        citizen.connect()
        citizen.wait_text("odgovor 3")
        assert citizen.pending == []

        expected = [
            "prva poruka",
            "druga poruka",
            "odgovor 1",
            "odgovor 2",
            "treća, napisana bez veze",
            "odgovor 3",
            "četvrta, dok server ne radi",
        ]
        history = citizen.call("history", {"after": 0})["messages"]
        stored = [m["text"] for m in history]
        # Stored once each, in order (the crash may have cut the live reply 3: history has it).
        assert sorted(stored) == sorted(expected) and len(stored) == len(set(stored))
        assert [m["seq"] for m in history] == sorted(m["seq"] for m in history)
        shown = [m["text"] for m in citizen.shown]
        assert sorted(shown) == sorted(expected) and len(shown) == len(expected)
    finally:
        citizen.drop()
        restarted.stop()


def test_a_citizen_cannot_read_another_citizens_conversation(chat_server: Server) -> None:
    url = chat_server.url
    agent = Console(url, login_cookie(url, AGENT))
    alice, bob = Citizen(url), Citizen(url)
    alice.connect()
    bob.connect()
    assert alice.token != bob.token
    ref = alice.send("moj JMBG je 0101990710000")["reference"]
    assert agent.call("reply", {"reference": ref, "text": "samo za Alisu"})["ok"]
    alice.wait_text("samo za Alisu")

    assert bob.call("history", {"after": 0})["messages"] == []
    assert bob.shown == []
    # Nor its state: Alice's resolved conversation and its survey link stay hers.
    assert agent.call("set", {"reference": ref, "field": "status", "value": "resolved"})["ok"]
    assert [n["kind"] for n in alice.call("history", {"after": 0})["notices"]] == ["survey"]
    assert bob.call("history", {"after": 0}) == {
        "ok": True, "reference": None, "messages": [], "last_seq": 0, "status": None, "notices": []
    }
    assert bob.notices == []
    # Knowing the reference gives nothing; a made-up token starts an empty conversation.
    assert bob.call("hello", {"token": ref})["reference"] is None
    mallory = Citizen(url, token="A" * 43)
    assert mallory.connect()["reference"] is None
    assert mallory.call("history", {"after": 0})["messages"] == []
    assert mallory.shown == []
    # And a citizen cannot open the agents' namespace.
    sio = socketio.Client(reconnection=False)
    try:
        sio.connect(url, namespaces=["/console"], transports=["websocket"], wait_timeout=5)
        raise AssertionError("the console accepted a citizen")
    except socketio.exceptions.ConnectionError as exc:
        assert "unauthorized" in str(exc).lower() or "namespace" in str(exc).lower()
    finally:
        sio.disconnect()
    for c in (alice, bob, mallory):
        c.drop()
    agent.close()


def test_a_flood_is_refused_before_the_store_and_nothing_else_is_lost(chat_server: Server) -> None:
    citizen = Citizen(chat_server.url)
    citizen.connect()
    answers = [
        citizen.call("message", {"client_id": f"flood-{i:04d}", "text": f"poruka {i}"}) for i in range(25)
    ]
    accepted = [a for a in answers if a["ok"]]
    refused = [a for a in answers if not a["ok"]]
    assert len(accepted) == 20
    assert {a["error"]["code"] for a in refused} == {"slow_down"}
    stored = [m["text"] for m in citizen.call("history", {"after": 0})["messages"]]
    assert stored == [f"poruka {i}" for i in range(20)]


def test_an_agent_who_comes_online_is_seen_at_once(own_chat_server: Server) -> None:
    """The chat keeps a "yes, agents online" for a moment (it is asked on every hello and new
    ticket), never a "no": nobody is told "offline" once an agent is there."""
    early = Citizen(own_chat_server.url)
    assert early.connect()["agents_online"] is False
    agent = Console(own_chat_server.url, login_cookie(own_chat_server.url, AGENT))
    late = Citizen(own_chat_server.url)
    assert late.connect()["agents_online"] is True
    sent = late.send("Da li je neko tu?")
    assert sent and sent["ok"] and "offline" not in sent
    for who in (early, late):
        who.drop()
    agent.close()


def test_messages_sent_without_waiting_are_stored_in_the_order_sent(chat_server: Server) -> None:
    """A connection's events are handled one after the other (``async_handlers=False``): a
    citizen who sends before the previous acknowledgement sees the conversation in its order."""
    citizen = Citizen(chat_server.url)
    citizen.connect()
    assert citizen.sio is not None
    answers: list[dict[str, Any]] = []
    all_in = threading.Event()

    def answered(reply: dict[str, Any]) -> None:
        answers.append(reply)
        if len(answers) == 10:
            all_in.set()

    texts = [f"redom {i}" for i in range(10)]
    for i, text in enumerate(texts):
        message = {"client_id": f"in-order-{i}", "text": text}
        citizen.sio.emit("message", message, namespace="/chat", callback=answered)
    assert all_in.wait(30)
    assert all(a["ok"] for a in answers), answers
    assert [a["message"]["text"] for a in answers] == texts  # acknowledged in order
    stored = citizen.call("history", {"after": 0})["messages"]
    assert [(m["seq"], m["text"]) for m in stored] == list(enumerate(texts, start=1))
    citizen.drop()


def test_a_citizens_other_tab_shows_the_message_written_in_this_one(chat_server: Server) -> None:
    first = Citizen(chat_server.url)
    first.connect()
    second = Citizen(chat_server.url, token=first.token)  # the same browser, another tab
    second.connect()
    sent = first.send("Pišem iz prve kartice")
    assert sent and sent["ok"]
    shown = second.wait_text("Pišem iz prve kartice")
    assert shown["seq"] == 1 and shown["direction"] == "inbound"
    assert first.doubles == 0  # the tab that wrote has it from the acknowledgement only
