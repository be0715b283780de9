"""API v1 endpoints for tickets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from helpdesk.access import AccessDenied, require_change, require_see, ticket_filter
from helpdesk.api.auth import api_agent, api_viewer, token_required
from helpdesk.api.errors import ApiError, error_response
from helpdesk.api.openapi import openapi_document
from helpdesk.api.rate import rate_limited
from helpdesk.api.validation import choice_field, int_arg, json_body, readable, text_field
from helpdesk.auth import public
from helpdesk.models import CHANNELS, PRIORITIES, STATUSES, Agent, Message, Queue, Ticket
from helpdesk.services import current_services
from helpdesk.ticket_search import apply_text_search
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    InvalidChange,
    TicketNotFound,
    add_note,
    assign_ticket,
    get_ticket,
    merge_tickets,
    message_dict,
    preview_ticket_merge,
    receive_inbound_ticket,
    reply_to_ticket,
    set_category,
    set_priority,
    set_queue,
    set_status,
    ticket_dict,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_ID = 2_147_483_647  # the largest id both databases store
SEARCH_COUNT_CAP = 10_000  # a text search counts this many matches at most (total_is_estimate)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    return error_response(exc.status, exc.message, exc.code, exc.details)


@bp.errorhandler(AccessDenied)
def _denied(exc: AccessDenied) -> tuple[Response, int]:
    return error_response(403, exc.message, exc.code)


@bp.errorhandler(InvalidChange)
def _invalid(exc: InvalidChange) -> tuple[Response, int]:
    return error_response(422, str(exc))


@bp.errorhandler(TicketNotFound)
def _missing(exc: TicketNotFound) -> tuple[Response, int]:
    return error_response(404, "No ticket with that reference.")


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    return error_response(status, None if status != 429 else "Too many requests; try again later.")


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    current_app.logger.exception("API error")
    return error_response(500)


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(openapi_document())


def _ticket_rate() -> str:
    return current_services().settings.api_ticket_rate_limit


@bp.post("/tickets")
@public
@rate_limited(_ticket_rate, "api.create_ticket")
def create_ticket() -> tuple[Response, int]:
    """An inquiry from a web form. No token: citizens use it; rate limited per address."""
    body = json_body()
    contact = body.get("contact")
    if not isinstance(contact, dict):
        raise ApiError(
            422,
            "'contact' must be an object with name and email or phone.",
            details={"field": "contact"},
        )
    name = text_field(contact, "name", max_len=200, label="contact.name")
    email = text_field(contact, "email", required=False, max_len=320, label="contact.email")
    phone = text_field(contact, "phone", required=False, max_len=40, label="contact.phone")
    subject = text_field(body, "subject", max_len=300)
    text = text_field(body, "body", max_len=50_000)
    language = choice_field(body, "language", ("sr", "sr-Latn", "sr-Cyrl", "en"))
    if not email and not phone:
        raise ApiError(
            422,
            "Give 'contact.email' or 'contact.phone' so that we can answer.",
            details={"field": "contact.email"},
        )
    sender = Identity("email", email) if email else Identity("phone", phone or "")
    extra = (Identity("phone", phone),) if email and phone else ()
    lang, script = _language(language)
    svc = current_services()
    try:
        result, created = receive_inbound_ticket(
            svc,
            InboundMessage(
                channel="web",
                sender=sender,
                sender_name=name,
                subject=subject or "",
                text=text or "",
                language=lang,
                script=script,
                extra_identities=extra,
                wants_acknowledgement=True,
            ),
        )
    except InvalidChange as exc:
        raise ApiError(422, f"contact: {exc}.", details={"field": "contact"}) from None
    if created is not None:  # the ticket as the core just wrote it: no re-read
        return jsonify(created), 201
    with svc.db.session() as s:
        ticket = get_ticket(s, result.ticket_reference)
        return jsonify(ticket_dict(ticket)), 201


def _language(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if value == "en":
        return "en", "latn"
    return "sr", "cyrl" if value == "sr-Cyrl" else "latn"


@bp.get("/tickets")
@token_required("agent")
def list_tickets() -> Response:
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 25, 1, 100)
    viewer = api_viewer()
    # The policy's filter goes into the query itself, so pages and the total agree with it.
    stmt = select(Ticket).where(Ticket.merged_into_id.is_(None), ticket_filter(viewer))
    for name, column, choices in (
        ("status", Ticket.status, STATUSES),
        ("channel", Ticket.channel, CHANNELS),
    ):
        value = request.args.get(name)
        if value is not None:
            if value not in choices:
                raise ApiError(422, f"'{name}' must be one of: {', '.join(choices)}.")
            stmt = stmt.where(column == value)
    if (queue := request.args.get("queue")) is not None:
        stmt = stmt.where(Ticket.queue == queue)
    assignee = request.args.get("assignee")
    if assignee == "me":
        stmt = stmt.where(Ticket.assignee_id == viewer.id)
    elif assignee == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif assignee is not None:
        stmt = stmt.where(Ticket.assignee_id == _agent_id_arg(assignee))
    svc = current_services()
    with svc.db.session() as s:
        if q := request.args.get("q"):
            stmt = apply_text_search(stmt, s, q)
            # A common word matches a large share of a big store: counting every match is the
            # costly part of a search, and "10,000 or more" tells the agent as much.
            counted: Select[Any] = stmt.with_only_columns(Ticket.id).limit(SEARCH_COUNT_CAP + 1)
        else:
            counted = stmt
        total = s.scalar(select(func.count()).select_from(counted.subquery())) or 0
        estimate = bool(q) and total > SEARCH_COUNT_CAP
        if estimate:
            total = SEARCH_COUNT_CAP
        rows = s.scalars(stmt.order_by(Ticket.id.desc()).limit(per_page).offset((page - 1) * per_page))
        tickets = [ticket_dict(t) for t in rows]
    return jsonify(
        {
            "tickets": tickets,
            "page": page,
            "per_page": per_page,
            "total": total,
            "total_is_estimate": estimate,
        }
    )


def _agent_id_arg(value: str) -> int:
    # ASCII digits only ("¹".isdigit() is true) and within the database's integer range.
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_ID:
        raise ApiError(
            422, "'assignee' must be an agent id, 'me' or 'none'.", details={"field": "assignee"}
        )
    return int(value)


@bp.get("/tickets/<reference>")
@token_required("agent")
def show_ticket(reference: str) -> Response:
    svc = current_services()
    viewer = api_viewer()
    with svc.db.session() as s:
        ticket = get_ticket(s, reference)
        require_see(viewer, ticket)
        agents = {
            a.id: a
            for a in s.scalars(
                select(Agent)
                .join(Message, Message.agent_id == Agent.id)
                .where(Message.ticket_id == ticket.id)
            )
        }
        data = ticket_dict(ticket)
        data["messages"] = [message_dict(m, agents.get(m.agent_id or 0)) for m in ticket.messages]
    return jsonify(data)


@bp.patch("/tickets/<reference>")
@token_required("agent")
def update_ticket(reference: str) -> Response:
    body = json_body()
    allowed = {"status", "priority", "queue", "category", "assignee"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(422, f"Unknown field(s): {', '.join(unknown)}.", details={"fields": unknown})
    if not body:
        raise ApiError(422, "Nothing to change.")
    svc = current_services()
    actor = Actor.agent(api_agent().id)
    # Read and check every field first, so that a bad one changes nothing at all.
    status = choice_field(body, "status", STATUSES)
    priority = choice_field(body, "priority", PRIORITIES)
    # A field that is present must carry a value: "" or null is refused, not silently skipped.
    queue = text_field(body, "queue", required="queue" in body, max_len=64)
    category = text_field(body, "category", required="category" in body, max_len=40)
    viewer = api_viewer()
    with svc.db.session() as s:
        ticket = get_ticket(s, reference)  # 404 before any change
        require_see(viewer, ticket)
        if queue is not None and s.scalar(select(Queue.id).where(Queue.name == queue)) is None:
            raise ApiError(422, f"There is no queue named '{queue}'.", details={"field": "queue"})
        s.expunge(ticket)
    assignee = _assignee_id(body["assignee"]) if "assignee" in body else None
    # The policy decides on the values too, before anything changes (403 changes nothing).
    if queue is not None:
        require_change(viewer, ticket, "queue", queue)
    if "assignee" in body:
        require_change(viewer, ticket, "assignee", assignee)
    if status is not None:
        set_status(svc, reference, actor, status)
    if priority is not None:
        set_priority(svc, reference, actor, priority)
    if queue is not None:
        set_queue(svc, reference, actor, queue)
    if category is not None:
        set_category(svc, reference, actor, category)
    if "assignee" in body:
        assign_ticket(svc, reference, actor, assignee)
    with svc.db.session() as s:
        return jsonify(ticket_dict(get_ticket(s, reference)))


def _assignee_id(value: Any) -> int | None:
    if value is None:
        return None
    svc = current_services()
    with svc.db.session() as s:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ApiError(422, "'assignee' must be an agent id, an agent's email or null.")
        if isinstance(value, str) and (not readable(value) or len(value) > 320):
            raise ApiError(422, "'assignee' is not an active agent.", details={"field": "assignee"})
        if isinstance(value, int):
            agent = s.get(Agent, value) if 0 < value <= MAX_ID else None
        else:
            agent = s.scalar(select(Agent).where(Agent.email == value.strip().lower()))
        if agent is None or not agent.active:
            raise ApiError(422, "'assignee' is not an active agent.", details={"field": "assignee"})
        return agent.id


@bp.post("/tickets/<reference>/messages")
@token_required("agent")
def post_message(reference: str) -> tuple[Response, int]:
    body = json_body()
    text = text_field(body, "body", max_len=100_000) or ""
    internal = body.get("internal", False)
    if not isinstance(internal, bool):
        raise ApiError(422, "'internal' must be true or false.", details={"field": "internal"})
    svc = current_services()
    viewer = api_viewer()
    with svc.db.session() as s:
        require_see(viewer, get_ticket(s, reference))
    actor = Actor.agent(viewer.id)
    ref = add_note(svc, reference, actor, text) if internal else reply_to_ticket(svc, reference, actor, text)
    with svc.db.session() as s:
        message = s.get_one(Message, ref.message_id)
        return jsonify(message_dict(message, s.get(Agent, actor.id))), 201


@bp.post("/tickets/<reference>/merge")
@token_required("agent")
def merge_ticket(reference: str) -> Response:
    """Merge this ticket into ``into``; with ``"preview": true`` only say what would move."""
    body = json_body()
    unknown = sorted(set(body) - {"into", "preview"})
    if unknown:
        raise ApiError(422, f"Unknown field(s): {', '.join(unknown)}.", details={"fields": unknown})
    into = text_field(body, "into", max_len=20) or ""
    preview_only = body.get("preview", False)
    if not isinstance(preview_only, bool):
        raise ApiError(422, "'preview' must be true or false.", details={"field": "preview"})
    svc = current_services()
    viewer = api_viewer()
    with svc.db.session() as s:
        require_see(viewer, get_ticket(s, reference))  # 404, then 403, before anything else
        try:
            target = get_ticket(s, into)
        except TicketNotFound:
            raise ApiError(422, "'into' is not a ticket reference.", details={"field": "into"}) from None
        require_see(viewer, target)  # messages move into it: only a ticket the agent may open
    preview = preview_ticket_merge(svc, reference, into)  # InvalidChange -> 422
    if not preview_only:
        merge_tickets(svc, reference, into, Actor.agent(api_agent().id))
    with svc.db.session() as s:
        return jsonify(
            {
                "merged": not preview_only,
                "preview": preview.as_dict(),
                "source": ticket_dict(get_ticket(s, reference)),
                "target": ticket_dict(get_ticket(s, into)),
            }
        )
