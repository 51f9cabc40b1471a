"""Product metadata: dotted attribute access over a flat store, mapped to FITS keywords.

``model.meta.exposure.ngroups`` reads the entry ``"exposure.ngroups"`` of a flat dict. The
mapping between those paths and FITS keywords (and the HDU each keyword lives in) is the
table ``keywords.tsv`` shipped with the package, the same names the official JWST data
products use, so our files read in the official datamodels and theirs in ours.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Keyword:
    """One row of the keyword table: metadata path, FITS keyword, HDU name and value type."""

    path: str
    keyword: str
    hdu: str
    type: str

    def coerce(self, value: Any) -> Any:
        """Convert a FITS header value to the table's type (``None`` stays ``None``)."""
        if value is None:
            return None
        try:
            if self.type == "integer" and not isinstance(value, bool):
                return int(value)
            if self.type == "number" and not isinstance(value, bool):
                return float(value)
            if self.type == "boolean" and isinstance(value, str):
                return value.strip().upper() in ("T", "TRUE", "1", "Y", "YES")
        except (TypeError, ValueError):
            return value
        return value


@cache
def keyword_table() -> tuple[Keyword, ...]:
    """All known keywords, in table order."""
    text = resources.files("webbflow.datamodels").joinpath("keywords.tsv").read_text()
    rows = csv.reader((ln for ln in text.splitlines() if ln and not ln.startswith("#")),
                      delimiter="\t")
    return tuple(Keyword(*row) for row in rows)


@cache
def by_path() -> dict[str, Keyword]:
    """Keyword rows indexed by metadata path (``"exposure.ngroups"``)."""
    return {k.path: k for k in keyword_table()}


@cache
def by_hdu_keyword() -> dict[tuple[str, str], Keyword]:
    """Keyword rows indexed by ``(HDU name, FITS keyword)``."""
    return {(k.hdu, k.keyword): k for k in keyword_table()}


@cache
def known_groups() -> frozenset[str]:
    """Every path prefix that names a group of keywords (``"exposure"``, ``"ref_file.dark"``)."""
    groups = set()
    for k in keyword_table():
        parts = k.path.split(".")
        for i in range(1, len(parts)):
            groups.add(".".join(parts[:i]))
    return frozenset(groups)


class Meta:
    """Attribute view of one level of a flat ``{dotted.path: value}`` store.

    Unset known keywords read as ``None``; assigning creates the entry; an unknown name
    reads as an (empty) group so that new groups can be assigned into.
    """

    __slots__ = ("_prefix", "_store")

    def __init__(self, store: dict[str, Any] | None = None, prefix: str = "") -> None:
        object.__setattr__(self, "_store", {} if store is None else store)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        path = self._prefix + name
        if path in self._store:
            return self._store[path]
        if path in by_path() and path not in known_groups():
            return None
        return Meta(self._store, path + ".")

    def __setattr__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delattr__(self, name: str) -> None:
        path = self._prefix + name
        for key in [k for k in self._store if k == path or k.startswith(path + ".")]:
            del self._store[key]

    def set(self, path: str, value: Any) -> None:
        """Set ``path`` (relative to this level); a dict value sets its leaves."""
        full = self._prefix + path
        if isinstance(value, dict):
            for key, sub in value.items():
                self.set(f"{path}.{key}", sub)
        elif isinstance(value, Meta):
            for key, sub in value.items():
                self._store[f"{full}.{key}"] = sub
        else:
            self._store[full] = value

    def get(self, path: str, default: Any = None) -> Any:
        """Return the value at ``path`` (relative to this level), or ``default``."""
        return self._store.get(self._prefix + path, default)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(relative path, value)`` for every leaf under this level."""
        n = len(self._prefix)
        for key, value in self._store.items():
            if key.startswith(self._prefix):
                yield key[n:], value

    def to_flat_dict(self) -> dict[str, Any]:
        """Leaves under this level as ``{relative.path: value}``."""
        return dict(self.items())

    def to_dict(self) -> dict[str, Any]:
        """Leaves under this level as a nested dict."""
        out: dict[str, Any] = {}
        for key, value in self.items():
            node = out
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
                if not isinstance(node, dict):
                    break
            else:
                node[leaf] = value
        return out

    def __contains__(self, path: str) -> bool:
        full = self._prefix + path
        return full in self._store or any(k.startswith(full + ".") for k in self._store)

    def __bool__(self) -> bool:
        return any(True for _ in self.items())

    def __iter__(self) -> Iterator[str]:
        seen = []
        for key, _ in self.items():
            head = key.split(".", 1)[0]
            if head not in seen:
                seen.append(head)
        return iter(seen)

    def __repr__(self) -> str:
        return f"Meta({self._prefix.rstrip('.') or '<root>'}: {self.to_dict()!r})"
