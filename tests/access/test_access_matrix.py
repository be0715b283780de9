"""Every door × every role, on SQLite and PostgreSQL: the one access policy (helpdesk.access).

The world: agent A works queue "accounts", agent N works no queue, plus a supervisor and an admin;
each staff member also has an API token. Three tickets: TA in "accounts", TB in "payments" (only
supervisors and admins may see it), TN in "payments" but assigned to agent N. Each ticket has an
email with an attachment (and HTML for the full-mail page) and a phone recording, a reply in the
email outbox and an SMS in the SMS outbox.

The URL map and the console's socket events are enumerated: a new route or event without a row
here (or an explicit "public" / "covered by" entry) fails `test_every_door_has_a_row`.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.console.namespace import ConsoleNamespace
from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.kb.store import ArticleInput, save_article
from helpdesk.models import Agent, Attachment, Message, OutboxItem, Queue, Ticket
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    AttachmentIn,
    Identity,
    InboundMessage,
    ThreadHints,
    assign_ticket,
    receive_inbound,
    reply_to_ticket,
    set_queue,
)
from tests.conftest import (
    PASSWORD,
    _reset_postgres,
    add_agent,
    csrf_token_from,
    make_services,
    make_settings,
)

STAFF = ("agent_a", "agent_n", "supervisor", "admin")
TOKENS = ("token_a", "token_n", "token_supervisor")
ROLES = ("anonymous", *STAFF, *TOKENS)
TOKEN_OF = {"token_a": "agent_a", "token_n": "agent_n", "token_supervisor": "supervisor"}
# Who may see which ticket, as the console always decided.
SEES = {
    "TA": {"agent_a", "supervisor", "admin"},
    "TB": {"supervisor", "admin"},
    "TN": {"agent_n", "supervisor", "admin"},
}
ANY_STAFF = set(STAFF)
REPORTS = {"supervisor", "admin"}

# -- the door table ---------------------------------------------------------------------------
# (endpoint, method, path, body) -> who may pass. A path with {ref}, {attachment}, {recording} or
# {mail} is a ticket door: it is tried for each ticket with the roles that may see it.
TICKET = "ticket"


@dataclass(frozen=True)
class Door:
    endpoint: str
    method: str
    path: str
    allowed: set[str] | str  # role names, or TICKET (console roles) / "api_ticket" (token roles)
    json: dict[str, Any] | None = None
    form: bool = False  # a CSRF-protected form post
    try_allowed: bool = True  # False: a change with side effects; only the refusals are tried here


DOORS = [
    Door("console.index", "GET", "/console", ANY_STAFF),
    Door("console.board", "GET", "/console/board", ANY_STAFF),
    Door("console.save_view", "POST", "/console/views", ANY_STAFF, form=True),
    Door("console.ticket_view", "GET", "/console/tickets/{ref}", TICKET),
    Door("console.timeline", "GET", "/console/tickets/{ref}/timeline", TICKET),
    Door("console.ticket_fields", "GET", "/console/tickets/{ref}/fields", TICKET),
    Door("console.merge_ticket", "GET", "/console/tickets/{ref}/merge", TICKET),
    Door("console.link_ticket", "POST", "/console/tickets/{ref}/link", TICKET, form=True),
    Door("console.merge_contact", "GET", "/console/contacts/1/merge", REPORTS),
    Door("console.canned_list", "GET", "/console/canned", ANY_STAFF),
    Door("console.canned_edit", "GET", "/console/canned/new", {"admin"}),  # editors and admins
    Door("console.profile", "GET", "/console/profile", ANY_STAFF),
    Door("web.attachment", "GET", "/attachments/{attachment}", TICKET),
    Door("phone_console.recording", "GET", "/console/phone/recordings/{recording}", TICKET),
    Door("email_console.message_view", "GET", "/console/email/messages/{mail}", TICKET),
    Door("phone_console.call_back", "POST", "/console/phone/call/{ref}", TICKET, form=True),
    Door("callbacks.queue", "GET", "/console/callbacks", ANY_STAFF),
    Door(
        "callbacks.outcome",
        "POST",
        "/console/tickets/{ref}/callback/outcome",
        TICKET,
        form=True,
        try_allowed=False,
    ),
    Door(
        "callbacks.edit_accommodations",
        "POST",
        "/console/tickets/{ref}/accommodations",
        TICKET,
        form=True,
        try_allowed=False,
    ),
    Door("email_console.outbox", "GET", "/console/email/outbox", ANY_STAFF),
    Door("phone_console.outbox", "GET", "/console/phone/outbox", ANY_STAFF),
    Door("phone_console.simulator", "GET", "/console/phone/simulator", ANY_STAFF),
    Door("kb_console.index", "GET", "/console/kb", ANY_STAFF),
    Door("kb_console.new", "GET", "/console/kb/new", {"admin"}),  # editors and admins
    Door("kb_console.edit", "GET", "/console/kb/{article}/edit", {"admin"}),
    Door("kb_console.confirm_delete", "GET", "/console/kb/{article}/delete", {"admin"}),
    Door("kb_console.categories", "GET", "/console/kb/categories", {"admin"}),
    Door("supervisor.dashboard", "GET", "/supervisor", REPORTS),
    Door("supervisor.export", "GET", "/supervisor/export/volume.csv", REPORTS),
    Door("supervisor.export_xlsx", "GET", "/supervisor/export/volume.xlsx", REPORTS),
    # Privacy: a citizen's data requests and the access log (supervisors), retention (admins).
    Door("privacy_pages.requests", "GET", "/supervisor/privacy", REPORTS),
    Door("privacy_pages.contact", "GET", "/supervisor/privacy/contacts/1", REPORTS),
    Door("privacy_pages.access", "GET", "/supervisor/privacy/access-log", REPORTS),
    Door(
        "privacy_pages.export",
        "POST",
        "/supervisor/privacy/contacts/1/export",
        REPORTS,
        form=True,
        try_allowed=False,
    ),
    Door(
        "privacy_pages.erase",
        "POST",
        "/supervisor/privacy/contacts/1/erase",
        REPORTS,
        form=True,
        try_allowed=False,
    ),
    Door("privacy_pages.retention", "GET", "/admin/retention", {"admin"}),
    Door(
        "privacy_pages.retention_remove",
        "POST",
        "/admin/retention/remove",
        {"admin"},
        form=True,
        try_allowed=False,
    ),
    # Incidents: every agent sees them and answers the linked tickets it may see; supervisors
    # open, edit and close them (tests/incidents drive the changes themselves).
    Door("incidents.index", "GET", "/supervisor/incidents", ANY_STAFF),
    Door("incidents.detail", "GET", "/supervisor/incidents/1", ANY_STAFF),
    Door("incidents.new", "GET", "/supervisor/incidents/new", REPORTS),
    Door("incidents.create", "POST", "/supervisor/incidents", REPORTS, form=True, try_allowed=False),
    Door("incidents.update", "POST", "/supervisor/incidents/1", REPORTS, form=True, try_allowed=False),
    Door("incidents.close", "POST", "/supervisor/incidents/1/close", REPORTS, form=True, try_allowed=False),
    Door(
        "incidents.answer", "POST", "/supervisor/incidents/1/answer", ANY_STAFF, form=True, try_allowed=False
    ),
    Door("incidents.link", "POST", "/supervisor/incidents/1/link", ANY_STAFF, form=True, try_allowed=False),
    Door(
        "incidents.unlink", "POST", "/supervisor/incidents/1/unlink", ANY_STAFF, form=True, try_allowed=False
    ),
    # The admin blueprint: admins only (its own tests drive the changes themselves).
    *[
        Door(f"admin.{name}", "GET", path, {"admin"})
        for name, path in (
            ("index", "/admin"),
            ("agents", "/admin/agents"),
            ("agent_edit", "/admin/agents/1"),
            ("queues", "/admin/queues"),
            ("queue_edit", "/admin/queues/accounts"),
            ("categories", "/admin/categories"),
            ("hours", "/admin/hours"),
            ("routes", "/admin/routes"),
            ("tokens", "/admin/tokens"),
        )
    ],
    Door("admin.category_edit", "GET", "/admin/categories/accounts_login", {"admin"}, try_allowed=False),
    *[
        Door(f"admin.{name}", "POST", path, {"admin"}, form=True, try_allowed=False)
        for name, path in (
            ("agent_create", "/admin/agents"),
            ("agent_update", "/admin/agents/1"),
            ("agent_active", "/admin/agents/1/active"),
            ("queue_create", "/admin/queues"),
            ("queue_rename", "/admin/queues/accounts"),
            ("category_rename", "/admin/categories/accounts_login"),
            ("hours_save", "/admin/hours"),
            ("routes_save", "/admin/routes"),
            ("token_revoke", "/admin/tokens/1/revoke"),
        )
    ],
    Door("api.list_tickets", "GET", "/api/v1/tickets", set(TOKENS)),
    Door("api.show_ticket", "GET", "/api/v1/tickets/{ref}", "api_ticket"),
    Door("api.update_ticket", "PATCH", "/api/v1/tickets/{ref}", "api_ticket", json={"priority": "high"}),
    Door(
        "api.post_message",
        "POST",
        "/api/v1/tickets/{ref}/messages",
        "api_ticket",
        json={"body": "Interna beleška", "internal": True},
    ),
    Door("metrics_api.weekly", "GET", "/api/v1/metrics/weekly", {"token_supervisor"}),
]
# Open to everyone on purpose (citizen pages, signed webhooks, health, the API's public form).
PUBLIC = {
    "web.home": "the citizen's front door (staff are redirected by role)",
    "contact.form": "citizens' contact form",
    "contact.send": "citizens' contact form (CSRF, rate limited)",
    "contact.sent": "the contact form's confirmation (reference from the session)",
    "callback.form": "citizens' callback page",
    "callback.send": "citizens' callback page (CSRF, rate limited)",
    "callback.sent": "the callback page's confirmation (reference from the session)",
    "web.healthz": "health probe",
    "web.metrics": "Prometheus; HELPDESK_METRICS_TOKEN guards it",
    "web.vendor": "front-end packages",
    "static": "static files",
    "auth.login": "the login form",
    "twofactor.code": "the login's second step (a pending login in the signed session; throttled)",
    "oidc.start": "the 'Sign in with ...' button (CSRF form; 404 without single sign-on)",
    "oidc.callback": "the provider's answer (state, PKCE and ID token checked; 404 without SSO)",
    "chat.chat_page": "citizen chat",
    "chat.embed_loader": "citizen chat",
    "help.index": "help center",
    "help.article": "help center (published articles only)",
    "help.feedback": "help center",
    "survey.survey": "citizen survey (token in the link)",
    "api.openapi": "the API description",
    "api.create_ticket": "citizens' web form (rate limited)",
    "kb_api.search": "published articles only",
}
PUBLIC_PREFIXES = ("twilio.",)  # Twilio webhooks: signed requests, checked in tests/channels/phone
# Covered by tests of their own (destructive or session-ending).
COVERED = {
    "auth.logout": "tests/web/test_auth.py::test_login_rotates_the_session_and_logout_revokes_it",
    "kb_console.delete": "tests/kb/test_help_center.py (editors only; archives)",
    "kb_console.restore": "tests/kb/test_help_center.py::test_delete_asks_first_archives_and_restores",
    "console.delete_view": "tests/console/test_console_search.py::test_saved_views_belong_to_their_agent",
    "console.canned_delete": "tests/console/test_console_texts.py (editors only)",
    "api.merge_ticket": "tests/console/test_console_merge.py::test_api_and_cli_merge (403 outside queues)",
    "privacy.reveal_number": "tests/privacy/test_jmbg_flow.py (403 outside queues, audited)",
    "twofactor.setup": "tests/web/test_two_factor.py (the agent's own enrolment, or a pending login's)",
}
# Console socket events: ticket events are tried per ticket, the others need only a staff session.
SOCKET_TICKET_EVENTS = {
    "view": {},
    "presence": {"state": "viewing"},
    "note": {"text": "Beleška"},
    "reply": {"text": "Odgovor"},
    "set": {"field": "priority", "value": "high"},
    "leave": {},
}
SOCKET_VALUE_EVENTS = ("claim", "assign")  # see test_values_an_agent_may_set
SOCKET_PLAIN_EVENTS = ("heartbeat", "counts")


# -- the world --------------------------------------------------------------------------------


@dataclass
class World:
    app: Any
    svc: Services
    agents: dict[str, int]
    tokens: dict[str, str]
    refs: dict[str, str]
    attachments: dict[str, str] = field(default_factory=dict)
    recordings: dict[str, str] = field(default_factory=dict)
    mails: dict[str, int] = field(default_factory=dict)
    article: int = 0
    clients: dict[str, Any] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def request(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        client = self.clients[role]
        headers = kwargs.pop("headers", {})
        if role in TOKENS:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        if kwargs.pop("form", False):
            kwargs["data"] = {"csrf_token": self.csrf[role]}
        return client.open(path, method=method, headers=headers, **kwargs)


def _ticket(svc: Services, key: str, queue: str, assignee: int | None) -> tuple[str, int]:
    email, phone = f"gradjanin.{key.lower()}@example.rs", f"+38164000{len(key)}{ord(key[-1])}"
    first = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", email),
            subject=f"Pitanje {key}",
            text="Poštovani, imam pitanje.",
            html="<p>Poštovani, imam <b>pitanje</b>.</p>",
            attachments=(AttachmentIn("resenje.pdf", "application/pdf", b"%PDF-1.4 " + key.encode()),),
            extra_identities=(Identity("phone", phone),),
        ),
    )
    receive_inbound(
        svc,
        InboundMessage(
            channel="phone",
            sender=Identity("phone", phone),
            subject="",
            text="Govorna poruka",
            attachments=(AttachmentIn("poruka.mp3", "audio/mpeg", b"ID3" + key.encode()),),
            hints=ThreadHints(ticket_reference=first.ticket_reference),
        ),
    )
    system = Actor.system("test")
    set_queue(svc, first.ticket_reference, system, queue)
    assign_ticket(svc, first.ticket_reference, system, assignee)
    return first.ticket_reference, first.message_id


def _login(client: Any, email: str) -> None:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per database for the whole module (the tests put back what they change)."""
    tmp = tmp_path_factory.mktemp("access")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'helpdesk.db'}"
    else:
        url = request.getfixturevalue("pg_server_url")
        _reset_postgres(url)
    settings = make_settings(
        tmp,
        url,
        channels=("channels.chat", "channels.email", "channels.phone", "channels.web"),
        public_url="http://localhost",
        demo=True,  # the phone simulator's pages exist only in demo mode
    )
    svc = make_services(settings)
    app = create_app(settings, services=svc)
    agents = {
        "agent_a": add_agent(svc, "ana@helpdesk.localhost", name="Ana"),
        "agent_n": add_agent(svc, "nikola@helpdesk.localhost", name="Nikola"),
        "supervisor": add_agent(svc, "sara@helpdesk.localhost", "supervisor", name="Sara"),
        "admin": add_agent(svc, "admin@helpdesk.localhost", "admin", name="Admin"),
    }
    with svc.db.transaction() as s:
        s.get_one(Agent, agents["agent_a"]).queues = [
            s.scalars(select(Queue).where(Queue.name == "accounts")).one()
        ]
        tokens = {
            role: create_token(s, s.get_one(Agent, agents[TOKEN_OF[role]]), svc.clock.now())
            for role in TOKENS
        }
    refs: dict[str, str] = {}
    world = World(app, svc, agents, tokens, refs)
    for key, queue, assignee in (
        ("TA", "accounts", None),
        ("TB", "payments", None),
        ("TN", "payments", agents["agent_n"]),
    ):
        refs[key], world.mails[key] = _ticket(svc, key, queue, assignee)
        reply_to_ticket(svc, refs[key], Actor.agent(agents["supervisor"]), f"Odgovor na {key}")
    with svc.db.session() as s:
        for key, ref in refs.items():
            rows = s.execute(
                select(Attachment.public_id, Attachment.content_type)
                .join(Message)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Ticket.reference == ref)
            ).all()
            world.attachments[key] = next(p for p, t in rows if t == "application/pdf")
            world.recordings[key] = next(p for p, t in rows if t == "audio/mpeg")
        items = s.execute(select(OutboxItem.id, Ticket.reference).join(Ticket)).all()
    outbox = settings.data_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    for item_id, ref in items:  # what the email sender writes without a relay
        (outbox / f"20261123T090000-{item_id}.eml").write_text(
            f"To: x@example.rs\nSubject: [{ref}] Odgovor\nMessage-ID: <{item_id}@h>\n\nMail {ref}\n"
        )
    with (outbox / "sms.jsonl").open("w") as sms:
        at = "2026-11-23T09:00:00"
        for ref in refs.values():
            sms.write(json.dumps({"at": at, "to": "+381", "ticket": ref, "body": f"SMS {ref}"}) + "\n")
        sms.write(json.dumps({"at": at, "to": "+381", "body": "SMS of no ticket"}) + "\n")
    open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(  # incident 1, after the tickets
            title="Portal ne radi", notice_sr_latn="Portal ne radi.", keywords="portal"
        ),
    )
    world.article = save_article(
        svc, ArticleInput(title="Kako platiti taksu", body="Uputstvo " * 20, language="sr")
    ).id
    for role in ROLES:
        client = app.test_client()
        world.clients[role] = client
        if role in STAFF:
            email = {"agent_a": "ana", "agent_n": "nikola", "supervisor": "sara", "admin": "admin"}[role]
            _login(client, f"{email}@helpdesk.localhost")
            page = client.get("/console/kb").get_data(as_text=True)
        else:
            page = client.get("/login").get_data(as_text=True)
        world.csrf[role] = csrf_token_from(page)
    yield world
    svc.db.dispose()


