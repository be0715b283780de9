"""Socket.IO namespace /console: live updates and actions for logged-in agents.

The connection is refused without a logged-in agent session (and from a foreign Origin). Every
event reloads the agent and checks role and queue before it reads or changes a ticket; changes go
through the core operations, whose events are published after their commit.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, disconnect, join_room, leave_room
from sqlalchemy import select, update

from helpdesk.access import (
    AccessDenied,
    Viewer,
    can_see,
    load_viewer,
    require_change,
    require_see,
    visible_queues,
)
from helpdesk.auth.oidc import enrolment_due
from helpdesk.console import queries
from helpdesk.console.session_watch import SessionWatch
from helpdesk.events import (
    CONSOLE_NAMESPACE,
    CONSOLE_ROOM,
    event,
    room_for_agent,
    room_for_queue,
    room_for_ticket,
)
from helpdesk.models import Agent, ContactIdentity, Ticket
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    InvalidChange,
    TicketNotFound,
    add_note,
    assign_ticket,
    reply_to_ticket,
    set_category,
    set_priority,
    set_queue,
    set_status,
)

log = logging.getLogger(__name__)
PRESENCE_STATES = ("viewing", "typing", "noting", "left")
SETTERS: dict[str, Callable[[Services, str, Actor, str], None]] = {
    "status": set_status,
    "priority": set_priority,
    "category": set_category,
    "queue": set_queue,
}
MAX_TEXT = 20_000


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fail(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


Handler = Callable[..., dict[str, Any]]


def agent_event(handler: Handler) -> Handler:
    """Authorize (a live, active agent session) and turn every failure into a protocol error."""

    @functools.wraps(handler)
    def wrapper(self: ConsoleNamespace, data: object = None) -> dict[str, Any]:
        try:
            viewer = self.current_viewer()
            if viewer is None:
                # Logged out (or deactivated) in another tab: say so, and stop the broadcasts.
                self.emit("session_ended", {"type": "session_ended"}, room=request.sid)  # type: ignore[attr-defined]
                disconnect()
                return fail("unauthorized", _("Your session has ended. Log in again."))
            payload = data if isinstance(data, dict) else {}
            return handler(self, viewer, payload)
        except Refused as exc:
            return fail(exc.code, exc.message)
        except AccessDenied as exc:
            return fail(exc.code, exc.message)
        except TicketNotFound:
            return fail("not_found", _("No such ticket."))
        except InvalidChange as exc:
            return fail("invalid", str(exc))
        except Exception as exc:  # noqa: BLE001 - never crash on input; log the type only (no personal data)
            log.error("console %s failed: %s", handler.__name__, type(exc).__name__)
            return fail("server_error", _("Something went wrong. Please try again."))

    return wrapper


def same_origin() -> bool:
    """Cookies ride along on cross-site WebSockets: only our own pages may open the console."""
    origin = request.headers.get("Origin")
    if not origin:
        return True  # not a browser (python-socketio, curl): the session cookie still decides
    parts = urlsplit(origin)
    return parts.netloc == request.host


class ConsoleNamespace(Namespace):
    def __init__(self, svc: Services) -> None:
        super().__init__(CONSOLE_NAMESPACE)
        self.svc = svc
        self._lock = threading.Lock()
        self._agents: dict[str, int] = {}  # sid -> agent id, this process's connections
        self.sessions = SessionWatch(svc, self._session_ended, svc.settings.session_check_seconds)

    # -- connection ---------------------------------------------------------------------------
    def current_viewer(self) -> Viewer | None:
        if not getattr(current_user, "is_authenticated", False):
            return None
        if enrolment_due(self.svc, current_user):  # as the pages: enrolment first (not after SSO)
            return None
        return load_viewer(self.svc, current_user.id)

    def on_connect(self, auth: object = None) -> bool:
        viewer = self.current_viewer()
        if viewer is None or not same_origin():
            raise ConnectionRefusedError("unauthorized")
        sid: str = request.sid  # type: ignore[attr-defined]
        with self._lock:
            self._agents[sid] = viewer.id
        self.sessions.add(sid, current_user.session_key)
        join_room(room_for_agent(viewer.id))
        for name in visible_queues(self.svc, viewer):
            join_room(room_for_queue(name))
        if viewer.sees_all:
            join_room(CONSOLE_ROOM)
        self._set_online(viewer.id, True)
        return True

    def on_disconnect(self, *args: object) -> None:
        self.sessions.discard(request.sid)  # type: ignore[attr-defined]
        with self._lock:
            agent_id = self._agents.pop(request.sid, None)  # type: ignore[attr-defined]
            still = agent_id in self._agents.values()
        if agent_id is not None and not still:
            self._set_online(agent_id, False)

    def _set_online(self, agent_id: int, online: bool) -> None:
        """Agent.online and last_seen_at feed auto-assignment and the chat's "agent online"."""
        try:
            with self.svc.db.transaction() as s:
                s.execute(
                    update(Agent)
                    .where(Agent.id == agent_id)
                    .values(online=online, last_seen_at=self.svc.clock.now())
                )
        except Exception as exc:  # noqa: BLE001 - presence is advisory; never fail a connection over it
            log.warning("agent presence update failed: %s", type(exc).__name__)

    def _session_ended(self, sid: str) -> None:
        """Logged out elsewhere, deactivated or idle too long: say so, then hang up."""
        server = self.socketio.server
        server.emit("session_ended", {"type": "session_ended"}, to=sid, namespace=self.namespace)
        server.disconnect(sid, namespace=self.namespace)

    # -- helpers ------------------------------------------------------------------------------
    def _ticket(self, viewer: Viewer, data: dict[str, Any]) -> Ticket:
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference or len(reference) > 20:
            raise Refused("bad_reference", _("Give a ticket reference."))
        with self.svc.db.session() as s:
            ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
            if ticket is None:
                raise TicketNotFound(reference)
            s.expunge(ticket)
        require_see(viewer, ticket)
        return ticket

    def _prune_ticket_room(self, reference: str) -> None:
        """After a queue or assignee change, agents here who may no longer see the ticket stop
        getting its live events (each process prunes its own connections; actions are checked
        on every event anyway)."""
        room = room_for_ticket(reference)
        server = self.socketio.server
        with self.svc.db.session() as s:
            ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
            if ticket is None:
                return
            s.expunge(ticket)
        for sid, _eio_sid in list(server.manager.get_participants(CONSOLE_NAMESPACE, room)):
            agent_id = self._agents.get(sid)
            viewer = load_viewer(self.svc, agent_id) if agent_id is not None else None
            if not can_see(viewer, ticket):
                server.leave_room(sid, room, namespace=CONSOLE_NAMESPACE)

    @staticmethod
    def _text(data: dict[str, Any]) -> str:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused("empty", _("Write something first."))
        if len(text) > MAX_TEXT:
            raise Refused("too_long", _("The text is too long."))
        return text.strip()

    def _presence(self, viewer: Viewer, reference: str, state: str) -> None:
        self.emit(
            "presence",
            {
                "type": "presence",
                "reference": reference,
                "agent": {"id": viewer.id, "name": viewer.name},
                "state": state,
            },
            room=room_for_ticket(reference),
            include_self=False,
        )

    def _citizen_typing(self, ticket: Ticket, viewer: Viewer, typing: bool) -> None:
        if ticket.channel != "chat":
            return
        with self.svc.db.session() as s:
            hashes = s.scalars(
                select(ContactIdentity.value).where(
                    ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.kind == "chat"
                )
            ).all()
        for hashed in hashes:
            self.svc.publisher.publish(
                event(
                    "typing",
                    f"visitor:{hashed}",
                    namespace="/chat",
                    typing=typing,
                    name=viewer.name,
                )
            )

    # -- events -------------------------------------------------------------------------------
    @agent_event
    def on_heartbeat(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        self._set_online(viewer.id, True)
        return {"ok": True}

    @agent_event
    def on_counts(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, **queries.queue_counts(self.svc, viewer)}

    @agent_event
    def on_view(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        join_room(room_for_ticket(ticket.reference))
        self._presence(viewer, ticket.reference, "viewing")
        return {"ok": True, "last_seq": ticket.last_seq, "status": ticket.status}

    @agent_event
    def on_leave(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        # Leaving is always safe; announcing presence is not: only for a ticket the agent may see
        # (otherwise anyone could post "left" into any ticket's room).
        ticket = self._ticket(viewer, data)
        leave_room(room_for_ticket(ticket.reference))
        self._presence(viewer, ticket.reference, "left")
        return {"ok": True}

    @agent_event
    def on_presence(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        state = data.get("state")
        if state not in PRESENCE_STATES:
            raise Refused("bad_state", _("Unknown presence state."))
        self._presence(viewer, ticket.reference, str(state))
        if state != "noting":
            # Only typing in the reply box shows on the citizen's side, never a note.
            self._citizen_typing(ticket, viewer, state == "typing")
        return {"ok": True}

    @agent_event
    def on_reply(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        ref = reply_to_ticket(self.svc, ticket.reference, Actor.agent(viewer.id), self._text(data))
        return {"ok": True, "seq": ref.seq, "message_id": ref.message_id}

    @agent_event
    def on_note(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        ref = add_note(self.svc, ticket.reference, Actor.agent(viewer.id), self._text(data))
        return {"ok": True, "seq": ref.seq, "message_id": ref.message_id}

    @agent_event
    def on_claim(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        require_change(viewer, ticket, "assignee", viewer.id)
        assign_ticket(self.svc, ticket.reference, Actor.agent(viewer.id), viewer.id)
        return {"ok": True}

    @agent_event
    def on_assign(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        target = data.get("agent_id")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            raise Refused("bad_agent", _("Choose an agent."))
        require_change(viewer, ticket, "assignee", target)
        assign_ticket(self.svc, ticket.reference, Actor.agent(viewer.id), target)
        self._prune_ticket_room(ticket.reference)
        return {"ok": True}

    @agent_event
    def on_set(self, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
        ticket = self._ticket(viewer, data)
        field = data.get("field")
        value = data.get("value")
        if field not in SETTERS or not isinstance(value, str):
            raise Refused("bad_field", _("Unknown field."))
        require_change(viewer, ticket, str(field), value)
        SETTERS[str(field)](self.svc, ticket.reference, Actor.agent(viewer.id), value)
        if field == "queue":
            self._prune_ticket_room(ticket.reference)
        return {"ok": True}
