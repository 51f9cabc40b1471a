"""Typed step parameters: specs with defaults, ranges and options, parsed from any source.

A step declares ``spec = {"rejection_threshold": Param("float", 4.0, "...", min=0.0)}``. The
same :class:`Param` parses a value whatever its origin: a Python keyword argument, a string
from the command line or a legacy ``.cfg`` file, or a value read from an ASDF parameter file.
Every failure is a one-line :class:`~webbflow.errors.ParameterError` naming
``<step>.<parameter>`` and the problem.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError

TYPES = ("string", "integer", "float", "boolean", "option", "int_list", "float_list",
         "string_list", "path")

_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}
_ARTICLE = {"integer": "an integer", "option": "an option", "int_list": "an int_list"}


def _article(kind: str) -> str:
    return _ARTICLE.get(kind, f"a {kind}")


def is_none(value: Any) -> bool:
    """True for ``None`` and the strings ``"None"``/``"none"``/``"null"`` (cfg/cli spelling)."""
    return value is None or (isinstance(value, str) and value.strip() in ("None", "none", "null"))


def parse_bool(value: Any) -> bool | None:
    """``True/False/true/yes/1/t/y/on`` (and negatives) → bool; anything else → None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().strip("'\"").lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _split_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    text = str(value).strip()
    if text.startswith(("[", "(")) and text.endswith(("]", ")")):
        text = text[1:-1]
    if not text.strip():
        return []
    return [item.strip().strip("'\"") for item in text.split(",")]


@dataclass(frozen=True)
class Param:
    """Specification of one step parameter.

    Parameters
    ----------
    type : str
        One of ``string, integer, float, boolean, option, int_list, float_list, string_list,
        path`` (a path is a string that may be None; overrides may also be ``"N/A"``).
    default : Any
        Value used when no source sets the parameter (``None`` allowed for every type).
    doc : str
        One-line description shown by ``strun -h`` and written into ``.cfg`` files.
    min, max : float, optional
        Inclusive bounds for numbers (applied to each item of a numeric list).
    options : tuple of str, optional
        Allowed values of an ``option`` parameter.
    """

    type: str
    default: Any = None
    doc: str = ""
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}; expected one of {TYPES}")
        if self.type == "option" and not self.options:
            raise ValueError("an option parameter needs options")

    # ------------------------------------------------------------------ parsing
    def parse(self, value: Any, where: str) -> Any:
        """Convert ``value`` (Python or text) to this parameter's type and validate it.

        Parameters
        ----------
        value : Any
            The raw value (``"4.5"``, ``4.5``, ``"True"``, ``"1, 2"``, ``None``...).
        where : str
            ``"<step>.<parameter>"``, used in the error message.

        Raises
        ------
        ParameterError
            ``"<where>: expected a float, got 'abc'"`` and the like, on one line.
        """
        if is_none(value):
            if self.default is None or self.type in ("path", "string"):
                return None
            raise ParameterError(f"{where}: expected {_article(self.type)}, got None")
        kind = self.type
        if kind in ("int_list", "float_list", "string_list"):
            item_kind = kind.split("_")[0].replace("int", "integer")
            items = _split_list(value)
            return [self._check_range(self._scalar(v, item_kind, where, value), where)
                    for v in items]
        return self._check_range(self._scalar(value, kind, where, value), where)

    def _scalar(self, value: Any, kind: str, where: str, original: Any) -> Any:
        def bad() -> ParameterError:
            return ParameterError(f"{where}: expected {_article(self.type)}, got {original!r}")

        if kind == "boolean":
            out = parse_bool(value)
            if out is None:
                raise bad()
            return out
        if kind == "integer":
            if isinstance(value, bool):
                raise bad()
            if isinstance(value, int):
                return value
            if isinstance(value, float):
                if value.is_integer():
                    return int(value)
                raise bad()
            try:
                return int(str(value).strip().strip("'\""))
            except ValueError:
                raise bad() from None
        if kind == "float":
            if isinstance(value, bool):
                raise bad()
            if isinstance(value, int | float):
                return float(value)
            try:
                return float(str(value).strip().strip("'\""))
            except ValueError:
                raise bad() from None
        if kind in ("string", "path"):
            if isinstance(value, bool | list | tuple | dict):
                raise bad()
            return str(value)
        # option
        text = str(value).strip().strip("'\"")
        for option in self.options or ():
            if text == option or text.lower() == str(option).lower():
                return option
        hint = ", ".join(repr(o) for o in self.options or ())
        raise ParameterError(f"{where}: {original!r} is not one of {hint}")

    def _check_range(self, value: Any, where: str) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.min is not None and not (value >= self.min):
                if not (isinstance(value, float) and math.isnan(value)):
                    raise ParameterError(f"{where}: {value!r} is below the minimum {self.min!r}")
            if self.max is not None and value > self.max:
                raise ParameterError(f"{where}: {value!r} is above the maximum {self.max!r}")
        return value

    # ------------------------------------------------------------------ display
    def describe(self) -> str:
        """``"float, default 4.0, >= 0.0: doc"`` for help listings."""
        parts = [self.type if self.type != "option" else
                 "option(" + "|".join(str(o) for o in self.options or ()) + ")",
                 f"default {format_value(self.default) if self.default != '' else repr('')}"]
        if self.min is not None:
            parts.append(f">= {self.min}")
        if self.max is not None:
            parts.append(f"<= {self.max}")
        text = ", ".join(parts)
        return f"{text}: {self.doc}" if self.doc else text


def format_value(value: Any) -> str:
    """Text form of a parameter value as written in ``.cfg`` files and help listings."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) if value else "[]"
    return str(value)


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate(s), or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def unknown_parameter(name: str, owner: str, candidates: Iterable[str],
                      kind: str = "step") -> ParameterError:
    """The one-line error for a parameter the step or pipeline does not have."""
    return ParameterError(
        f"unknown parameter {name!r} for {kind} {owner!r}{suggest(name, candidates)}")


def validate_mapping(values: Mapping[str, Any], spec: Mapping[str, Param], owner: str,
                     kind: str = "step") -> dict[str, Any]:
    """Parse every entry of ``values`` against ``spec``; unknown names raise.

    Returns the parsed values (only the keys given).
    """
    out = {}
    for key, value in values.items():
        param = spec.get(key)
        if param is None:
            raise unknown_parameter(key, owner, spec, kind)
        out[key] = param.parse(value, f"{owner}.{key}")
    return out
