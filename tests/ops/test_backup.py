"""`helpdesk backup` / `helpdesk restore`: the round trip is exact (every row of every table, every
file's bytes), a restored service finds every ticket, attachment and article, and restore refuses a
data dir that is not empty or an archive that is damaged."""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.cli import cli
from helpdesk.kb.store import ArticleInput, save_article
from helpdesk.models import Attachment, Ticket
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import InboundMessage, receive_inbound
from helpdesk.tickets.types import AttachmentIn, Identity
from tests.conftest import make_services, make_settings

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40  # binary, not text
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 3000


def build(data_dir: Path) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    return make_settings(
        data_dir.parent, f"sqlite:///{data_dir / 'helpdesk.db'}", data_dir=data_dir, channels=()
    )


def snapshot(db_file: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db_file)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def files(data_dir: Path) -> dict[str, str]:
    skip = {"helpdesk.db", "helpdesk.db-wal", "helpdesk.db-shm"}
    return {
        p.relative_to(data_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in data_dir.rglob("*")
        if p.is_file() and p.name not in skip
    }


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    env = {"HELPDESK_DATA_DIR": str(data_dir), "HELPDESK_DATABASE_URL": ""}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_backup_restore_round_trip_is_exact(tmp_path: Path) -> None:
    source = tmp_path / "source" / "var"
    settings = build(source)
    svc: Services = make_services(settings)
    create_app(settings, svc)  # the knowledge base's index and the rest, as in production
    refs = []
    pdf = AttachmentIn("rešenje.pdf", "application/pdf", PDF)
    photo = AttachmentIn("slika.png", "image/png", PHOTO)
    for n, attachments in enumerate([(pdf,), (), (photo,)]):
        result = receive_inbound(
            svc,
            InboundMessage(
                channel="email",
                sender=Identity("email", f"gradjanin{n}@example.rs"),
                subject=f"Pitanje {n}",
                text=f"Poštovani, pitanje broj {n} o eUpravi.",
                attachments=attachments,
            ),
        )
        refs.append(result.ticket_reference)
    save_article(
        svc,
        ArticleInput(title="Kako da promenim lozinku", body="Otvorite Podešavanja i izaberite Lozinka.",
                     status="published"),
    )  # fmt: skip
    assert [h.title for h in svc.kb.search("lozinka")] == ["Kako da promenim lozinku"]
    svc.db.dispose()
    before_rows, before_files = snapshot(source / "helpdesk.db"), files(source)
    assert any(name.startswith("files/") for name in before_files)  # attachments are in the data dir

    archive = tmp_path / "helpdesk-backup.tar.gz"
    code, out = invoke(source, "backup", str(archive))
    assert code == 0, out
    assert archive.stat().st_mode & 0o077 == 0  # personal data: owner only

    target = tmp_path / "restored" / "var"
    code, out = invoke(target, "restore", str(archive))
    assert code == 0, out
    assert snapshot(target / "helpdesk.db") == before_rows  # every row of every table
    assert files(target) == before_files  # every file, byte for byte

    # The restored service finds every ticket, attachment and article.
    restored = create_app(build(target))
    rsvc: Services = restored.extensions["helpdesk"]
    with rsvc.db.session() as s:
        assert sorted(s.scalars(select(Ticket.reference))) == sorted(refs)
        rows = s.scalars(select(Attachment))
        stored = {a.filename: rsvc.attachments.path(a.sha256).read_bytes() for a in rows}
    assert stored == {"rešenje.pdf": PDF, "slika.png": PHOTO}
    assert [h.title for h in rsvc.kb.search("lozinka")] == ["Kako da promenim lozinku"]
    rsvc.db.dispose()

    # Restore refuses a data dir that is not empty, and says so.
    code, out = invoke(target, "restore", str(archive))
    assert code == 1 and "not empty" in out


def test_restore_refuses_a_damaged_archive_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source" / "var"
    (source / "files" / "ab").mkdir(parents=True)
    (source / "files" / "ab" / "abcdef").write_bytes(PDF)
    make_services(build(source)).db.dispose()
    archive = tmp_path / "b.tar.gz"
    assert invoke(source, "backup", str(archive))[0] == 0
    # Flip bytes inside the attachment's tar entry (the gzip stream itself stays valid).
    raw = bytearray(gzip.decompress(archive.read_bytes()))
    at = raw.index(PDF[:64])
    raw[at + 100 : at + 104] = b"XXXX"
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(gzip.compress(bytes(raw)))
    with tarfile.open(damaged) as tar:
        assert "manifest.json" in tar.getnames()
    target = tmp_path / "restored" / "var"
    target.mkdir(parents=True)
    code, out = invoke(target, "restore", str(damaged))
    assert code == 1 and "checksum" in out
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("junk", [b"not an archive", b""])
def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, junk: bytes) -> None:
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(junk)
    code, out = invoke(tmp_path / "var", "restore", str(bad))
    assert code == 1 and "not a helpdesk backup" in out
