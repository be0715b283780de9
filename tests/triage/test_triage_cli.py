"""`helpdesk triage ...` run as a real subprocess on a tmp data dir."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from triage.datasets import read_seed

HELPDESK = [sys.executable, "-m", "helpdesk.cli"]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(tmp_path / "var"),
        "HELPDESK_LOG_LEVEL": "WARNING",
        "HELPDESK_CHANNELS": "",
    }
    env.pop("HELPDESK_DATABASE_URL", None)
    return subprocess.run(
        [*HELPDESK, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_evaluate_reads_csv_and_json_lines_with_named_columns(tmp_path: Path) -> None:
    seed = read_seed()
    train, test = seed[::2], seed[1::2]
    train_file = tmp_path / "train.csv"
    with train_file.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "intent"])
        writer.writerows([(e.text, e.label) for e in train])
    test_file = tmp_path / "test.jsonl"
    test_file.write_text(
        "".join(json.dumps({"question": e.text, "intent": e.label}) + "\n" for e in test),
        encoding="utf-8",
    )
    result = run(
        tmp_path, "triage", "evaluate", "--train", str(train_file), "--test", str(test_file),
        "--text-column", "question", "--label-column", "intent", "--out-of-scope-label", "other",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["test_size"] == len(test) and report["train_size"] == len(train)
    assert 0.6 <= report["accuracy"] <= 1.0
    assert 0.0 <= report["macro_f1"] <= 1.0
    assert {"in_scope_accuracy", "out_of_scope_recall", "threshold"} <= set(report)
    assert set(report["per_class"]) >= {"taxes", "complaints", "account_login"}
    assert report["per_class"]["taxes"]["support"] > 0
    # Ours and the bare TF-IDF + LinearSVC on the same split, and the settings CV chose.
    assert 0.0 < report["baseline"]["accuracy"] <= 1.0
    assert report["settings"]["folds"] >= 2 and report["settings"]["threshold"] == report["threshold"]


def test_evaluate_names_a_missing_column(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("text,category\nhello,greeting\n", encoding="utf-8")
    result = run(
        tmp_path, "triage", "evaluate", "--train", str(data), "--test", str(data),
        "--label-column", "intent",
    )  # fmt: skip
    assert result.returncode == 2
    assert "has no column intent" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_writes_a_private_active_version_once(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    first = run(tmp_path, "triage", "train", "--if-missing")
    assert first.returncode == 0, first.stderr
    assert "training on" in first.stdout and "activated (first model)" in first.stdout
    root = tmp_path / "var" / "models" / "triage"
    version = (root / "active").read_text().strip()
    assert stat.S_IMODE((root / version / "model.joblib").stat().st_mode) == 0o600
    meta = json.loads((root / version / "meta.json").read_text())
    assert meta["train_size"] > 500 and meta["agent_labels"] == 0 and "created_at" in meta
    # The settings cross-validation chose are stored with the model, and shown.
    assert meta["settings"]["folds"] >= 2 and meta["settings"]["features"] in {"full", "words", "bare"}
    assert "fold CV on" in first.stdout

    again = run(tmp_path, "triage", "train", "--if-missing")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    status = run(tmp_path, "triage", "status")
    assert f"* {version}" in status.stdout
    assert f"C {meta['settings']['C']}" in status.stdout and "bare TF-IDF + LinearSVC" in status.stdout


def test_route_shows_and_stores_rules(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    shown = run(tmp_path, "triage", "route")
    assert shown.returncode == 0 and "taxes" in shown.stdout and "-> payments" in shown.stdout
    # a fresh store has only the triage queue: the map says where those tickets really go
    assert "-> payments  (no such queue yet: goes to triage)" in shown.stdout
    assert "other                    -> triage\n" in shown.stdout
    refused = run(tmp_path, "triage", "route", "taxes", "nowhere")
    assert refused.returncode == 2 and "There is no queue nowhere" in refused.stderr
