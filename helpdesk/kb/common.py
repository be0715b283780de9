"""Small helpers the KB views share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from helpdesk.kb.service import WhooshKnowledgeBase
from helpdesk.models import Article
from helpdesk.services import Services

LANGUAGE_LABELS = {"sr": _l("Serbian"), "en": _l("English")}
SCRIPT_LABELS = {"latn": _l("Latin"), "cyrl": _l("Cyrillic")}


def kb_service(svc: Services) -> WhooshKnowledgeBase | None:
    return svc.kb if isinstance(svc.kb, WhooshKnowledgeBase) else None


def article_lang_tag(article: Article) -> str:
    """BCP 47 tag for the article's text, so screen readers pronounce it right."""
    if article.language == "en":
        return "en"
    return "sr-Cyrl" if article.script == "cyrl" else "sr-Latn"
