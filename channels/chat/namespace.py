"""Socket.IO namespace /chat: the citizen's side of the web chat (protocol in protocol.md)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_socketio import Namespace, join_room, leave_room

from channels.chat import callback, store, validate
from channels.chat.notices import standing_notices
from channels.chat.suggest_filter import good_hits, is_question
from channels.chat.validate import BadRequest, error
from channels.chat.visitor_rows import VisitorTouch
from channels.chat.writer import ChatWriter
from helpdesk.events import event, room_for_ticket
from helpdesk.i18n import LANGUAGES as LOCALES
from helpdesk.i18n import current_language
from helpdesk.models import Ticket
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    ThreadHints,
    close_by_citizen,
    note_kb_suggested,
)
from helpdesk.tickets.inbound import prepare
from helpdesk.tickets.serialize import iso
from helpdesk.tickets.types import InvalidChange, TicketNotFound
from helpdesk.tickets.uow import unit_of_work

log = logging.getLogger(__name__)
CHAT_NAMESPACE = "/chat"
Handler = Callable[..., dict[str, Any] | None]
MAX_SUGGESTIONS = 3
NO_STATE: dict[str, Any] = {"status": None, "notices": []}  # history before the first message


def guarded(handler: Handler) -> Handler:
    """Turn refused input into a protocol error and anything unexpected into a logged one, with
    every text in the language of the page that sent the event (see ``ChatNamespace.language``)."""

    @functools.wraps(handler)
    def wrapper(self: ChatNamespace, data: object = None) -> dict[str, Any] | None:
        with force_locale(LOCALES[self.language(data)]):
            try:
                return handler(self, validate.as_dict(data))
            except BadRequest as exc:
                return error(exc.code, exc.message)
            except (InvalidChange, TicketNotFound) as exc:
                return error("refused", str(exc))
            except Exception as exc:  # noqa: BLE001 - never crash on input; log the type only (no personal data)
                log.error("chat %s failed: %s", handler.__name__, type(exc).__name__)
                return error("server_error", _("Something went wrong. Please try again."))

    return wrapper


class ChatNamespace(Namespace):
    def __init__(self, svc: Services) -> None:
        super().__init__(CHAT_NAMESPACE)
        self.svc = svc
        self.writer = ChatWriter(svc)
        self.agents_online = store.AgentsOnline(svc)
        self._lock = threading.Lock()
        self._visitor: dict[str, str] = {}  # sid -> token hash (this process's connections)
        self._tabs: Counter[str] = Counter()  # token hash -> its connections here
        self._recent: dict[str, deque[float]] = {}  # sid -> times of its last messages
        self._language: dict[str, str] = {}  # sid -> the page's language (sr-Latn, sr-Cyrl, en)
        # token hash -> article ids shown before the visitor had an open ticket: the next
        # message's ticket is marked kb_suggested (deflection counts need it).
        self._suggested: dict[str, list[int]] = {}

    # -- connection ---------------------------------------------------------------------------
    def on_connect(self, auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        lang = validate.language({"language": auth.get("lang")}) if isinstance(auth, dict) else None
        if lang is not None:
            with self._lock:
                self._language[request.sid] = lang  # type: ignore[attr-defined]
        if store.valid_token(token):
            self._bind(store.token_hash(str(token)))
        return True

    def on_disconnect(self, *args: object) -> None:
        with self._lock:
            hashed = self._visitor.pop(request.sid, None)  # type: ignore[attr-defined]
            if hashed:
                self._tab_left(hashed)
            self._language.pop(request.sid, None)  # type: ignore[attr-defined]
            for kind in ("message", "typing", "suggest", "close", "profile", "callback"):
                self._recent.pop(f"{request.sid}:{kind}", None)  # type: ignore[attr-defined]
            still_here = hashed in self._visitor.values()
            if hashed and not still_here:  # the visitor's last page left: forget, don't leak
                self._suggested.pop(hashed, None)
        if hashed and not still_here:  # by the chat writer, not competing with it for the lock
            self.writer.touch_later(VisitorTouch(hashed, self.svc.clock.now(), present=False))

    def language(self, data: object) -> str:
        """The language of the page behind this event: the event's own ``language``, else the one
        the page gave at connect (``auth.lang``).

        Not the request's locale: a Socket.IO event carries no ?lang=, and the session cookie is
        the one sent with the handshake (another tab may have switched it since) or none at all in
        a chat framed by another site (a SameSite=Lax cookie is not sent there), which left
        errors in the browser's Accept-Language: Latin or English on a Cyrillic page.
        """
        lang = validate.language(data) if isinstance(data, dict) else None
        if lang is None:
            lang = self._language.get(request.sid)  # type: ignore[attr-defined]
        if lang is None:  # an older page or another client: as an HTTP request would choose
            return current_language()
        return lang

    def _bind(self, hashed: str) -> None:
        sid: str = request.sid  # type: ignore[attr-defined]
        with self._lock:
            old = self._visitor.get(sid)
            self._visitor[sid] = hashed
            if old != hashed:
                self._tabs[hashed] += 1
                if old:
                    self._tab_left(old)
        if old and old != hashed:
            leave_room(store.room_for_visitor(old))
        join_room(store.room_for_visitor(hashed))

    def _throttle(self, kind: str, limit: int, per: float) -> None:
        """At most ``limit`` events of a kind per ``per`` seconds and connection: a flood is
        refused before it reaches the store (the browser retries later)."""
        key = f"{request.sid}:{kind}"  # type: ignore[attr-defined]
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(key, deque())
            while recent and now - recent[0] > per:
                recent.popleft()
            if len(recent) >= limit:
                raise BadRequest("slow_down", _("Too many messages at once. Wait a moment."))
            recent.append(now)

    def _tab_left(self, hashed: str) -> None:
        """One connection fewer for this visitor here (called under self._lock)."""
        self._tabs[hashed] -= 1
        if self._tabs[hashed] <= 0:
            del self._tabs[hashed]

    def _to_other_tabs(self, hashed: str, message: dict[str, Any]) -> None:
        """The citizen's other tabs show their own message too (this tab has the acknowledgement).

        Only to tabs connected to this process, and not through the message queue: nginx keeps a
        browser's tabs on one process (``ip_hash``, deploy/nginx/helpdesk.conf), and a tab
        elsewhere catches up by ``history`` on its next connect. Through Redis every message
        cost a publish and every process's listener its unpickling, ~1 ms of server CPU per
        message (bench/chat/run.py with PostgreSQL + Redis: 2.9 -> 1.8 ms), for a second tab
        that almost never exists.
        """
        with self._lock:
            alone = self._tabs.get(hashed, 0) <= 1
        if alone:
            return
        self.socketio.emit(
            "message",
            message,
            to=store.room_for_visitor(hashed),
            namespace=CHAT_NAMESPACE,
            skip_sid=request.sid,  # type: ignore[attr-defined]
            ignore_queue=True,
        )

    def _hashed(self) -> str:
        hashed = self._visitor.get(request.sid)  # type: ignore[attr-defined]
        if hashed is None:
            raise BadRequest("hello_first", _("Start the conversation with 'hello' first."))
        return hashed

    # -- events -------------------------------------------------------------------------------
    @guarded
    def on_hello(self, data: dict[str, Any]) -> dict[str, Any]:
        token = data.get("token")
        new = not store.valid_token(token)
        if new:
            token = store.new_token()
        hashed = store.token_hash(str(token))
        self._bind(hashed)
        lang = validate.language(data)
        if lang is not None:  # the page's language for this connection's later events too
            with self._lock:
                self._language[request.sid] = lang  # type: ignore[attr-defined]
        now = self.svc.clock.now()
        # A token made just now has no conversation: no query (every new citizen says hello).
        ticket = None if new else store.current_ticket(self.svc, hashed)
        if ticket is not None:
            store.touch_visitor(self.svc, hashed, now, language=validate.language(data))
        return {
            "ok": True,
            "token": token,
            "reference": ticket.reference if ticket else None,
            "status": ticket.status if ticket else None,
            "last_seq": ticket.last_seq if ticket else 0,
            "agents_online": self.agents_online(now),
            "agent_name": store.last_agent_name(self.svc, ticket.id) if ticket else None,
        }

    @guarded
    def on_history(self, data: dict[str, Any]) -> dict[str, Any]:
        hashed = self._hashed()
        after = validate.seq_after(data)
        ticket = store.current_ticket(self.svc, hashed)
        if ticket is None:
            return {"ok": True, "reference": None, "messages": [], "last_seq": 0, **NO_STATE}
        messages = store.history(self.svc, ticket.id, ticket.reference, after)
        return {
            "ok": True,
            "reference": ticket.reference,
            "messages": messages,
            "last_seq": ticket.last_seq,
            # Its state besides the messages, for a page that lost the live news (a survey).
            "status": ticket.status,
            "notices": standing_notices(self.svc, ticket),
        }

    @guarded
    def on_message(self, data: dict[str, Any]) -> dict[str, Any]:
        hashed = self._hashed()
        self._throttle("message", limit=20, per=10.0)
        client_id = validate.client_id(data)
        text = validate.message_text(data)
        name = validate.optional_text(data, "name", 200)
        email = validate.email(data)
        lang = validate.language(data)
        language, script = store.LANGUAGES.get(lang or "", (None, None))
        now = self.svc.clock.now()
        # The visitor row is touched in the message's own transaction: one write lock per
        # message, and a failure keeps neither.
        touch = VisitorTouch(hashed, now, name=name, email=email, language=lang)
        prepared = prepare(
            self.svc,
            InboundMessage(
                channel="chat",
                sender=Identity("chat", hashed),
                sender_name=name,
                subject="",
                text=text,
                client_id=client_id,
                # The visitor's last chat ticket, even resolved: within reopen_days the core
                # reopens it (as it does for an email reply), so the agent sees it all.
                hints=ThreadHints(latest_on_channel=True),
                language=language,
                script=script,
                extra_identities=(Identity("email", email),) if email else (),
            ),
        )
        # Stored by the process's chat writer, batched with other citizens' messages.
        result = self.writer.store(prepared, touch)
        with self._lock:
            shown = self._suggested.pop(hashed, None)
        if shown:  # suggestions were on screen when the citizen wrote this
            note_kb_suggested(self.svc, result.ticket_reference, Actor.system("chat"), shown)
        if result.duplicate:  # answer what was stored the first time
            message = store.message_for_citizen(self.svc, result.message_id)
        else:  # built from what we know: saves a read per message
            message = {
                "id": result.message_id,
                "seq": result.seq,
                "reference": result.ticket_reference,
                "direction": "inbound",
                "kind": "message",
                "text": text,
                "author": None,
                "created_at": iso(now),
                "client_id": client_id,
            }
            self._to_other_tabs(hashed, message)
        reply: dict[str, Any] = {
            "ok": True,
            "reference": result.ticket_reference,
            "duplicate": result.duplicate,
            "message": message,
        }
        if (result.created or result.reopened) and not self.agents_online(now):
            # Nobody to answer now: confirm at once, and ask for an email if we have none.
            _, known_email = store.visitors_of_ticket(self.svc, result.ticket_reference)
            reply["offline"] = {
                "reference": result.ticket_reference,
                "email_known": bool(email or known_email),
            }
        return reply

    @guarded
    def on_typing(self, data: dict[str, Any]) -> None:
        hashed = self._hashed()
        self._throttle("typing", limit=5, per=5.0)
        ticket = store.current_ticket(self.svc, hashed)
        if ticket is not None and ticket.is_open:
            self.svc.publisher.publish(
                event(
                    "citizen.typing",
                    room_for_ticket(ticket.reference),
                    reference=ticket.reference,
                    typing=bool(data.get("typing")),
                )
            )
        return None

    @guarded
    def on_heartbeat(self, data: dict[str, Any]) -> dict[str, Any]:
        hashed = self._hashed()
        now = self.svc.clock.now()
        store.touch_visitor(self.svc, hashed, now, create=False)
        return {"ok": True, "agents_online": self.agents_online(now)}

    @guarded
    def on_profile(self, data: dict[str, Any]) -> dict[str, Any]:
        """The citizen left (or changed) a name or email address without writing a message:
        kept on the visitor, so answers given while they are away follow them by email."""
        hashed = self._hashed()
        self._throttle("profile", limit=5, per=10.0)
        email = validate.email(data)
        if data.get("email") and email is None:
            raise BadRequest("bad_email", _("That does not look like an email address."))
        name = validate.optional_text(data, "name", 200)
        store.touch_visitor(self.svc, hashed, self.svc.clock.now(), name=name, email=email)
        return {"ok": True, "email_known": email is not None}

    @guarded
    def on_transcript(self, data: dict[str, Any]) -> dict[str, Any]:
        hashed = self._hashed()
        address = validate.email(data)
        if address is None:
            raise BadRequest("bad_email", _("Enter your email address to receive the transcript."))
        ticket = store.current_ticket(self.svc, hashed)
        if ticket is None:
            raise BadRequest("nothing_yet", _("There is no conversation to send yet."))
        store.touch_visitor(self.svc, hashed, self.svc.clock.now(), email=address)
        with unit_of_work(self.svc) as uow:
            # Only an outbox row: the email channel renders the transcript; the ticket is unchanged.
            row = uow.session.get_one(Ticket, ticket.id)
            uow.queue_outbound(row, "email", "transcript", to=address)
        return {"ok": True}

    @guarded
    def on_suggest(self, data: dict[str, Any]) -> dict[str, Any]:
        """Knowledge-base articles for what the citizen is typing (before or during a ticket)."""
        hashed = self._hashed()
        self._throttle("suggest", limit=10, per=10.0)
        text = validate.suggest_text(data)
        lang = validate.language(data)
        if not is_question(text):  # a greeting or filler words: nothing to suggest
            return {"ok": True, "articles": []}
        ticket = store.current_ticket(self.svc, hashed)
        if ticket is not None and ticket.is_open and ticket.first_response_at is not None:
            return {"ok": True, "articles": []}  # an agent is answering: no more suggestions
        language = store.LANGUAGES.get(lang or "", (None, None))[0]
        hits = good_hits(self.svc.kb.search(text, language=language, limit=MAX_SUGGESTIONS))
        articles = [{"id": h.id, "title": h.title, "snippet": h.snippet, "url": h.url} for h in hits]
        ids = [h.id for h in hits]
        if ids and ticket is not None and ticket.is_open:
            if not ticket.kb_suggested:
                note_kb_suggested(self.svc, ticket.reference, Actor.contact(ticket.contact_id), ids)
        elif ids:
            with self._lock:  # noted on the ticket the next message opens (or reopens)
                self._suggested[hashed] = ids
        return {"ok": True, "articles": articles}

    @guarded
    def on_close(self, data: dict[str, Any]) -> dict[str, Any]:
        """The citizen's question is answered: resolve the ticket (deflected if the knowledge
        base answered it without an agent); a later message opens or reopens as the core decides."""
        hashed = self._hashed()
        self._throttle("close", limit=5, per=10.0)
        ticket = store.current_ticket(self.svc, hashed)
        with self._lock:
            self._suggested.pop(hashed, None)
        if ticket is None:  # read the suggestions and left without asking: nothing to resolve
            return {"ok": True, "reference": None, "deflected": False}
        deflected = close_by_citizen(self.svc, ticket.reference, Actor.contact(ticket.contact_id))
        return {"ok": True, "reference": ticket.reference, "deflected": deflected}

    @guarded
    def on_callback_windows(self, data: dict[str, Any]) -> dict[str, Any]:
        """The times the citizen may ask to be called in (business hours, by day)."""
        self._hashed()
        return callback.windows_for(self.svc, data)

    @guarded
    def on_callback(self, data: dict[str, Any]) -> dict[str, Any]:
        """Call me back: the request joins this conversation (see callback.py)."""
        hashed = self._hashed()
        self._throttle("callback", limit=5, per=60.0)
        return callback.request_from_chat(self.svc, hashed, data)
