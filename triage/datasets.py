"""Reading labelled inquiries: CSV (with optional '#' comment lines) or JSON lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SEED_PATH = Path(__file__).parent / "data" / "seed.csv"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str = "file"


class DatasetError(ValueError):
    """The file cannot be read as labelled examples; the message says why."""


def _strip_comments(lines: Iterable[str]) -> Iterable[str]:
    return (line for line in lines if not line.lstrip().startswith("#"))


def read_examples(path: Path | str, text_column: str = "text", label_column: str = "label") -> list[Example]:
    """Examples from a .csv file (header row) or a .jsonl / .json lines file.

    `label_column` falls back to "category" when the file has no "label" column, so
    Banking77's `text,category` layout and our seed file both read without options.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        rows = _jsonl_rows(raw, path)
    else:
        rows = list(csv.DictReader(io.StringIO("".join(_strip_comments(raw.splitlines(True))))))
    if not rows:
        raise DatasetError(f"{path} has no rows")
    label_col = label_column
    if label_col not in rows[0] and label_column == "label" and "category" in rows[0]:
        label_col = "category"
    missing = [c for c in (text_column, label_col) if c not in rows[0]]
    if missing:
        raise DatasetError(f"{path} has no column {', '.join(missing)} (columns: {', '.join(rows[0])})")
    out = []
    for row in rows:
        text, label = row.get(text_column), row.get(label_col)
        if text is None or label is None or not str(text).strip() or not str(label).strip():
            continue
        out.append(Example(str(text).strip(), str(label).strip(), path.name))
    if not out:
        raise DatasetError(f"{path} has no rows with both {text_column} and {label_col}")
    return out


def _jsonl_rows(raw: str, path: Path) -> list[dict[str, object]]:
    stripped = raw.lstrip()
    if stripped.startswith("["):  # a .json file holding one array of objects
        try:
            array = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: not JSON ({exc.msg})") from exc
        if not all(isinstance(item, dict) for item in array):
            raise DatasetError(f"{path}: expected an array of JSON objects")
        return list(array)
    rows: list[dict[str, object]] = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {n}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise DatasetError(f"{path} line {n}: expected a JSON object")
        rows.append(obj)
    return rows


def read_seed() -> list[Example]:
    return [Example(e.text, e.label, "seed") for e in read_examples(SEED_PATH)]
