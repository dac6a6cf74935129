"""The links a rendered page offers, so tests follow what staff would click."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Anchor:
    attrs: dict[str, str]
    text: str = ""
    within: list[str] = field(default_factory=list)
    """The ids and `data-label`s of the elements the link sits in, outermost first."""

    @property
    def href(self) -> str | None:
        return self.attrs.get("href")


class _Anchors(HTMLParser):
    VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Anchor] = []
        self.open: list[Anchor] = []
        self.stack: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a":
            within = [mark for _, mark in self.stack if mark]
            anchor = Anchor(values, within=within)
            self.found.append(anchor)
            self.open.append(anchor)
        if tag not in self.VOID:
            self.stack.append((tag, values.get("id") or values.get("data-label") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open:
            self.open.pop()
        while self.stack:
            opened, _ = self.stack.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        for anchor in self.open:
            anchor.text += data


def anchors(page: str) -> list[Anchor]:
    """Every `<a>` on `page`, with its attributes, text (whitespace as written) and place."""
    parser = _Anchors()
    parser.feed(page)
    return parser.found


def named(page: str, text: str) -> Anchor:
    """The one link whose text is `text` (surrounding whitespace ignored)."""
    [anchor] = [a for a in anchors(page) if a.text.strip() == text]
    return anchor