# -- the tests --------------------------------------------------------------------------------


def _outcome(response: Any) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (401, 403) or (response.status_code == 302 and "/login" in location):
        return "deny"
    if response.status_code < 400:
        return "allow"
    return f"status {response.status_code}"


def _cases(world: World) -> Iterator[tuple[Door, str, str, set[str]]]:
    for door in DOORS:
        if door.allowed in (TICKET, "api_ticket"):
            for key, ref in world.refs.items():
                path = door.path.format(
                    ref=ref,
                    attachment=world.attachments[key],
                    recording=world.recordings[key],
                    mail=world.mails[key],
                )
                if door.allowed == TICKET:
                    allowed = set(SEES[key])
                else:
                    allowed = {t for t in TOKENS if TOKEN_OF[t] in SEES[key]}
                yield door, f"{door.endpoint} {key}", path, allowed
        else:
            assert isinstance(door.allowed, set)
            yield door, door.endpoint, door.path.format(article=world.article), door.allowed


def test_every_door_has_a_row(world: World) -> None:
    covered = {(d.endpoint, d.method) for d in DOORS}
    missing = []
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint in COVERED or rule.endpoint.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # A form's POST runs the same view function, behind the same gate, as its GET row.
            same_view = method == "POST" and (rule.endpoint, "GET") in covered
            if (rule.endpoint, method) not in covered and not same_view:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "a door without a row in the access matrix"
    events = {name[3:] for name, _ in inspect.getmembers(ConsoleNamespace) if name.startswith("on_")}
    events -= {"connect", "disconnect"}
    listed = set(SOCKET_TICKET_EVENTS) | set(SOCKET_VALUE_EVENTS) | set(SOCKET_PLAIN_EVENTS)
    assert events - listed == set(), "a console socket event without a row in the access matrix"


