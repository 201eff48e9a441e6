"""HTML read the way the Text parser needs it: as plain text, or as a list of element URLs.

Both use the standard library's tolerant parser (no network, no entity expansion beyond HTML's
named references) and do one linear pass, so hostile markup costs time in its size only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["ELEMENT_TYPES", "html_elements", "html_to_text"]

# Elements whose content is never text a reader sees.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
# Blocks that stand apart from their neighbours by a blank line; the rest of these by a newline.
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr"}
)
_LINES = frozenset(
    {"div", "li", "tr", "section", "article", "header", "footer", "nav", "dl", "dt", "dd"}
)
_SPACES = re.compile(r"[ \t\r\n\f\u200b]+")
_BLANK_RUNS = re.compile(r"\n{3,}")

# Make's element types and the attribute that holds each one's URL.
ELEMENT_TYPES: dict[str, tuple[str, str]] = {
    "images": ("img", "src"),
    "links": ("a", "href"),
    "iframes": ("iframe", "src"),
}


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._pre = 0
        self._links: list[str | None] = []
        self._newlines = 2  # at the very start nothing needs separating

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._emit("\n")
        elif tag == "li":
            self._break("\n")
            self._emit("* ")
        elif tag in ("td", "th") and not self._at_line_start():
            self._emit("\t")
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
        self._open_block(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/>: a void element has no end tag to close what it opened.
        if tag == "br":
            self._emit("\n")
        elif tag in _PARAGRAPHS and tag != "pre":
            self._break("\n\n")

    def _open_block(self, tag: str) -> None:
        if tag in _PARAGRAPHS:
            self._break("\n\n")
            if tag == "pre":
                self._pre += 1
        elif tag in _LINES and tag != "li":
            self._break("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "a" and self._links:
            href = self._links.pop()
            # Like html-to-text: a link keeps its target unless the text already is it.
            if href and not href.startswith(("#", "javascript:")) and href not in self.parts[-1:]:
                self._emit(f" [{href}]")
        elif tag in _PARAGRAPHS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._break("\n\n")
        elif tag in _LINES:
            self._break("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self._emit(data if self._pre else _SPACES.sub(" ", data))

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        visible = text.rstrip(" ")
        if not visible:
            return
        newlines = len(visible) - len(visible.rstrip("\n"))
        # Newlines at the end of the output so far (spaces aside), kept as we go: rescanning
        # the output for every tag would be quadratic on long runs of empty blocks.
        self._newlines = self._newlines + newlines if newlines == len(visible) else newlines

    def _break(self, separator: str) -> None:
        """End the line (or paragraph) unless the text already ends with one."""
        missing = len(separator) - self._newlines
        if missing > 0:
            self._emit("\n" * missing)

    def _at_line_start(self) -> bool:
        return self._newlines > 0


def html_to_text(html: str) -> str:
    """Readable text: blocks on their own lines, list items starred, link targets in brackets."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.strip(" ") for line in "".join(writer.parts).split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


class _ElementFinder(HTMLParser):
    def __init__(self, tag: str, attribute: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.attribute = tag, attribute
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            value = dict(attrs).get(self.attribute)
            if value and value.strip():
                self.found.append(value.strip())


def html_elements(html: str, element_type: str) -> list[str]:
    """The URLs of every element of a type ("images", "links", "iframes"), in document order."""
    tag, attribute = ELEMENT_TYPES[element_type]
    finder = _ElementFinder(tag, attribute)
    finder.feed(html)
    finder.close()
    return finder.found
