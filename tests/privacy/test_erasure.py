"""A citizen's data on request: the export holds everything of that contact and nothing of
others; after erasure nothing of it remains, another citizen's data and the figures do."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select

from helpdesk.cli.privacy import access_log_command, erase_command
from helpdesk.models import AccessLogEntry, AuditEvent, Contact, ContactIdentity
from tests.conftest import csrf_token_from, login
from tests.privacy.world import (
    VALID_JMBG,
    citizen_writes,
    demo_settings,
    demo_world,
    personal_needles,
    scan,
    weekly_json,
)

MILAN = ("milan.rakic@example.rs", "Milan Rakić", "Bulevar kralja Aleksandra 73, Beograd")
VESNA = ("vesna.lukic@example.rs", "Vesna Lukić", "Njegoševa 12, Novi Sad")
SHARED_PDF = b"%PDF-1.4 the same form both citizens sent " + b"y" * 1500
MILAN_PDF = b"%PDF-1.4 Milan's own scan " + b"z" * 1500


def test_export_then_erasure_of_one_contact(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    svc, app = demo_world(settings, tickets=20)
    milan_refs = [citizen_writes(svc, *MILAN, MILAN_PDF), citizen_writes(svc, *MILAN, SHARED_PDF)]
    citizen_writes(svc, *VESNA, SHARED_PDF)
    with svc.db.session() as s:
        milan = s.scalars(select(ContactIdentity.contact_id).where(ContactIdentity.value == MILAN[0])).one()
        vesna = s.scalars(select(ContactIdentity.contact_id).where(ContactIdentity.value == VESNA[0])).one()
        others = list(s.scalars(select(Contact.id).where(Contact.id != milan)))
    mine = personal_needles(svc, [milan]) | {MILAN[1], MILAN[2], "Milan's own scan"}
    theirs = personal_needles(svc, others) | {VESNA[2]}
    assert MILAN[2] in mine and VESNA[1] in theirs
    client = app.test_client()
    login(client, svc, "supervisor")

    found = client.get("/supervisor/privacy", query_string={"q": MILAN[0]})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/contacts/{milan}")
    page = client.get(f"/supervisor/privacy/contacts/{milan}").get_data(as_text=True)
    assert MILAN[1] in page and milan_refs[0] in page and milan_refs[1] in page
    token = csrf_token_from(page)
    refused = client.post(f"/supervisor/privacy/contacts/{milan}/export", data={"csrf_token": token})
    assert refused.status_code == 302  # no legal reason, no export

    exported = client.post(
        f"/supervisor/privacy/contacts/{milan}/export",
        data={"csrf_token": token, "reason": "Zahtev za pristup br. 12/2026"},
    )

    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert exported.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    index = json.loads(archive.read("index.json"))
    assert index["contact"]["name"] == MILAN[1]
    assert index["contact"]["identities"] == [{"kind": "email", "value": MILAN[0]}]
    assert sorted(t["reference"] for t in index["tickets"]) == sorted(milan_refs)
    first = index["tickets"][0]["messages"][0]
    assert MILAN[2] in first["text"] and VALID_JMBG not in first["text"]  # masked, as everywhere
    files = {a["file"] for t in index["tickets"] for m in t["messages"] for a in m["attachments"]}
    assert {archive.read(f) for f in files} == {MILAN_PDF, SHARED_PDF}
    raw = [m["raw_mail"] for t in index["tickets"] for m in t["messages"] if m["raw_mail"]]
    assert len(raw) == 2 and MILAN[0].encode() in archive.read(raw[0])
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert [n for n in theirs if n.encode() in everything] == []  # nothing of anyone else

    before = weekly_json(app)
    unconfirmed = client.post(
        f"/supervisor/privacy/contacts/{milan}/erase", data={"csrf_token": token, "reason": "Zahtev 13/2026"}
    )
    assert unconfirmed.status_code == 302
    assert scan(settings.data_dir, [MILAN[2]])  # nothing happened without the tick

    erased = client.post(
        f"/supervisor/privacy/contacts/{milan}/erase",
        data={"csrf_token": token, "reason": "Zahtev za brisanje br. 13/2026", "confirm": "1"},
    )

    assert erased.status_code == 302
    assert scan(settings.data_dir, mine) == []
    assert {n for _f, n in scan(settings.data_dir, theirs)} == theirs  # the others keep theirs
    assert svc.attachments.path(_sha(SHARED_PDF)).exists()  # Vesna's copy of the shared file
    assert not svc.attachments.path(_sha(MILAN_PDF)).exists()
    assert weekly_json(app) == before
    with svc.db.session() as s:
        audit = {
            a.action: a.after for a in s.scalars(select(AuditEvent).where(AuditEvent.subject_id == milan))
        }
        assert audit["privacy.exported"] == {"reason": "Zahtev za pristup br. 12/2026", "tickets": 2}
        erasure = audit["privacy.erased"]
        assert erasure is not None and erasure["reason"] == "Zahtev za brisanje br. 13/2026"
        assert erasure["tickets"] == 2
        logged = set(s.scalars(select(AccessLogEntry.action).where(AccessLogEntry.contact_id == milan)))
        assert logged == {"contact", "export", "erasure"}
        assert s.get_one(Contact, milan).name is None
    listing = app.test_cli_runner().invoke(access_log_command, ["--contact", str(milan)])
    assert listing.exit_code == 0 and "export" in listing.output and "erasure" in listing.output
    # The command line erases too (Vesna, by her address), with its reason required.
    runner = app.test_cli_runner()
    assert runner.invoke(erase_command, [VESNA[0], "--yes", "--reason", ""]).exit_code != 0
    by_cli = runner.invoke(erase_command, [VESNA[0], "--yes", "--reason", "Zahtev 14/2026"])
    assert by_cli.exit_code == 0 and "1 ticket(s)" in by_cli.output, by_cli.output
    assert scan(settings.data_dir, [VESNA[1], VESNA[2], VESNA[0]]) == []
    assert not svc.attachments.path(_sha(SHARED_PDF)).exists()  # nobody refers to it now
    assert vesna != milan
    svc.db.dispose()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