def test_http_doors_by_role(world: World) -> None:
    wrong = []
    for door, name, path, allowed in _cases(world):
        for role in ROLES:
            if role in allowed and not door.try_allowed:
                continue
            response = world.request(role, door.method, path, json=door.json, form=door.form)
            response.close()  # files are streamed; close them
            got, want = _outcome(response), "allow" if role in allowed else "deny"
            if got != want:
                wrong.append(f"{name} as {role}: {got}, expected {want}")
    assert wrong == []


def _texts(world: World, role: str, path: str) -> str:
    response = world.request(role, "GET", path)
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_lists_and_outboxes_show_only_what_the_role_may_see(world: World) -> None:
    refs = world.refs
    for role in STAFF:
        visible = {k for k, roles in SEES.items() if role in roles}
        for path in ("/console/board", "/console/email/outbox", "/console/phone/outbox"):
            page = _texts(world, role, path)
            shown = {k for k, ref in refs.items() if ref in page}
            assert shown == visible, (role, path)
        sms = _texts(world, role, "/console/phone/outbox")
        assert ("SMS of no ticket" in sms) == (role in REPORTS)  # lines of no ticket: supervisors
    for role in TOKENS:
        visible = {refs[k] for k, roles in SEES.items() if TOKEN_OF[role] in roles}
        body = world.request(role, "GET", "/api/v1/tickets").get_json()
        assert {t["reference"] for t in body["tickets"]} == visible and body["total"] == len(visible)
        # A filter never widens what the policy allows, and the total counts the same rows.
        payments = world.request(role, "GET", "/api/v1/tickets?queue=payments").get_json()
        expected = {refs[k] for k in ("TB", "TN")} & visible
        assert {t["reference"] for t in payments["tickets"]} == expected
        assert payments["total"] == len(expected)


