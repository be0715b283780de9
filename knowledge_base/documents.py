"""Articles as the library sees them, and Markdown to plain text for indexing."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt

from triage.text import detect_script

__all__ = ["KbDocument", "markdown_to_text", "render_markdown"]

# "js-default" escapes raw HTML in the source: article authors write Markdown, not HTML.
_MD = MarkdownIt("js-default")

_ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
    "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@dataclass
class KbDocument:
    """One article to index: what search needs and nothing more."""

    id: str
    title: str
    body: str  # Markdown
    language: str = "sr"  # "sr" or "en"
    script: str = ""  # "latn" / "cyrl" for Serbian; detected when empty
    tags: list[str] = field(default_factory=list)
    category: str = ""
    published: bool = True
    url: str = ""
    version: str = ""  # the row's updated time; tells the index what is stale

    def __post_init__(self) -> None:
        if not self.script:
            found = detect_script(f"{self.title} {self.body}")
            self.script = "cyrl" if found == "cyrl" else "latn"


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML (headings start at h2: the page title is the h1)."""
    rendered = _MD.render(text or "")
    rendered = rendered.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def markdown_to_text(text: str) -> str:
    """Plain text of a Markdown body: what is indexed and what snippets are cut from."""
    rendered = _MD.render(text or "")
    for tag in ("</p>", "</li>", "</h1>", "</h2>", "</h3>", "</h4>", "<br>", "</pre>", "</tr>"):
        rendered = rendered.replace(tag, tag + "\n")
    plain = html.unescape(nh3.clean(rendered, tags=set()))
    return "\n".join(line.strip() for line in plain.splitlines() if line.strip())
