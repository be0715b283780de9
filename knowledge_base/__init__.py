"""The knowledge base library: Serbian-aware Whoosh search over help articles (no Flask)."""

from knowledge_base.documents import KbDocument, markdown_to_text, render_markdown
from knowledge_base.index import KbIndex
from knowledge_base.search import SearchHit, SearchOptions

__all__ = [
    "KbDocument",
    "KbIndex",
    "SearchHit",
    "SearchOptions",
    "markdown_to_text",
    "render_markdown",
]
