"""No full JMBG at rest: a citizen writes valid national ID numbers by email (smtplib against our
SMTP port: subject, a base64 UTF-8 body and a text attachment), chat (python-socketio), SMS (a
signed Twilio webhook) and the contact form (with a .txt file); an agent pastes one into answers
by email and SMS. Then every byte the office keeps is scanned: the SQLite file with its write-ahead
log, the attachment store, the mail and SMS outboxes and the JSON log. Each number may be there
only encrypted (the sealed values and the sealed originals), never in clear, base64 or
quoted-printable."""

from __future__ import annotations

import base64
import io
import logging
import quopri
import smtplib
import sys
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from channels.phone.channel import EXTENSION_KEY
from channels.phone.signature import sign
from helpdesk import create_app
from helpdesk.attachments import AttachmentStore
from helpdesk.cli.privacy import seal_existing_command
from helpdesk.logs import make_handler
from helpdesk.models import AccessLogEntry, Attachment, AuditEvent, Message, OutboxItem, Ticket
from helpdesk.privacy import jmbg
from helpdesk.privacy.erasure import erase_contact
from helpdesk.privacy.export import export_contact
from helpdesk.services import SystemClock
from helpdesk.tickets import Actor, AttachmentIn, Identity, InboundMessage, receive_inbound, reply_to_ticket
from tests.conftest import LiveServer, free_port, login, make_services, make_settings
from tests.incidents.conftest import wait_for
from tests.privacy.test_jmbg_flow import join_queue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional"))

from hd_servers import Citizen  # noqa: E402

SUPPORT = "podrska@helpdesk.localhost"


def _valid(first12: str) -> str:
    return first12 + str(jmbg.check_digit(first12))


