"""The Socket.IO packet class of this app's servers: python-socketio's, with a cheaper binary check.

Every packet built (each emit, each acknowledgement) first walks its whole payload to learn
whether it holds bytes (binary packets travel as attachments). The library's walk builds a list
and a ``functools.reduce`` for every dict and list, so a chat message's ``message.created`` (a
ticket and a message, ~60 values) cost ~21 us to check and its acknowledgement ~9 us, more than
encoding it as JSON (~12 us; bench/chat/run.py, issue 14). This walk gives the same answer: it
skips plain values without a call and stops at the first bytes. Wire format unchanged.
"""

from __future__ import annotations

from typing import Any

from socketio import packet, pubsub_manager

# Values that are never binary and hold nothing: no call needed to look at them.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def has_binary(data: Any) -> bool:
    """True when ``data`` is, or holds in its dicts and lists at any depth, bytes or a
    bytearray: python-socketio's ``Packet.data_is_binary``, answer for answer."""
    if isinstance(data, (bytes, bytearray)):
        return True
    if isinstance(data, dict):
        items: Any = data.values()
    elif isinstance(data, list):
        items = data
    else:
        return False
    for item in items:
        if type(item) not in _PLAIN and has_binary(item):
            return True
    return False


class Packet(packet.Packet):
    """python-socketio's packet with ``has_binary`` as its check (``SocketIO(serializer=Packet)``)."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return has_binary(data)


def check_queue_emits() -> None:
    """Give python-socketio's message-queue managers (Redis) this packet class too: their
    ``emit`` checks each event's payload for bytes with the library's own class (a module name
    there, not the server's ``serializer``), so with Redis every ``message.created`` paid the
    library's walk once more (~5% of the server's CPU per chat message under a profiler,
    bench/chat/run.py on PostgreSQL + Redis). Same answer, and the same attachments when binary."""
    pubsub_manager.Packet = Packet
