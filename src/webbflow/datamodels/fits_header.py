"""FITS header cards: parsed from and formatted to 80-character card images (:mod:`fitsio`).

Parsing covers what JWST files hold and answers :class:`NeedsAstropy` for the rest (HIERARCH
and malformed cards, complex values): strings lose their trailing blanks and ``''`` escapes,
long strings are joined from their CONTINUE cards, ``T``/``F`` read as bool, integers as int,
reals (``E`` or ``D`` exponent) as float, an empty value as :data:`UNDEFINED`. Formatting
writes the fixed format: values right-aligned to column 30 (strings from column 11, at least
8 characters between the quotes), reals as the shortest text that reads back to the same
double, strings over 68 characters split over CONTINUE cards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, NamedTuple

import numpy as np

__all__ = ["BLOCK", "CARD", "COMMENTARY", "KEYWORD", "UNDEFINED", "Card", "Header",
           "NeedsAstropy", "check_text", "is_undefined", "read_header", "value_cards"]

BLOCK = 2880
CARD = 80
_CARDS_PER_BLOCK = BLOCK // CARD


class NeedsAstropy(Exception):
    """The file (or HDU list to write) uses a FITS feature this module leaves to astropy."""


class _Undefined:
    """A keyword with no value (``KEY     =`` followed by blanks or a comment)."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


def is_undefined(value: Any) -> bool:
    """True for :data:`UNDEFINED` and for astropy's ``Undefined`` (a file read by astropy)."""
    return value is UNDEFINED or type(value).__name__ == "Undefined"


class Card(NamedTuple):
    """One header entry: keyword (upper case; "" for a blank card), value, comment."""

    keyword: str
    value: Any
    comment: str = ""


#: keywords whose cards hold free text (no "= " value)
COMMENTARY = {"COMMENT", "HISTORY", ""}


class Header:
    """Ordered cards; ``header[key]``, ``key in header``, ``get`` see a keyword's first card.

    ``header[key] = value`` (or ``(value, comment)``) replaces the first card's value (its
    comment kept unless one is given) or appends a card.
    """

    def __init__(self, cards: Iterable[Card | tuple] = ()) -> None:
        self._cards: list[Card] = []
        self._first: dict[str, int] = {}
        for card in cards:
            self.append(Card(*card))

    @property
    def cards(self) -> list[Card]:
        """The cards, in file order."""
        return self._cards

    def append(self, card: Card) -> None:
        """Add ``card`` at the end (commentary keywords may repeat)."""
        card = Card(card.keyword.upper(), card.value, card.comment)
        self._first.setdefault(card.keyword, len(self._cards))
        self._cards.append(card)

    def __contains__(self, key: str) -> bool:
        return key.upper() in self._first

    def __getitem__(self, key: str) -> Any:
        return self._cards[self._first[key.upper()]].value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``'s first card, or ``default``."""
        index = self._first.get(key.upper())
        return default if index is None else self._cards[index].value

    def __setitem__(self, key: str, value: Any) -> None:
        key = key.upper()
        comment = None
        if isinstance(value, tuple):
            value, comment = value
        index = self._first.get(key)
        if index is None:
            self.append(Card(key, value, comment or ""))
        else:
            old = self._cards[index]
            self._cards[index] = Card(key, value, old.comment if comment is None else comment)

    def remove(self, key: str, ignore_missing: bool = False) -> None:
        """Delete ``key``'s first card (KeyError when absent unless ``ignore_missing``)."""
        index = self._first.get(key.upper())
        if index is None:
            if ignore_missing:
                return
            raise KeyError(key)
        del self._cards[index]
        self._reindex()

    def _reindex(self) -> None:
        self._first = {}
        for i, card in enumerate(self._cards):
            self._first.setdefault(card.keyword, i)

    def keys(self) -> list[str]:
        """Keywords in order (repeats included)."""
        return [c.keyword for c in self._cards]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._cards)

    def copy(self) -> Header:
        """An independent copy."""
        return Header(self._cards)


# ------------------------------------------------------------------------------ parsing
_INT = re.compile(r"[+-]?\d+\Z")
_REAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?\Z")
#: a standard keyword (anything else: HIERARCH, left to astropy)
KEYWORD = re.compile(r"[A-Z0-9_-]{0,8}\Z")


def _parse_string(text: str) -> tuple[str, str]:
    """(value without the closing quote's trailing blanks, rest of the card) of ``text``,
    which starts with the opening quote."""
    pieces, start = [], 1
    while True:
        end = text.find("'", start)
        if end < 0:
            raise NeedsAstropy("unterminated string value")
        if text[end + 1:end + 2] == "'":
            pieces.append(text[start:end + 1])
            start = end + 2
            continue
        pieces.append(text[start:end])
        return "".join(pieces), text[end + 1:]


def _comment(rest: str) -> str:
    rest = rest.strip()
    if rest and not rest.startswith("/"):
        raise NeedsAstropy("text after a value")
    return rest[1:].strip()


