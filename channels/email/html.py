"""HTML from mail: sanitize with nh3 and turn into plain text.

Remote images are a tracking beacon ("the citizen read our mail at 10:32"), so the stored HTML never
loads them: their address moves to ``data-remote-src`` and an agent can ask for them with
:func:`allow_remote_images`. ``cid:`` images (inline parts of the same mail) stay.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_ATTRIBUTES: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["font"] = {"color"}
_ATTRIBUTES["*"] = {"dir", "lang", "title"}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
# nh3 serializes every attribute as name="value", so this pattern over its output is exact.
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_REMOTE_SRC = re.compile(r'\ssrc="(https?:[^"]*)"')
_HELD_SRC = re.compile(r'\sdata-remote-src="(https?:[^"]*)"')


def sanitize_html(html: str) -> str:
    """Return ``html`` with scripts, styles, event handlers and remote images removed."""
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return _IMG_TAG.sub(_hold_remote_src, cleaned)


def _hold_remote_src(match: re.Match[str]) -> str:
    tag = _REMOTE_SRC.sub(r' data-remote-src="\1"', match.group(0))
    if " alt=" not in tag:  # a screen reader would read out the file name; mark it decorative
        tag = tag.replace("<img", '<img alt=""', 1)
    return tag


def allow_remote_images(sanitized_html: str) -> str:
    """Give held remote images their ``src`` back, for an agent who asked to load them."""
    return _IMG_TAG.sub(lambda m: _HELD_SRC.sub(r' src="\1"', m.group(0)), sanitized_html)


def has_remote_images(sanitized_html: str) -> bool:
    return "data-remote-src=" in sanitized_html


_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "blockquote",
    "pre",
    "hr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
}
_SKIP = {"script", "style", "head", "title", "noscript", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text from HTML (for HTML-only mail, triage and search)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (ValueError, AssertionError):  # pathological markup: fall back to tag stripping
        return unescape(re.sub(r"<[^>]*>", " ", html)).strip()
    lines = [line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
