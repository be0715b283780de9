"""What the chat saves per message (issue 14) without a citizen seeing any difference: the
"agent online" answer shared by citizens asking at once, and Socket.IO packets checked for
binary data more cheaply, byte for byte as before."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from socketio import packet, pubsub_manager

from channels.chat import store as chat_store
from helpdesk import create_app
from helpdesk.socket_packet import Packet, has_binary
from tests.conftest import make_services, make_settings


@pytest.mark.parametrize("online", [True, False])
def test_citizens_asking_at_once_share_a_yes_and_each_ask_again_after_a_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: bool
) -> None:
    svc = make_services(make_settings(tmp_path))
    asked: list[int] = []
    answer = threading.Event()
    started: list[int] = []

    def query(_svc: Any, _now: datetime) -> bool:
        asked.append(1)
        answer.wait(30)  # the first asker holds its query until every citizen has asked
        return online

    monkeypatch.setattr(chat_store, "agents_online", query)
    agents_online = chat_store.AgentsOnline(svc)
    told: list[bool] = []

    def citizen() -> None:
        started.append(1)
        told.append(agents_online(datetime.now(UTC)))

    first = threading.Thread(target=citizen)
    first.start()
    while not asked:  # the first citizen's query is in flight
        time.sleep(0.001)
    others = [threading.Thread(target=citizen) for _ in range(10)]
    for thread in others:
        thread.start()
    while len(started) < 11:
        time.sleep(0.001)
    answer.set()
    for thread in [first, *others]:
        thread.join(30)
    assert told == [online] * 11  # every citizen is told the database's answer
    # A "yes" is asked once for all of them; a "no" is never passed on: each asks again.
    assert len(asked) == (1 if online else 11)
    svc.db.dispose()


EVENT = {
    "type": "message.created",
    "ticket": {
        "reference": "HD-2026-000001",
        "contact": {"id": 1, "name": None},
        "tags": [],
        "triage_confidence": 0.5,
        "complaint": False,
        "assignee_id": None,
    },
    "message": {"id": 1, "text": "Poštovani", "attachments": [{"name": "a.pdf", "size": 3}]},
}


def test_the_message_queue_checks_payloads_with_the_apps_packet_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # python-socketio's Redis manager checks each emit for bytes with a module name of its own,
    # not the server's serializer (helpdesk.socket_packet.check_queue_emits). No connection is
    # made until the first emit.
    monkeypatch.setattr(pubsub_manager, "Packet", packet.Packet)
    settings = make_settings(tmp_path, channels=("channels.chat",), redis_url="redis://127.0.0.1:9/0")
    create_app(settings, services=make_services(settings))
    assert pubsub_manager.Packet is Packet


def test_socketio_packets_are_the_librarys_byte_for_byte(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, channels=("channels.chat",))
    server = create_app(settings, services=make_services(settings)).extensions["socketio"].server
    assert server.packet_class is Packet
    samples: list[Any] = [
        ["message.created", EVENT],
        [{"ok": True, "message": EVENT["message"]}],
        ["file", {"a": [1, {"b": b"\x00\x01"}]}],
        [bytearray(b"x")],
        ["t", (b"in a tuple",)],  # the library looks into lists and dicts only
        None,
        "text",
    ]
    for data in samples:
        assert has_binary(data) == packet.Packet.data_is_binary(data), data
        for kind in (packet.EVENT, packet.ACK):
            ours = server.packet_class(kind, data=data, namespace="/console", id=7)
            theirs = packet.Packet(kind, data=data, namespace="/console", id=7)
            if isinstance(data, list) and isinstance(data[-1], tuple):
                continue  # not JSON either way
            assert ours.encode() == theirs.encode()
    binary = server.packet_class(packet.EVENT, data=["file", {"a": [1, {"b": b"\x00\x01"}]}])
    assert binary.encode() == ['51-["file",{"a":[1,{"b":{"_placeholder":true,"num":0}}]}]', b"\x00\x01"]