# One number per way in, so a leak says where it came from.
NUMBERS = {
    "mail_subject": _valid("010199071000"),
    "mail_body": _valid("150398580001"),
    "mail_file": _valid("240797576543"),
    "chat": _valid("311200071234"),
    "sms": _valid("070588171000"),
    "form": _valid("120697778901"),
    "form_file": _valid("050501071111"),
    "agent": _valid("280295072222"),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    port = free_port()
    settings = make_settings(
        tmp_path,
        f"sqlite:///{data / 'helpdesk.db'}",  # inside the data dir: one scan covers it
        port=port,
        host="127.0.0.1",
        public_url=f"http://127.0.0.1:{port}",
        channels=("channels.chat", "channels.email", "channels.phone", "channels.web"),
        smtp_port=free_port(),
        mail_domains=("helpdesk.localhost",),
        support_address=SUPPORT,
        outbox_poll_seconds=0.2,
        log_format="json",
    )
    svc = make_services(settings, clock=SystemClock())
    srv = LiveServer(settings, services=svc)
    # The JSON log, at DEBUG, in the data dir (what journald would keep).
    log_file = (data / "helpdesk.log").open("a", encoding="utf-8")
    handler = make_handler(settings, log_file)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for service in svc.background:
        service.start()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
        log_file.close()
        svc.db.dispose()


def _send_mail(server: LiveServer) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Petar Petrović <petar@example.rs>", SUPPORT
    msg["Subject"] = f"Moj JMBG {NUMBERS['mail_subject']}"
    # Cyrillic text in UTF-8: the body goes base64 on the wire (and in the raw original).
    msg.set_content(f"Поштовани, мој ЈМБГ је {NUMBERS['mail_body']}. Хвала!", cte="base64")
    msg.add_attachment(
        f"Ime: Petar\nJMBG: {NUMBERS['mail_file']}\n".encode(), "text", "plain", filename="podaci.txt"
    )
    with smtplib.SMTP("127.0.0.1", server.services.settings.smtp_port, timeout=30) as smtp:
        smtp.send_message(msg)


def _post_sms(server: LiveServer, body: str) -> None:
    phone = server.app.extensions[EXTENSION_KEY]
    url = phone.urls("/sms")
    params = {
        "MessageSid": "SM" + "7" * 32,
        "From": "+381641234567",
        "To": "+381113300900",
        "Body": body,
        "AccountSid": "AC" + "0" * 32,
        "NumMedia": "0",
    }
    response = requests.post(
        server.url + url[len(phone.settings.public_url) :],
        data=params,
        headers={"X-Twilio-Signature": sign(phone.webhook_token, url, params)},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _contact_form(server: LiveServer) -> None:
    http = requests.Session()
    page = http.get(server.url + "/contact?lang=sr-Latn", timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    sent = http.post(
        server.url + "/contact?lang=sr-Latn",
        data={
            "csrf_token": token,
            "consent": "yes",
            "name": "Jelena Jović",
            "email": "jelena@example.rs",
            "subject": "Prijava prebivališta",
            "message": f"Moj JMBG je {NUMBERS['form']}, molim za pomoć.",
        },
        files={"attachments": ("zahtev.txt", f"JMBG podnosioca: {NUMBERS['form_file']}\n".encode())},
        timeout=30,
        allow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-500:]


def _forms(number: str) -> dict[str, bytes]:
    """The number as it could sit in a file: clear, base64 at each of the three alignments (the
    characters only its own bytes decide), and quoted-printable (soft line breaks aside)."""
    forms = {"clear": number.encode(), "qp": quopri.encodestring(number.encode()).strip()}
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + number.encode())
        first = -(-pad // 3) * 4  # the first group of three bytes that is all the number's
        last = (pad + len(number)) // 3 * 4
        forms[f"base64+{pad}"] = encoded[first:last]
    return forms


def scan(data_dir: Path) -> list[str]:
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for where, number in NUMBERS.items():
            for form, needle in _forms(number).items():
                if needle in data:
                    found.append(f"{path.relative_to(data_dir)}: {where} ({form})")
    return found


def test_no_full_jmbg_at_rest_from_any_channel(server: LiveServer) -> None:
    assert all(jmbg.is_valid(n) for n in NUMBERS.values())
    svc = server.services
    _send_mail(server)
    citizen = Citizen(server.url)
    citizen.connect()
    sent = citizen.send(f"Zdravo, moj JMBG je {NUMBERS['chat']}")
    assert sent is not None and sent["ok"]
    citizen.drop()
    _post_sms(server, f"JMBG {NUMBERS['sms']} - kada stize resenje?")
    _contact_form(server)

    def stored() -> dict[str, str]:
        with svc.db.session() as s:
            return {r.channel: r.reference for r in s.execute(select(Ticket.channel, Ticket.reference))}

    tickets = wait_for(lambda: len(t := stored()) == 4 and t, "four tickets")
    for channel in ("email", "sms"):
        reply_to_ticket(
            svc, tickets[channel], Actor.system("test"), f"Proverili smo JMBG {NUMBERS['agent']}."
        )

    def all_sent() -> bool:
        with svc.db.session() as s:
            return not s.scalars(select(OutboxItem).where(OutboxItem.status != "sent")).all()

    wait_for(all_sent, "the outbox sent")
    with svc.db.session() as s:
        texts = " ".join(s.scalars(select(Message.text)))
    # Masked where they are shown (so the test above is not vacuous: the numbers did arrive).
    for where in ("mail_body", "chat", "sms", "form", "agent"):
        assert jmbg.masked(NUMBERS[where]) in texts, where
    # While running, the write-ahead log may still hold the mail as spooled (the SMTP spool's
    # row, deleted once stored): a frame SQLite overwrites later or drops at the checkpoint. The
    # file itself may hold it until the next checkpoint (helpdesk.wal_checkpoint runs one within
    # a second) copies the page with the row deleted and, under secure_delete, its bytes zeroed.
    with svc.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    running = [f for f in scan(svc.settings.data_dir) if not f.startswith("helpdesk.db-wal:")]
    server.stop()
    svc.db.dispose()
    assert running == [], "\n".join(running)

    leaks = scan(svc.settings.data_dir)
    assert leaks == [], "\n".join(leaks)


def test_sealed_originals_open_for_the_ticket_audited_for_the_citizen_and_go_with_erasure(
    tmp_path: Path,
) -> None:
    svc = make_services(make_settings(tmp_path))
    app = create_app(svc.settings, services=svc)
    number, other = NUMBERS["mail_body"], NUMBERS["mail_file"]
    raw = f"From: Petar <petar@example.rs>\r\nSubject: JMBG\r\n\r\nMoj JMBG je {number}.\r\n".encode()
    note = f"JMBG: {other}\n".encode()
    plain = b"%PDF-1.4 nothing personal " + b"x" * 100
    result = receive_inbound(
        svc,
        InboundMessage(
            "email",
            Identity("email", "petar@example.rs"),
            "JMBG",
            f"Moj JMBG je {number}.",
            attachments=(
                AttachmentIn("podaci.txt", "text/plain", note),
                AttachmentIn("obrazac.pdf", "application/pdf", plain),
            ),
            raw=raw,
        ),
    )
    with svc.db.session() as s:
        files = {a.filename: (a.id, a.public_id, a.sha256) for a in s.scalars(select(Attachment))}
        raw_digest = s.scalars(select(Message.raw_path)).one()
        ticket = s.scalars(select(Ticket)).one()
        s.expunge(ticket)
    # On disk: the files that hold a number sealed (the same bytes once: content-addressed).
    store = svc.attachments
    assert store.is_sealed(raw_digest) and store.is_sealed(files["podaci.txt"][2])
    assert not store.is_sealed(files["obrazac.pdf"][2])
    assert store.put(note) == files["podaci.txt"][2] and store.get(files["podaci.txt"][2]) == note

    # An agent of the ticket's queue downloads the original; that is a reveal, audited.
    agent = app.test_client()
    agent_id = login(agent, svc, "agent", "ana@helpdesk.localhost")
    join_queue(svc, agent_id, ticket.queue)
    got = agent.get(f"/attachments/{files['podaci.txt'][1]}")
    assert got.status_code == 200 and got.data == note
    assert got.headers["Cache-Control"] == "private, no-store"
    assert agent.get(f"/attachments/{files['obrazac.pdf'][1]}").data == plain  # in clear: no record
    stranger = app.test_client()
    other_id = login(stranger, svc, "agent", "vesna@helpdesk.localhost")
    join_queue(svc, other_id, "payments" if ticket.queue != "payments" else "documents")
    assert stranger.get(f"/attachments/{files['podaci.txt'][1]}").status_code == 403
    with svc.db.session() as s:
        reveals = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.revealed")).all()
        assert [(e.actor_agent_id, e.after) for e in reveals] == [
            (
                agent_id,
                {"message_id": result.message_id, "attachment_id": files["podaci.txt"][0], "kind": "file"},
            ),
        ]
        logged = s.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "reveal")).all()
        assert [(e.agent_id, e.ticket_id) for e in logged] == [(agent_id, ticket.id)]

    # The citizen's export holds their originals as they sent them.
    export = export_contact(svc, ticket.contact_id, None, "Zahtev za pristup 1/2026")
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    contents = {archive.read(n) for n in archive.namelist() if n != "index.json"}
    assert contents == {raw, note, plain}

    # Erasure removes the sealed files too.
    erase_contact(svc, ticket.contact_id, None, "Zahtev za brisanje 2/2026")
    assert not any(store.path(d).exists() for d in (raw_digest, files["podaci.txt"][2]))
    svc.db.dispose()


def test_files_stored_in_clear_before_are_sealed_by_seal_existing(tmp_path: Path) -> None:
    svc = make_services(make_settings(tmp_path))
    app = create_app(svc.settings, services=svc)
    note = f"JMBG: {NUMBERS['form_file']}\n".encode()
    plain = b"nothing personal, order 0101990710006"  # 13 digits with a bad checksum
    old = AttachmentStore(svc.attachments.root)  # as the store wrote before sealing existed
    digests = [old.put(note), old.put(plain)]
    assert NUMBERS["form_file"].encode() in svc.attachments.path(digests[0]).read_bytes()

    first = app.test_cli_runner().invoke(seal_existing_command, [])

    assert first.exit_code == 0 and "sealed 1 stored file(s)" in first.output, first.output
    assert svc.attachments.is_sealed(digests[0]) and not svc.attachments.is_sealed(digests[1])
    assert NUMBERS["form_file"].encode() not in svc.attachments.path(digests[0]).read_bytes()
    assert [svc.attachments.get(d) for d in digests] == [note, plain]
    again = app.test_cli_runner().invoke(seal_existing_command, [])
    assert "sealed 0 stored file(s)" in again.output
    svc.db.dispose()


V = NUMBERS["mail_subject"]
ENCODED_SUBJECT = base64.b64encode(f"JMBG: {V}".encode()).decode()


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        (f"broj {V}.".encode(), True),
        (f"1{V}".encode(), False),  # 14 digits: part of a longer number
        (f"{V}0".encode(), False),
        (f"{V[:-1]}{(int(V[-1]) + 1) % 10}".encode(), False),  # wrong check digit
        (f"JMBG {V}".encode("utf-16"), True),  # Notepad's "Unicode"
        (f"From: a@b.rs\r\nSubject: =?utf-8?b?{ENCODED_SUBJECT}?=\r\n\r\nhi\r\n".encode(), True),
        (
            b"From: a@b.rs\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + f"Broj {'x' * 70}{V[:6]}=\r\n{V[6:]}.\r\n".encode(),  # a soft line break inside
            True,
        ),
        (b"From: a@b.rs\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(V.encode()), True),
        (base64.b64encode(V.encode()), False),  # base64 alone is no mail: not decoded
    ],
)
def test_a_number_is_found_in_a_file_as_a_mail_client_or_editor_writes_it(data: bytes, holds: bool) -> None:
    assert jmbg.in_bytes(data) is holds
