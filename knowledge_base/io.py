"""Import and export of articles: JSON lines, or a folder of Markdown files with front matter.

JSON lines: one object per line, ``{"title", "body", "language", "tags"?, "category"?,
"script"?, "status"?, "sample"?}``. Markdown: ``---``-fenced ``key: value`` front matter
(``tags: [a, b]`` or ``tags: a, b``), then the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ArticleRecord",
    "ImportError_",
    "read_articles",
    "parse_jsonl",
    "parse_markdown",
    "to_jsonl_line",
    "to_markdown",
    "slugify",
]

MAX_TITLE = 200
MAX_BODY = 200_000
STATUSES = ("draft", "published")


class ImportError_(ValueError):  # noqa: N801 - "ImportError" is a builtin
    """A record that cannot be imported; the message names the file and line."""


@dataclass
class ArticleRecord:
    title: str
    body: str
    language: str = "sr"
    tags: list[str] = field(default_factory=list)
    category: str = ""
    script: str = ""
    status: str = "published"
    sample: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "title": self.title,
            "body": self.body,
            "language": self.language,
            "tags": self.tags,
            "category": self.category,
            "status": self.status,
        }
        if self.script:
            out["script"] = self.script
        if self.sample:
            out["sample"] = True
        return out


def _tags(value: object, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return [t.strip().strip("\"'") for t in text.split(",") if t.strip().strip("\"'")]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return [t.strip() for t in value if t.strip()]
    raise ImportError_(f"{where}: tags must be a list of strings")


def _record(data: dict[str, object], where: str) -> ArticleRecord:
    title = data.get("title")
    body = data.get("body")
    if not isinstance(title, str) or not title.strip():
        raise ImportError_(f"{where}: missing title")
    if not isinstance(body, str) or not body.strip():
        raise ImportError_(f"{where}: missing body")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise ImportError_(f"{where}: title or body too long")
    language = str(data.get("language") or "sr").strip()
    lang_key = language.lower().replace("_", "-")
    script = str(data.get("script") or "").lower()
    if lang_key in ("sr-latn", "sr-cyrl"):
        script = script or lang_key[3:]
        lang_key = "sr"
    if lang_key not in ("sr", "en"):
        raise ImportError_(f"{where}: language must be sr, sr-Latn, sr-Cyrl or en")
    if script not in ("", "latn", "cyrl"):
        raise ImportError_(f"{where}: script must be latn or cyrl")
    status = str(data.get("status") or "published").lower()
    if status not in STATUSES:
        raise ImportError_(f"{where}: status must be draft or published")
    return ArticleRecord(
        title=title.strip(),
        body=body.strip() + "\n",
        language=lang_key,
        tags=_tags(data.get("tags"), where),
        category=str(data.get("category") or "").strip()[:64],
        script=script,
        status=status,
        sample=bool(data.get("sample", False)),
    )


def parse_jsonl(lines: Iterable[str], name: str = "<input>") -> Iterator[ArticleRecord]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"{name}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ImportError_(f"{name}:{n}: expected a JSON object")
        yield _record(data, f"{name}:{n}")


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def parse_markdown(text: str, name: str = "<input>") -> ArticleRecord:
    m = _FRONT.match(text)
    if m is None:
        raise ImportError_(f"{name}: no front matter (--- title: ... ---)")
    data: dict[str, object] = {}
    for n, line in enumerate(m.group(1).splitlines(), 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ImportError_(f"{name}:{n}: expected 'key: value'")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        data[key.strip().lower()] = value
    if "sample" in data:
        data["sample"] = str(data["sample"]).lower() in ("true", "yes", "1")
    data["body"] = text[m.end() :]
    return _record(data, name)


def read_articles(path: Path) -> list[ArticleRecord]:
    """All records in a JSON lines file or a folder of *.md files (sorted by name)."""
    if path.is_dir():
        files = sorted(path.glob("*.md"))
        if not files:
            raise ImportError_(f"{path}: no .md files")
        return [parse_markdown(f.read_text(encoding="utf-8"), f.name) for f in files]
    if not path.is_file():
        raise ImportError_(f"{path}: no such file or folder")
    with path.open(encoding="utf-8") as fh:
        return list(parse_jsonl(fh, path.name))


def to_jsonl_line(record: ArticleRecord) -> str:
    return json.dumps(record.as_dict(), ensure_ascii=False)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if (":" in value or "#" in value) else value


def to_markdown(record: ArticleRecord) -> str:
    lines = [
        "---",
        f"title: {_quote(record.title)}",
        f"language: {record.language}",
    ]
    if record.script:
        lines.append(f"script: {record.script}")
    lines.append("tags: [" + ", ".join(record.tags) + "]")
    if record.category:
        lines.append(f"category: {record.category}")
    lines.append(f"status: {record.status}")
    if record.sample:
        lines.append("sample: true")
    lines.append("---")
    return "\n".join(lines) + "\n" + record.body


def slugify(title: str, fallback: str = "article") -> str:
    from triage.text import normalize

    slug = re.sub(r"[^a-z0-9]+", "-", normalize(title)).strip("-")[:80].rstrip("-")
    return slug or fallback
