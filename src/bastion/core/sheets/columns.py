"""A column of an exchanged file: its key and its header in both languages.

Headers and cell words are part of the file format that offices exchange, not UI text, so both
languages are spelled out (and both are accepted on import whatever the UI language); the
explanations shown on a page go through gettext like any other UI string.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    help: Promise | str = ""
    example: str = ""
    aliases: tuple[str, ...] = ()

    def header(self, language: str | None = None) -> str:
        return self.zh if is_chinese(language) else self.en


def is_chinese(language: str | None = None) -> bool:
    """Chinese unless the (given or active) language is another one; Chinese is the default."""
    language = language or translation.get_language() or "zh-hans"
    return language.lower().startswith("zh")


YES_NO = ("是", "Yes"), ("否", "No")


def normalise(text: str) -> str:
    """Full-width to half-width, trimmed, inner runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def header_key(text: str) -> str:
    """How a header cell is compared: normalised, lower case, '_' as space, a trailing '*' or
    '(必填)' dropped."""
    text = normalise(text).lower().replace("_", " ")
    for tail in ("*", "(必填)", "(选填)"):
        text = text.removesuffix(tail).strip()
    return text


def header_index(columns: Iterable[Column]) -> dict[str, str]:
    """Every way a file may head a column (Chinese, English, the key, the aliases), compared
    through `header_key`, mapped to the column's key."""
    return {
        header_key(text): column.key
        for column in columns
        for text in (column.zh, column.en, column.key, *column.aliases)
    }


def label(values: dict[str, tuple[str, str]], code: str, language: str | None = None) -> str:
    """A coded value's word in the file's language, from a {code: (zh, en)} vocabulary."""
    pair = values.get(code)
    if pair is None:
        return code
    return pair[0] if is_chinese(language) else pair[1]


def yes_no(value: bool, language: str | None = None) -> str:
    pair = YES_NO[0] if value else YES_NO[1]
    return pair[0] if is_chinese(language) else pair[1]