def _socket(world: World, role: str) -> Any:
    socketio = world.app.extensions["socketio"]
    return socketio.test_client(world.app, namespace="/console", flask_test_client=world.clients[role])


def test_socket_events_by_role(world: World) -> None:
    for role in ("anonymous", *TOKENS):  # no session, no console
        assert not _socket(world, role).is_connected("/console")
    wrong = []
    for role in STAFF:
        sock = _socket(world, role)
        assert sock.is_connected("/console")
        for event in SOCKET_PLAIN_EVENTS:
            assert sock.emit(event, {}, namespace="/console", callback=True)["ok"]
        for event, payload in SOCKET_TICKET_EVENTS.items():
            for key, ref in world.refs.items():
                answer = sock.emit(event, {"reference": ref, **payload}, namespace="/console", callback=True)
                got = "allow" if answer.get("ok") else answer["error"]["code"]
                want = "allow" if role in SEES[key] else "forbidden"
                if got != want:
                    wrong.append(f"{event} {key} as {role}: {got}, expected {want}")
        sock.disconnect(namespace="/console")
    assert wrong == []


def test_leave_announces_nothing_for_a_ticket_the_agent_may_not_see(world: World) -> None:
    sara, nikola = _socket(world, "supervisor"), _socket(world, "agent_n")
    ref = world.refs["TB"]
    assert sara.emit("view", {"reference": ref}, namespace="/console", callback=True)["ok"]
    sara.get_received("/console")
    answer = nikola.emit("leave", {"reference": ref}, namespace="/console", callback=True)
    assert answer["error"]["code"] == "forbidden"
    heard = [e for e in sara.get_received("/console") if e["name"] == "presence"]
    assert heard == []  # nobody learns that Nikola was (or left) there