def _parse_card(image: str) -> tuple[Card, bool]:
    """One 80-character card image -> (Card, whether a string value ends in '&')."""
    if image.startswith("HIERARCH"):
        raise NeedsAstropy("HIERARCH keyword")
    keyword = image[:8].rstrip().upper()
    if keyword in COMMENTARY or keyword == "CONTINUE" or image[8:10] != "= ":
        return Card(keyword, image[8:].rstrip()), False
    if not KEYWORD.match(keyword):
        raise NeedsAstropy(f"keyword {keyword!r}")
    text = image[10:].lstrip()
    if text.startswith("'"):
        value, rest = _parse_string(text)
        return Card(keyword, value.rstrip(), _comment(rest)), value.rstrip().endswith("&")
    token, _, comment = text.partition("/")
    token = token.strip()
    if token == "":
        value: Any = UNDEFINED
    elif token in ("T", "F"):
        value = token == "T"
    elif _INT.match(token):
        value = int(token)
    elif _REAL.match(token):
        value = float(token.replace("D", "E").replace("d", "e"))
    else:
        raise NeedsAstropy(f"value {token!r} of {keyword}")
    return Card(keyword, value, comment.strip()), False


def _continued(card: Card, images: list[str], index: int) -> tuple[Card, int]:
    """``card`` (a string ending in '&') joined with the CONTINUE cards from ``index``; as it
    is when no CONTINUE card follows (the '&' is then part of the value)."""
    if index >= len(images) or not images[index].startswith("CONTINUE"):
        return card, index
    value, comments = card.value[:-1], [card.comment] if card.comment else []
    while index < len(images) and images[index].startswith("CONTINUE"):
        text = images[index][8:].lstrip()
        if not text.startswith("'"):
            break
        part, rest = _parse_string(text)
        part = part.rstrip()
        comment = _comment(rest)
        if comment:
            comments.append(comment)
        index += 1
        if part.endswith("&"):
            value += part[:-1]
        else:
            value += part
            break
    return Card(card.keyword, value, " ".join(comments)), index


def parse_header(images: list[str]) -> Header:
    """A header from its card images (up to, not including, END)."""
    header = Header()
    index = 0
    while index < len(images):
        card, more = _parse_card(images[index])
        index += 1
        if more:
            card, index = _continued(card, images, index)
        header.append(card)
    return header


def read_header(fileobj: BinaryIO) -> tuple[Header, int] | None:
    """The header starting at the current position and its size in bytes; None at the end of
    the file (only padding left). ValueError when the file ends inside the header."""
    images: list[str] = []
    size = 0
    while True:
        block = fileobj.read(BLOCK)
        if not block.strip(b"\0 ") and not images:
            return None  # end of file, or trailing padding
        if len(block) < BLOCK:
            raise ValueError("the file ends inside a header")
        size += BLOCK
        try:
            text = block.decode("ascii")
        except UnicodeDecodeError:
            raise NeedsAstropy("non-ASCII header") from None
        for k in range(_CARDS_PER_BLOCK):
            image = text[k * CARD:(k + 1) * CARD]
            if image.startswith("END") and not image[3:].strip():
                return parse_header(images), size
            images.append(image)


def _format_real(value: float) -> str:
    if not math.isfinite(value):
        raise NeedsAstropy(f"non-finite value {value}")
    text = repr(value).upper()
    mantissa, _, exponent = text.partition("E")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("E" + exponent if exponent else "")


def check_text(text: str) -> str:
    """``text`` when printable ASCII (what a card may hold), else NeedsAstropy."""
    if not text.isascii() or not text.isprintable():
        raise NeedsAstropy(f"text {text[:20]!r} is not printable ASCII")
    return text


def value_cards(keyword: str, value: Any, comment: str) -> list[str]:
    """The card images of one keyword (several for a long string: CONTINUE)."""
    if isinstance(value, (bool, np.bool_)):
        field = f"{'T' if value else 'F':>20}"
    elif isinstance(value, (int, np.integer)):
        field = f"{int(value):>20}"
    elif isinstance(value, (float, np.floating)):
        field = f"{_format_real(float(value)):>20}"
    elif isinstance(value, str):
        escaped = check_text(value).replace("'", "''")
        if len(escaped) > 68:
            return _long_string(keyword, escaped, comment)
        field = f"{chr(39) + escaped.ljust(8) + chr(39):<20}"
    elif is_undefined(value) or value is None:
        field = " " * 20
    else:
        raise NeedsAstropy(f"{keyword} value of type {type(value).__name__}")
    image = f"{keyword:<8}= {field}"
    if comment:
        image += " / " + check_text(comment)
    return [image[:CARD]]


def _long_string(keyword: str, escaped: str, comment: str) -> list[str]:
    """A string longer than one card, split over CONTINUE cards ('&' ends each part but the
    last). A value ending in '&' gets an empty last part, and a comment that does not fit
    the last part's card a ``CONTINUE  '' / comment`` card of its own."""
    parts, start = [], 0
    while start < len(escaped):
        stop = min(start + 67, len(escaped))
        if stop < len(escaped) and escaped[:stop].count("'") % 2:  # never split a ''
            stop -= 1
        parts.append(escaped[start:stop])
        start = stop
    if parts[-1].endswith("&") or (comment and len(parts[-1]) + len(comment) + 15 > CARD):
        parts.append("")
    images = []
    for i, part in enumerate(parts):
        text = "'" + part + ("&'" if i < len(parts) - 1 else "'")
        images.append((f"{keyword:<8}= " if i == 0 else "CONTINUE  ") + text)
    if comment:
        images[-1] += " / " + check_text(comment)
    return [image[:CARD] for image in images]
