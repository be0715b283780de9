"""Knowledge-base suggestions in the citizen chat and deflection on close: python-socketio clients
against a real server whose knowledge base holds the starter articles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import socketio
from hd_servers import CHAT_AGENT as AGENT
from hd_servers import Citizen, Console, Server, base_env, login_cookie, prepare_store, quick_disconnect
from kb_articles import publish_starter_articles, ticket_row

CERTIFICATE = "Elektronski sertifikat na ličnoj karti"
RESIDENCE = "Промена пребивалишта и пријава адресе"


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("chat-kb")
    env = base_env(tmp / "data")
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    publish_starter_articles(env)
    server = Server(env, tmp / "server.log").start()
    yield server
    server.stop()
    assert server.problems() == []


def titles(answer: dict[str, Any]) -> list[str]:
    assert answer["ok"], answer
    return [a["title"] for a in answer["articles"]]


def test_suggestions_for_serbian_in_cyrillic_and_in_latin_without_diacritics(kb_server: Server) -> None:
    citizen = Citizen(kb_server.url)
    assert citizen.connect()["reference"] is None  # no conversation yet: suggestions still work

    cyrillic = citizen.call(
        "suggest", {"text": "Електронски сертификат на личној карти", "language": "sr-Cyrl"}
    )
    assert titles(cyrillic)[0] == CERTIFICATE
    assert 1 <= len(cyrillic["articles"]) <= 3
    first = cyrillic["articles"][0]
    assert set(first) == {"id", "title", "snippet", "url"}
    assert first["url"] == f"{kb_server.url}/help/articles/{first['id']}"

    latin = citizen.call("suggest", {"text": "elektronski sertifikat na licnoj karti", "language": "sr-Latn"})
    assert titles(latin)[0] == CERTIFICATE
    # A Cyrillic article found by a Latin question typed without diacritics.
    moving = citizen.call("suggest", {"text": "kako da prijavim promenu prebivalista", "language": "sr-Latn"})
    assert RESIDENCE in titles(moving)
    english = citizen.call("suggest", {"text": "I forgot my password", "language": "en"})
    assert titles(english)[0] == "I forgot my password"
    # Greetings and filler words are not a question: no "Dečji dodatak" for "Dobar dan".
    for greeting in ("Dobar dan", "Добар дан, имам питање", "Hello, good morning, I need help"):
        assert titles(citizen.call("suggest", {"text": greeting, "language": "sr-Latn"})) == []

    # Asking for suggestions opens no conversation.
    assert citizen.call("history", {"after": 0})["reference"] is None
    citizen.drop()


def test_close_after_a_suggestion_without_an_agent_counts_as_deflected(kb_server: Server) -> None:
    citizen = Citizen(kb_server.url)
    citizen.connect()
    # The suggestions are shown before the first message: the ticket it opens remembers them.
    shown = citizen.call("suggest", {"text": "zaboravio sam lozinku", "language": "sr-Latn"})
    assert "Zaboravio sam lozinku za nalog" in titles(shown)
    sent = citizen.send("Zaboravio sam lozinku, sta da radim?", language="sr-Latn")
    assert sent and sent["ok"]
    reference = sent["reference"]
    # Nobody online: an immediate confirmation with the reference, and no email known yet.
    assert sent["offline"] == {"reference": reference, "email_known": False}
    assert citizen.call("profile", {"email": "not-an-address"})["error"]["code"] == "bad_email"
    assert citizen.call("profile", {"email": "vesna@example.rs"}) == {"ok": True, "email_known": True}
    assert ticket_row(kb_server.env, reference)["kb_suggested"] is True

    closed = citizen.call("close", {})
    assert closed == {"ok": True, "reference": reference, "deflected": True}
    assert ticket_row(kb_server.env, reference) == {
        "status": "resolved",
        "deflected": True,
        "kb_suggested": True,
    }
    # Closing twice changes nothing; writing again is a conversation the core opens or reopens.
    assert citizen.call("close", {})["deflected"] is True
    again = citizen.send("Jos jedno pitanje")
    assert again and again["ok"]
    # Within reopen_days the same ticket reopens; the email left above is known now.
    assert again["reference"] == reference
    assert again["offline"] == {"reference": reference, "email_known": True}
    assert ticket_row(kb_server.env, reference)["status"] == "open"
    citizen.drop()


def test_an_agents_answer_before_closing_is_not_deflection(kb_server: Server) -> None:
    agent = Console(kb_server.url, login_cookie(kb_server.url, AGENT))
    citizen = Citizen(kb_server.url)
    citizen.connect()
    sent = citizen.send("Kako da platim taksu preko portala?", language="sr-Latn")
    assert sent and sent["ok"]
    reference = sent["reference"]
    assert ticket_row(kb_server.env, reference)["kb_suggested"] is False
    # Suggestions shown during an open conversation mark its ticket at once.
    assert titles(citizen.call("suggest", {"text": "placanje takse preko portala", "language": "sr-Latn"}))
    assert ticket_row(kb_server.env, reference)["kb_suggested"] is True

    assert agent.call("reply", {"reference": reference, "text": "Takse plaćate karticom na portalu."})["ok"]
    citizen.wait_text("Takse plaćate karticom na portalu.")
    # An agent is answering: no more suggestions in this conversation.
    after = citizen.call("suggest", {"text": "placanje takse preko portala", "language": "sr-Latn"})
    assert titles(after) == []
    closed = citizen.call("close", {})
    assert closed == {"ok": True, "reference": reference, "deflected": False}
    assert ticket_row(kb_server.env, reference) == {
        "status": "resolved",
        "deflected": False,
        "kb_suggested": True,
    }
    citizen.drop()
    agent.close()


def test_bad_suggest_and_close_input_gets_a_protocol_error(kb_server: Server) -> None:
    # Before hello the connection is nobody's conversation.
    raw = socketio.Client(reconnection=False)
    raw.connect(kb_server.url, namespaces=["/chat"], transports=["websocket"], wait_timeout=10)
    early = raw.call("suggest", {"text": "zaboravio sam lozinku"}, namespace="/chat", timeout=15)
    assert early["ok"] is False and early["error"]["code"] == "hello_first"
    quick_disconnect(raw)

    citizen = Citizen(kb_server.url)
    citizen.connect()
    refused = {
        "bad_request": citizen.call("suggest", "not an object"),
        "empty": citizen.call("suggest", {"text": 42}),
        "too_long": citizen.call("suggest", {"text": "lozinka " * 600}),
    }
    for code, answer in refused.items():
        assert answer["ok"] is False and answer["error"]["code"] == code
        assert answer["error"]["message"]  # words for people, not only a code
    assert citizen.call("close", ["not", "an", "object"])["error"]["code"] == "bad_request"
    # Closing before the first message resolves nothing and opens nothing.
    assert citizen.call("close", {}) == {"ok": True, "reference": None, "deflected": False}
    # A flood of suggestion requests is refused before it reaches the search.
    answers = [citizen.call("suggest", {"text": f"lozinka nalog {n}"}) for n in range(12)]
    assert any(not a["ok"] and a["error"]["code"] == "slow_down" for a in answers)
    # The connection still works.
    assert citizen.send("i dalje sam tu")["ok"]
    citizen.drop()
