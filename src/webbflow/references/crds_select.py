"""Choosing reference files through the ``crds`` library against the pinned context.

The workflow pins ``crds: {context, path, server_url}``; :func:`configure` hands those to the
``crds`` library (as CRDS_PATH / CRDS_SERVER_URL) before it is used. Selection follows the
official rules: the environment's ``CRDS_CONTEXT`` wins over the configured context, which wins
over the cache's (or server's) operational context. With no ``CRDS_SERVER_URL`` the library
runs in local mode (``CRDS_MODE=local``) on the cache alone; with one it is used unchanged.

Answers are cached per (context, selection parameters, reftype). A reference the context
cannot supply is one line naming the reftype, the selection keywords and the context.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.metadata
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..datamodels import DataModel
from ..datamodels.meta import by_path
from ..errors import ReferenceError_
from .crds_compat import crds_library

__all__ = [
    "configure",
    "context_in_use",
    "crds_version",
    "get_parameter_reference",
    "get_reference",
]

_CONFIG: dict[str, str | None] = {"context": None, "crds_path": None, "server_url": None}
_ANSWERS: dict[tuple[str, tuple[tuple[str, str], ...], str], str] = {}
_DATE_KEYS = ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")
_TRUE = ("true", "t", "yes", "y")


def configure(context: str | None = None, crds_path: str | None = None,
              server_url: str | None = None) -> None:
    """Pin the CRDS context, cache directory and server for this process.

    Parameters
    ----------
    context : str, optional
        Pipeline mapping, e.g. ``"jwst_9001.pmap"`` (the environment's CRDS_CONTEXT still wins).
    crds_path : str, optional
        Cache directory; sets CRDS_PATH.
    server_url : str, optional
        CRDS server; sets CRDS_SERVER_URL (unset means local mode on the cache alone).
    """
    _CONFIG.update(context=context, crds_path=None if crds_path is None else str(crds_path),
                   server_url=server_url)
    if crds_path is not None:
        os.environ["CRDS_PATH"] = str(crds_path)
    if server_url:
        os.environ["CRDS_SERVER_URL"] = server_url
    _forget()


def _forget() -> None:
    """Drop remembered answers and the crds library's loaded mappings."""
    _ANSWERS.clear()
    try:
        from crds.core import utils as crds_utils
    except ImportError:  # pragma: no cover - crds is a dependency
        return
    crds_utils.clear_function_caches()


@functools.cache
def crds_version() -> str:
    """Version of the installed ``crds`` library (recorded as CRDS_VER).

    Read from the package metadata: importing ``crds`` costs about a second, which a run with
    every reference overridden never needs to pay.
    """
    try:
        return importlib.metadata.version("crds")
    except importlib.metadata.PackageNotFoundError:
        crds = crds_library()
        return str(crds.__version__)


def _local_mode() -> bool:
    return not os.environ.get("CRDS_SERVER_URL")


def _cache_dir() -> Path:
    path = os.environ.get("CRDS_PATH") or _CONFIG["crds_path"]
    if path:
        return Path(path)
    # the crds library's own default (its documented environment), without importing it
    path = os.environ.get("CRDS_PATH_SINGLE") or os.environ.get("CRDS_DEFAULT_CACHE")
    return Path(path or "/grp/crds/cache")


def context_in_use() -> str:
    """The pipeline mapping selections use: CRDS_CONTEXT, else the configured one, else the
    cache's (local mode) or the server's operational context.

    Raises
    ------
    ReferenceError_
        No context can be determined.
    """
    ctx = os.environ.get("CRDS_CONTEXT") or _CONFIG["context"]
    if ctx:
        return ctx
    if _local_mode():
        cfg = _cache_dir() / "config" / "jwst" / "server_config"
        try:
            info = ast.literal_eval(cfg.read_text())
            return str(info["operational_context"])
        except (OSError, ValueError, SyntaxError, KeyError, TypeError):
            raise ReferenceError_(
                f"no CRDS context: set CRDS_CONTEXT or crds.context, or give CRDS_PATH a cache "
                f"with {cfg}") from None
    crds = crds_library()
    from crds.core import exceptions as crexc

    try:
        return str(crds.get_default_context("jwst"))
    except crexc.CrdsError as exc:
        raise ReferenceError_(f"no CRDS context: the server gives none ({_one_line(exc)})"
                              ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@contextlib.contextmanager
def _crds_env() -> Iterator[None]:
    """Local mode when no server is set; crds's own ERROR lines hushed (we raise instead)."""
    crds_library()
    saved = os.environ.get("CRDS_MODE")
    if _local_mode():
        os.environ["CRDS_MODE"] = "local"
    logger = logging.getLogger("CRDS")

    def _drop_errors(record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR

    logger.addFilter(_drop_errors)
    try:
        yield
    finally:
        logger.removeFilter(_drop_errors)
        if saved is None:
            os.environ.pop("CRDS_MODE", None)
        else:
            os.environ["CRDS_MODE"] = saved


def _keyword(parkey: str) -> str:
    path = parkey.lower().removeprefix("meta.")
    row = by_path().get(path)
    return row.keyword if row is not None else parkey


def _rmap_parkeys(context: str, instrument: str, reftype: str) -> tuple[list[str], Any]:
    """The rmap's match parkeys and the rmap itself (``([], None)`` when not loadable)."""
    try:
        from crds.core import rmap

        with _crds_env():
            pmap = rmap.get_cached_mapping(context)
            mapping = pmap.get_imap(instrument).get_rmap(reftype)
    except Exception:  # any failure: fall back to generic keywords
        return [], None
    keys = [k for group in mapping.parkey for k in group if k not in _DATE_KEYS]
    return keys, mapping


def _describe(params: dict[str, str], keys: list[str]) -> str:
    inst = params.get("META.INSTRUMENT.NAME", "UNDEFINED")
    det = params.get("META.INSTRUMENT.DETECTOR", "UNDEFINED")
    if not keys:
        keys = ["META.EXPOSURE.TYPE", "META.SUBARRAY.NAME", "META.EXPOSURE.READPATT"]
    rest = " ".join(f"{_keyword(k)}={params.get(k, 'UNDEFINED')}" for k in keys
                    if k not in ("META.INSTRUMENT.NAME", "META.INSTRUMENT.DETECTOR"))
    return f"{inst} {det}" + (f" {rest}" if rest else "")


def _matches(rule: str, value: str) -> bool:
    alternatives = {v.strip().upper() for v in str(rule).split("|")}
    return bool(alternatives & {"N/A", "*", "ANY"}) or value in alternatives


def _why_no_match(params: dict[str, str], keys: list[str], mapping: Any) -> str:
    """Name the first selection keyword (in rmap order) that no remaining rule accepts."""
    date = " ".join(params.get(k, "UNDEFINED") for k in _DATE_KEYS)
    fallback = f"no rule matches this combination or no file has USEAFTER before {date}"
    if mapping is None or not keys:
        return fallback
    try:
        rows = [tuple(r) for r in mapping.selector.keys()]
    except Exception:  # a selector without Match rows
        return fallback
    for i, key in enumerate(keys):
        value = str(params.get(key, "UNDEFINED")).upper()
        kept = [r for r in rows if i < len(r) and _matches(r[i], value)]
        if not kept:
            return f"no rule matches {_keyword(key)}={value!r}"
        rows = kept
    return f"no file has USEAFTER before {date}"


def _lookup_error(reftype: str, params: dict[str, str], context: str,
                  exc: BaseException) -> ReferenceError_:
    inst = params.get("META.INSTRUMENT.NAME", "UNDEFINED")
    keys, mapping = _rmap_parkeys(context, inst, reftype)
    what = f"no {reftype} reference for {_describe(params, keys)} in context {context}"
    text = _one_line(exc)
    from crds.core import exceptions as crexc

    if "Unknown reference type" in text:
        reason = f"the context has no rules for reftype {reftype!r}"
    elif "Unknown instrument" in text or "Unknown instrument" in repr(exc) or (
            isinstance(exc, crexc.CrdsUnknownInstrumentError)):
        reason = f"the context has no rules for instrument {inst!r}"
    elif isinstance(exc, crexc.CrdsLookupError):
        reason = _why_no_match(params, keys, mapping)
    elif isinstance(exc, (crexc.CrdsNetworkError, crexc.CrdsDownloadError, OSError)):
        reason = f"a file the rules name is missing from the CRDS cache {_cache_dir()}"
        reason += " (local mode: no CRDS_SERVER_URL)" if _local_mode() else f" ({text})"
    else:
        reason = text
    return ReferenceError_(f"{what}: {reason}")


def _select(params: dict[str, str], reftype: str, context: str) -> str:
    crds = crds_library()
    from crds.core import exceptions as crexc

    try:
        with _crds_env():
            answer = crds.getreferences(params, reftypes=[reftype], context=context,
                                        observatory="jwst")
    except (crexc.CrdsError, OSError, LookupError) as exc:
        if "mapping" in type(exc).__name__.lower() or isinstance(exc, crexc.MappingError):
            raise ReferenceError_(f"CRDS context {context} cannot be loaded from "
                                  f"{_cache_dir()}: {_one_line(exc)}") from None
        raise _lookup_error(reftype, params, context, exc) from None
    value = str(answer.get(reftype, "NOT FOUND n/a"))
    if value.upper().startswith("NOT FOUND"):
        if "n/a" in value.lower():
            return "N/A"
        raise _lookup_error(reftype, params, context, crexc.CrdsLookupError(value))
    return value


#: metadata that steps change as an exposure goes through a pipeline and that no CRDS rule
#: selects on: left out of the answer cache's key, so every step of a run reuses one answer
_VOLATILE_PREFIXES = ("META.CAL_STEP.", "META.REF_FILE.")
_VOLATILE_KEYS = frozenset(("META.FILENAME", "META.DATE", "META.CALIBRATION_SOFTWARE_VERSION"))


def _selection_key(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in params.items()
                        if k not in _VOLATILE_KEYS and not k.startswith(_VOLATILE_PREFIXES)))


def get_reference(model: DataModel, reftype: str) -> str:
    """Local path of the best ``reftype`` reference for ``model``, or ``"N/A"``.

    Parameters
    ----------
    model : DataModel
        Science data; its ``crds_parameters()`` are the selection header.
    reftype : str
        CRDS reference type (``"dark"``, ``"pars-jumpstep"``...).

    Raises
    ------
    ReferenceError_
        One line naming the reftype, the selection keywords and the context, e.g.
        ``no dark reference for NIRCAM NRCA1 SUBARRAY=SUB320 ... in context jwst_9001.pmap:
        no rule matches SUBARRAY='SUB320'``.
    """
    reftype = reftype.lower()
    context = context_in_use()
    params = model.crds_parameters()
    key = (context, _selection_key(params), reftype)
    if key not in _ANSWERS:
        _ANSWERS[key] = _select(params, reftype, context)
    return _ANSWERS[key]


def get_parameter_reference(model: DataModel, step_class_name: str) -> str | None:
    """Path of the ``pars-<lowercase class name>`` reference for ``model``, or None.

    None when the context says N/A, does not know the reftype, or parameter references are
    turned off (``STPIPE_DISABLE_CRDS_STEPPARS`` true/t/yes/y, as officially).
    """
    if os.environ.get("STPIPE_DISABLE_CRDS_STEPPARS", "").strip().lower() in _TRUE:
        return None
    name = step_class_name.rsplit(".", 1)[-1].lower()
    reftype = f"pars-{name}"
    try:
        path = get_reference(model, reftype)
    except ReferenceError_ as exc:
        if "has no rules for reftype" in str(exc):
            return None
        raise
    return None if path == "N/A" else path
