"""The two kinds of cell a section is made of."""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent

LANGUAGES = ("en", "ko")


@dataclass(frozen=True)
class Text:
    """A markdown cell, written once per language."""

    en: str
    ko: str

    def source(self, lang: str) -> str:
        return dedent(getattr(self, lang)).strip()


@dataclass(frozen=True)
class Code:
    """A code cell, the same in every language."""

    src: str

    def source(self, lang: str) -> str:
        return dedent(self.src).strip()


def text(*, en: str, ko: str) -> Text:
    return Text(en, ko)


def code(src: str) -> Code:
    return Code(src)
