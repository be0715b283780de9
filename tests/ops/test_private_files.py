"""Files under the data dir are the owner's alone: 0600 files in 0700 directories, even when the
shell that started the server had a permissive umask."""

from __future__ import annotations

import os
import smtplib
import stat
import time
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from helpdesk.models import Attachment, OutboxItem
from tests.conftest import start_live_server


def modes(root: Path) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_database_mail_attachments_and_index_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # as a shell would start us: 0644 files unless we take care
    (tmp_path / "var").mkdir(mode=0o755)  # an older install's data dir, world-readable
    server = start_live_server(tmp_path)
    try:
        mail = EmailMessage()
        mail["From"] = "Građanin <gradjanin@example.rs>"
        mail["To"] = server.services.settings.support_address
        mail["Subject"] = "Lozinka"
        mail.set_content("Ne mogu da se prijavim, šaljem snimak ekrana.")
        mail.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="s.png")
        settings = server.services.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            smtp.send_message(mail)
        deadline = time.monotonic() + 30  # the acknowledgement is written by the dispatcher
        while time.monotonic() < deadline:
            with server.services.db.session() as s:
                sent = s.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "sent")
                )
                attached = s.scalar(select(func.count()).select_from(Attachment))
            if sent and attached:
                break
            time.sleep(0.1)
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):  # while the server runs: the WAL is gone after it
            path = Path(f"{database}{suffix}")
            assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        server.stop()
        server.services.db.dispose()
        os.umask(old)
    data = modes(settings.data_dir)
    assert any(name.endswith(".eml") for name in data), sorted(data)
    assert any(name.startswith("files/") for name in data), sorted(data)
    loose = {
        name: oct(mode)
        for name, mode in data.items()
        if mode != (0o700 if Path(settings.data_dir, name).is_dir() else 0o600)
    }
    assert loose == {}