def _api_set(world: World, role: str, key: str, body: dict[str, Any]) -> str:
    response = world.request(role, "PATCH", f"/api/v1/tickets/{world.refs[key]}", json=body)
    return "allow" if response.status_code == 200 else _outcome(response)


def _state(world: World, key: str) -> tuple[str, int | None]:
    with world.svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == world.refs[key])).one()
        return ticket.queue, ticket.assignee_id


def test_values_an_agent_may_set(world: World) -> None:
    ids = world.agents
    # (who, ticket, change, expected): the same rules over the API and the console socket.
    rows: list[tuple[str, str, dict[str, Any], str]] = [
        ("agent_a", "TA", {"queue": "payments"}, "deny"),  # not her queue
        ("agent_a", "TA", {"queue": "accounts"}, "allow"),  # staying is no move
        ("agent_a", "TA", {"assignee": ids["agent_n"]}, "deny"),  # not to others
        ("agent_a", "TA", {"assignee": ids["agent_a"]}, "allow"),  # herself
        ("agent_a", "TA", {"assignee": None}, "allow"),  # hands back her own
        ("agent_n", "TA", {"assignee": ids["agent_n"]}, "deny"),  # cannot take what it cannot see
        ("agent_n", "TN", {"queue": "accounts"}, "deny"),  # no queue of its own
        ("supervisor", "TB", {"assignee": ids["agent_a"]}, "allow"),
        ("supervisor", "TB", {"assignee": None}, "allow"),
        ("supervisor", "TB", {"queue": "accounts"}, "allow"),
        ("supervisor", "TB", {"queue": "payments"}, "allow"),
    ]
    wrong = []
    token_of = {v: k for k, v in TOKEN_OF.items()}
    for who, key, change, want in rows:
        got = _api_set(world, token_of[who], key, change)
        if got != want:
            wrong.append(f"API {who} {key} {change}: {got}")
    sockets = {who: _socket(world, who) for who in ("agent_a", "agent_n", "supervisor")}
    for who, key, change, want in rows:
        ref = world.refs[key]
        if "queue" in change:
            payload = {"reference": ref, "field": "queue", "value": change["queue"]}
            answer = sockets[who].emit("set", payload, namespace="/console", callback=True)
        elif change["assignee"] == ids[who]:
            answer = sockets[who].emit("claim", {"reference": ref}, namespace="/console", callback=True)
        else:
            payload = {"reference": ref, "agent_id": change["assignee"]}
            answer = sockets[who].emit("assign", payload, namespace="/console", callback=True)
        got = "allow" if answer.get("ok") else "deny"
        if got != want:
            wrong.append(f"socket {who} {key} {change}: {answer}")
    assert wrong == []
    # Nothing refused changed anything.
    assert _state(world, "TA") == ("accounts", None)
    assert _state(world, "TB") == ("payments", None)
    assert _state(world, "TN") == ("payments", ids["agent_n"])


