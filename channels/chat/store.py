"""What the chat channel reads and writes besides the core operations (visitors, history)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import Connection, Table, bindparam, exists, insert, select, update

from helpdesk.models import Agent, ContactIdentity, Message, Ticket
from helpdesk.models.chat import ChatVisitor
from helpdesk.services import Services
from helpdesk.tickets.serialize import iso

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
PRESENCE = timedelta(seconds=90)  # a connected page heartbeats every 30 s
FRESH = PRESENCE - timedelta(seconds=30)  # presence rewritten once less than this is left: at most every 30 s
AGENT_PRESENCE = timedelta(minutes=2)
VISITORS = cast(Table, ChatVisitor.__table__)
# Built once: building a select per call cost more than running it.
VISITOR_BY_HASH = select(VISITORS).where(VISITORS.c.token_hash == bindparam("hashed"))
INSERT_VISITOR = insert(VISITORS)
LANGUAGES = {"sr-Latn": ("sr", "latn"), "sr-Cyrl": ("sr", "cyrl"), "en": ("en", "latn")}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN_RE.match(token) is not None


def token_hash(token: str) -> str:
    # Only the hash is stored: a database reader cannot take over a citizen's conversation.
    return hashlib.sha256(token.encode()).hexdigest()


def room_for_visitor(hashed: str) -> str:
    return f"visitor:{hashed}"


_TICKETS = cast(Table, Ticket.__table__)
_IDENTITIES = cast(Table, ContactIdentity.__table__)
_AGENTS = cast(Table, Agent.__table__)
LATEST_CHAT_TICKET = (
    select(_TICKETS)
    .join(_IDENTITIES, _IDENTITIES.c.contact_id == _TICKETS.c.contact_id)
    .where(
        _IDENTITIES.c.kind == "chat",
        _IDENTITIES.c.value == bindparam("hashed"),
        _TICKETS.c.channel == "chat",
    )
    .order_by(_TICKETS.c.id.desc())
    .limit(1)
)
TICKET_BY_ID = select(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"))
AGENTS_ONLINE = select(
    exists().where(
        _AGENTS.c.active.is_(True),
        _AGENTS.c.online.is_(True),
        _AGENTS.c.last_seen_at >= bindparam("since"),
    )
)


def current_ticket(svc: Services, hashed: str) -> Ticket | None:
    """The visitor's latest chat ticket (following merges), or None before the first message.

    A detached Ticket built from one Core row: every handler asks this, and the ORM query (with
    its joined contact) cost several times more than the row."""
    with svc.db.engine.connect() as conn:
        row = conn.execute(LATEST_CHAT_TICKET, {"hashed": hashed}).first()
        for _ in range(10):
            if row is None or row.merged_into_id is None:
                break
            row = conn.execute(TICKET_BY_ID, {"ticket_id": row.merged_into_id}).first()
    return Ticket(**row._mapping) if row is not None else None


def citizen_message(msg: Message, reference: str, author: str | None) -> dict[str, Any]:
    """The shape a citizen sees: no internal fields, no agent ids."""
    return {
        "id": msg.id,
        "seq": msg.seq,
        "reference": reference,
        "direction": "inbound" if msg.direction == "inbound" else "outbound",
        "kind": msg.kind,
        "text": msg.text,
        "author": author,
        "created_at": iso(msg.created_at),
        "client_id": msg.client_id if msg.direction == "inbound" else None,
    }


HISTORY_LIMIT = 1_000  # messages per history answer; the page asks again after the last one (chat.js)


def history(svc: Services, ticket_id: int, reference: str, after: int) -> list[dict[str, Any]]:
    """Messages the citizen may see, after sequence number ``after`` (notes are never included)."""
    with svc.db.session() as s:
        rows = s.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(
                Message.ticket_id == ticket_id,
                Message.seq > after,
                Message.direction.in_(("inbound", "outbound")),
            )
            .order_by(Message.seq)
            .limit(HISTORY_LIMIT)
        ).all()
        return [citizen_message(m, reference, name) for m, name in rows]


def message_for_citizen(svc: Services, message_id: int) -> dict[str, Any] | None:
    with svc.db.session() as s:
        row = s.execute(
            select(Message, Agent.name, Ticket.reference)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(Message.id == message_id)
        ).first()
        if row is None or row[0].direction == "note":
            return None
        return citizen_message(row[0], row[2], row[1])


def last_agent_name(svc: Services, ticket_id: int) -> str | None:
    with svc.db.session() as s:
        return s.scalar(
            select(Agent.name)
            .join(Message, Message.agent_id == Agent.id)
            .where(Message.ticket_id == ticket_id, Message.direction == "outbound")
            .order_by(Message.seq.desc())
            .limit(1)
        )


def agents_online(svc: Services, now: datetime) -> bool:
    with svc.db.engine.connect() as conn:
        return bool(conn.execute(AGENTS_ONLINE, {"since": now - AGENT_PRESENCE}).scalar())


class AgentsOnline:
    """``agents_online`` for the chat's hot paths (every hello, every new ticket): a "yes" is
    kept for ``keep`` seconds, a "no" never.

    With 50 citizens arriving at once the query ran 100 times a second for the same answer
    (0.36 ms of CPU each on SQLite, 0.95 on PostgreSQL with the pool's ping). Presence is
    already a two-minute window (``AGENT_PRESENCE``), so a "yes" one second old says nothing
    new; a "no" is asked again every time, so an agent who comes online (on any process: the
    answer is the database's) is seen at once and nobody is told "offline" by a stale answer.

    Once the "yes" has run out, the citizens asking at the same moment (50 first messages of a
    burst) all queried: 125 queries for 200 asks in bench/chat/run.py. Now one of them asks and
    the others wait for its answer: a "yes" is theirs too (it is newer than a kept one), and on
    a "no" each asks again itself, as before.
    """

    def __init__(self, svc: Services, keep: float = 1.0) -> None:
        self.svc = svc
        self.keep = keep
        self._yes_until = 0.0  # time.monotonic() before which "yes" is answered without asking
        self._lock = threading.Lock()
        self._asking: _Asking | None = None  # the query in flight, if any

    def __call__(self, now: datetime) -> bool:
        if time.monotonic() < self._yes_until:
            return True
        mine = _Asking()
        with self._lock:
            asking = self._asking
            if asking is None:
                self._asking = mine
        if asking is not None:  # another citizen's thread is asking: its "yes" will do
            if asking.done.wait(self.svc.db.timeouts.statement) and asking.online:
                return True
            return agents_online(self.svc, now)
        try:
            mine.online = agents_online(self.svc, now)
            if mine.online:
                self._yes_until = time.monotonic() + self.keep
            return mine.online
        finally:
            with self._lock:
                self._asking = None
            mine.done.set()


class _Asking:
    """One agents_online query in flight, for the threads that wait on it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.online = False


class VisitorChange(TypedDict, total=False):
    """What a touch says about the visitor. Left out: ``present=True`` (on the page now; ``False``:
    the page is gone, ``None``: unknown), ``create=True`` (make the row if there is none), and no
    new name, email or language."""

    present: bool | None
    create: bool
    name: str | None
    email: str | None
    language: str | None


def touch_visitor(svc: Services, hashed: str, now: datetime, **change: Unpack[VisitorChange]) -> None:
    """Create or update the visitor row; ``present=False`` marks the page gone.

    Skips the write transaction when nothing would change (presence is refreshed at most every
    30 s), so a heartbeat rarely takes the write lock. A message does not come here: the chat
    writer touches its visitor inside the message's transaction (``visitor_rows.touch_all``).
    """
    with svc.db.engine.connect() as conn:
        known = conn.execute(VISITOR_BY_HASH, {"hashed": hashed}).first()
        conn.rollback()
    if known is None and not change.get("create", True):
        return
    if known is not None and not _changes(known, now, change):
        return
    with svc.db.transaction() as s:
        touch_in(s.connection(), hashed=hashed, now=now, **change)


def touch_in(conn: Connection, *, hashed: str, now: datetime, **change: Unpack[VisitorChange]) -> None:
    """``touch_visitor`` inside the caller's write transaction: one SELECT, and a write only when
    something changes. It commits or rolls back with the caller's message."""
    present = change.get("present", True)
    name, email, language = change.get("name"), change.get("email"), change.get("language")
    visitor = conn.execute(VISITOR_BY_HASH, {"hashed": hashed}).first()
    if visitor is None:
        if change.get("create", True):
            conn.execute(
                INSERT_VISITOR,
                {
                    "token_hash": hashed,
                    "name": name,
                    "email": email,
                    "language": language,
                    "present_until": now + PRESENCE if present is True else None,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return
    if not _changes(visitor, now, change):
        return
    values: dict[str, Any] = {
        "name": name or visitor.name,
        "email": email or visitor.email,
        "language": language or visitor.language,
        "updated_at": now,
    }
    if present is True:
        values["present_until"] = now + PRESENCE
    elif present is False:
        values["present_until"] = None
    conn.execute(update(VISITORS).where(VISITORS.c.token_hash == hashed).values(**values))


def _changes(v: Any, now: datetime, change: VisitorChange) -> bool:  # v: a chat_visitors row
    present = change.get("present", True)
    name, email, language = change.get("name"), change.get("email"), change.get("language")
    if (name and name != v.name) or (email and email != v.email):
        return True
    if language and language != v.language:
        return True
    if present is False:
        return v.present_until is not None
    if present is True:
        return v.present_until is None or v.present_until < now + FRESH
    return False


def visitors_of_ticket(svc: Services, reference: str) -> tuple[list[ChatVisitor], str | None]:
    """The chat visitors who own a ticket, and an email address the contact left (if any)."""
    with svc.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            return [], None
        hashes = s.scalars(
            select(ContactIdentity.value).where(
                ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.kind == "chat"
            )
        ).all()
        visitors = list(s.scalars(select(ChatVisitor).where(ChatVisitor.token_hash.in_(hashes))).all())
        for v in visitors:
            s.expunge(v)
        email = next(
            (v.email for v in sorted(visitors, key=lambda v: v.updated_at, reverse=True) if v.email),
            None,
        )
        if email is None:
            email = s.scalar(
                select(ContactIdentity.value).where(
                    ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.kind == "email"
                )
            )
        return visitors, email
