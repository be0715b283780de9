"""Where the public email data sets live (beside the checkout, never copied into it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
DATASETS = Path(os.environ.get("HELPDESK_DATASETS", _DEFAULT)) / "email"
META_FILES = {"SOURCE.txt", "LICENSE", "LICENSE.txt", "MIT-LICENSE", "README.md"}


def dataset_dir(name: str) -> Path:
    path = DATASETS / name
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"public data set missing: {path}")
        pytest.skip(f"public data set missing: {path}")
    return path


def message_files(name: str) -> list[Path]:
    """Every file of a data set folder except its attribution and expectation files."""
    root = dataset_dir(name)
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name not in META_FILES and not p.name.endswith(".json")
    )
