"""Help-center categories: managed names in the reader's language, never the internal key."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.models import Article, KbCategory
from helpdesk.services import Services
from triage.text import to_cyrillic

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_NAME = 100


class InvalidCategory(ValueError):
    """Which field is wrong (the view turns it into a translated message)."""


@dataclass(frozen=True)
class Category:
    key: str
    name_sr_latn: str
    name_sr_cyrl: str
    name_en: str
    position: int
    articles: int = 0

    def name(self, language: str) -> str:
        """The name in an interface language (sr-Latn, sr-Cyrl, en)."""
        if language == "en":
            return self.name_en or self.name_sr_latn
        if language == "sr-Cyrl":
            return self.name_sr_cyrl or to_cyrillic(self.name_sr_latn)
        return self.name_sr_latn


def list_categories(svc: Services, with_counts: bool = False) -> list[Category]:
    with svc.db.session() as s:
        counts: dict[str, int] = {}
        if with_counts:
            counts = dict(
                s.execute(
                    select(Article.category, func.count(Article.id))
                    .where(Article.status != "archived")
                    .group_by(Article.category)
                ).all()
            )
        rows = s.scalars(select(KbCategory).order_by(KbCategory.position, KbCategory.key)).all()
        return [
            Category(
                r.key, r.name_sr_latn, r.name_sr_cyrl, r.name_en, r.position, counts.get(r.key, 0)
            )
            for r in rows
        ]


def category_names(svc: Services, language: str) -> dict[str, str]:
    return {c.key: c.name(language) for c in list_categories(svc)}


def save_category(
    svc: Services,
    key: str,
    name_sr_latn: str,
    name_sr_cyrl: str,
    name_en: str,
    position: int | None = None,
    *,
    create: bool = False,
) -> Category:
    key = key.strip().lower()
    names = [" ".join(n.split()) for n in (name_sr_latn, name_sr_cyrl, name_en)]
    if not KEY_RE.match(key):
        raise InvalidCategory("key")
    if not names[0]:
        raise InvalidCategory("name_sr_latn")
    if not names[2]:
        raise InvalidCategory("name_en")
    if any(len(n) > MAX_NAME for n in names):
        raise InvalidCategory("length")
    with svc.db.transaction() as s:
        row = s.get(KbCategory, key)
        if create and row is not None:
            raise InvalidCategory("exists")
        if row is None:
            if not create:
                raise LookupError(key)
            last = s.scalar(select(func.max(KbCategory.position))) or 0
            row = KbCategory(key=key, position=last + 1)
            s.add(row)
        row.name_sr_latn, row.name_sr_cyrl, row.name_en = names
        if position is not None:
            row.position = position
        row.updated_at = svc.clock.now()
        s.flush()
        return Category(key, names[0], names[1], names[2], row.position)
