"""A fresh install (no demo data) made usable from the command line alone."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import run


def test_fresh_install_gets_a_triage_queue_and_queues_made_by_cli(tmp_path: Path) -> None:
    upgraded = run(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0 and "created the triage queue" in upgraded.stdout, upgraded.stderr
    made = run(tmp_path, "queue", "create", "elections", "--sr-latn", "Izbori", "--en", "Elections")
    assert made.returncode == 0, made.stderr
    refused = run(tmp_path, "queue", "create", "Bad Key", "--sr-latn", "X")
    assert refused.returncode == 2 and "lower-case letters" in refused.stderr
    renamed = run(tmp_path, "queue", "rename", "elections", "--sr-latn", "Izborni poslovi",
                  "--en", "Election matters")
    assert renamed.returncode == 0, renamed.stderr
    agent = run(tmp_path, "user", "create", "mila@example.rs", "--queue", "elections",
                stdin="a long enough password\n")
    assert agent.returncode == 0, agent.stderr
    listed = run(tmp_path, "queue", "list").stdout
    assert "elections" in listed and "Izborni poslovi | Изборни послови | Election matters" in listed
    assert "triage" in listed and "Trijaža | Тријажа | Triage" in listed
    routed = run(tmp_path, "route", "taxes", "elections")
    assert routed.returncode == 0 and "taxes                    -> elections  (stored)" in routed.stdout
    gone = run(tmp_path, "user", "deactivate", "mila@example.rs")
    assert gone.returncode == 0 and "deactivated mila@example.rs" in gone.stdout
