"""A fresh install (no demo data) made usable from the command line and the admin page.

Each command is a real subprocess (seconds each), so only the install path is here; the rules
the CLI shares with the pages are tested on the core operations (test_admin_operations.py).
"""

from __future__ import annotations

from pathlib import Path

from helpdesk import create_app
from helpdesk.settings import Settings
from tests.conftest import csrf_token_from
from tests.test_cli import run


def test_fresh_install_gets_a_triage_queue_and_queues_made_by_cli(tmp_path: Path) -> None:
    upgraded = run(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0 and "created the triage queue" in upgraded.stdout, upgraded.stderr
    made = run(tmp_path, "queue", "create", "elections", "--sr-latn", "Izbori", "--en", "Elections")
    assert made.returncode == 0, made.stderr
    renamed = run(tmp_path, "queue", "rename", "elections", "--sr-latn", "Izborni poslovi",
                  "--en", "Election matters")
    assert renamed.returncode == 0, renamed.stderr
    admin = run(tmp_path, "user", "create", "root@example.rs", "--role", "admin",
                stdin="a long enough password\n")
    assert admin.returncode == 0, admin.stderr
    # the admin page makes a queue in the same store, with the same rules
    app = create_app(Settings(data_dir=tmp_path / "var", triage="local", channels=()).resolved())
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "root@example.rs", "password": "a long enough password",
                                "csrf_token": token})
    token = csrf_token_from(client.get("/admin/queues").get_data(as_text=True))
    made_on_page = client.post("/admin/queues", data={
        "csrf_token": token, "key": "consular", "name_sr_latn": "Konzularni poslovi",
        "name_sr_cyrl": "", "name_en": "Consular affairs"})
    assert made_on_page.status_code == 302
    app.extensions["helpdesk"].db.dispose()
    agent = run(tmp_path, "user", "create", "mila@example.rs", "--queue", "elections",
                "--queue", "consular", stdin="a long enough password\n")
    assert agent.returncode == 0, agent.stderr
    listed = run(tmp_path, "queue", "list").stdout
    assert "elections" in listed and "Izborni poslovi | Изборни послови | Election matters" in listed
    assert "triage" in listed and "Trijaža | Тријажа | Triage" in listed
    assert "Konzularni poslovi | Конзуларни послови | Consular affairs" in listed
