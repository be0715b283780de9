"""The spool survives SIGKILL: every mail answered 250 becomes exactly one ticket.

Real processes, as in production: `helpdesk smtp` (spools) killed while senders are mid-session,
then `helpdesk worker` (spool -> tickets) killed mid-batch and started again.
"""

from __future__ import annotations

import smtplib
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from helpdesk.db import Database
from helpdesk.models import MailSpoolItem, Message, Ticket
from helpdesk.settings import Settings
from tests.channels.email.processes import SUPPORT, mail_env, smtp_process, worker_process
from tests.functional.hd_servers import prepare_store

SENDERS, PER_SENDER = 4, 15


def mail(sender: int, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Građanin {sender} <gradjanin{sender}@example.rs>"
    msg["To"] = SUPPORT
    msg["Subject"] = f"Pitanje {sender}-{n}"
    msg["Message-ID"] = f"<m{sender}.{n}@example.rs>"
    msg.set_content(f"Pitanje broj {n} od građanina {sender}.")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def scalar(db: Database, query: object) -> int:
    with db.session() as s:
        return int(s.scalar(query) or 0)  # type: ignore[call-overload]


def test_every_250_becomes_exactly_one_ticket_across_sigkills(tmp_path: Path) -> None:
    env = mail_env(tmp_path / "var")
    prepare_store(env, [])
    db = Database(Settings.from_env(env).database_url)
    smtp, port = smtp_process(env, tmp_path / "smtp.log")
    accepted: list[str] = []
    lock = threading.Lock()

    def send(sender: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                for n in range(PER_SENDER):
                    client.sendmail(f"gradjanin{sender}@example.rs", [SUPPORT], mail(sender, n))
                    with lock:  # sendmail returned: the server answered 250
                        accepted.append(f"m{sender}.{n}@example.rs")
        except (smtplib.SMTPException, OSError):
            pass  # the server died under us: this mail was not accepted, the sender retries it

    threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    while len(accepted) < SENDERS * PER_SENDER // 2 and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    smtp.kill()  # 1. the SMTP server crashes mid-session
    for t in threads:
        t.join(30)
    assert 0 < len(accepted) < SENDERS * PER_SENDER
    assert scalar(db, select(func.count()).select_from(MailSpoolItem)) >= len(accepted)

    worker = worker_process(env, tmp_path / "worker.log")
    deadline = time.monotonic() + 60
    while scalar(db, select(func.count()).select_from(Ticket)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.kill()  # 2. the worker crashes mid-batch
    assert scalar(db, select(func.count()).select_from(MailSpoolItem)) > 0, "nothing left in flight"

    worker = worker_process(env, tmp_path / "worker.log")  # 3. and comes back
    try:
        deadline = time.monotonic() + 60
        while scalar(db, select(func.count()).select_from(MailSpoolItem)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.terminate()
    with db.session() as s:
        stored = s.scalars(select(Message.external_id).where(Message.direction == "inbound")).all()
        left = s.scalar(select(func.count()).select_from(MailSpoolItem))
    db.dispose()
    assert left == 0
    assert sorted(stored) == sorted(set(stored))  # exactly once
    assert set(accepted) <= set(stored)  # every 250 is a ticket's message
    assert "Traceback" not in worker.log()