def test_attachment_urls_are_not_guessable(world: World) -> None:
    with world.svc.db.session() as s:
        first_id, public_id = s.execute(
            select(Attachment.id, Attachment.public_id).order_by(Attachment.id)
        ).first()  # type: ignore[misc]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", public_id)
    assert world.request("supervisor", "GET", f"/attachments/{first_id}").status_code == 404
    assert world.request("supervisor", "GET", f"/console/phone/recordings/{first_id}").status_code == 404


def test_a_deactivated_agent_loses_every_door_at_once(world: World) -> None:
    """Deactivation (helpdesk user deactivate, the admin page) ends the session, the token and
    the socket together: the policy loads the agent fresh for every request and event."""
    sock = _socket(world, "agent_n")
    assert sock.emit("view", {"reference": world.refs["TN"]}, namespace="/console", callback=True)["ok"]
    with world.svc.db.transaction() as s:
        s.get_one(Agent, world.agents["agent_n"]).active = False
    try:
        page = world.request("agent_n", "GET", f"/console/tickets/{world.refs['TN']}")
        assert _outcome(page) == "deny"
        assert world.request("token_n", "GET", "/api/v1/tickets").status_code == 401
        answer = sock.emit("view", {"reference": world.refs["TN"]}, namespace="/console", callback=True)
        assert answer["error"]["code"] == "unauthorized"
    finally:
        with world.svc.db.transaction() as s:
            s.get_one(Agent, world.agents["agent_n"]).active = True
