"""Logging configuration as officially: INFO to stdout unless a log cfg says otherwise.

A log configuration file (``stpipe-log.cfg`` in the working directory, or ``--logcfg F``)::

    handler = file:pipeline.log      # or stdout, stderr; several separated by commas
    level = INFO                     # DEBUG, INFO, WARNING, ERROR, CRITICAL
    format = %(asctime)s - %(name)s - %(levelname)s - %(message)s   (optional)

Keys may also sit in sections named after loggers (``[*]`` for all, ``[jump]`` or
``[stpipe.jump]`` for one step); top-level keys apply to all. Every step logs through
``logging.getLogger("webbflow.<step name>")``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ..errors import ConfigError

ROOT = "webbflow"
DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
DEFAULT_LOGCFG = "stpipe-log.cfg"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_OWN_HANDLER = "_webbflow_handler"


def _mark(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _OWN_HANDLER, True)
    return handler


def ensure_default_logging() -> None:
    """INFO to stdout for Python use, unless logging is already configured somewhere."""
    logger = logging.getLogger(ROOT)
    if logger.handlers or logging.getLogger().handlers:
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        return
    handler = _mark(logging.StreamHandler(sys.stdout))
    handler.setFormatter(logging.Formatter(DEFAULT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _make_handler(spec: str) -> logging.Handler:
    spec = spec.strip()
    if spec == "stdout":
        return logging.StreamHandler(sys.stdout)
    if spec == "stderr":
        return logging.StreamHandler(sys.stderr)
    if spec.startswith("file:"):
        return logging.FileHandler(os.path.expanduser(spec[5:].strip()), mode="a")
    if spec.startswith("append:"):
        return logging.FileHandler(spec[7:].strip(), mode="a")
    raise ConfigError(f"log configuration: unknown handler {spec!r} "
                      "(expected stdout, stderr or file:<path>)")


def _level(text: str, source: str) -> int:
    name = text.strip().strip("'\"").upper()
    if name not in _LEVELS:
        raise ConfigError(f"{source}: unknown log level {text!r} (expected one of "
                          f"{', '.join(_LEVELS)})")
    return getattr(logging, name)


def configure(logcfg: str | os.PathLike | None = None, verbose: bool = False) -> None:
    """Configure the ``webbflow`` loggers for a command-line run.

    Parameters
    ----------
    logcfg : path, optional
        Log configuration file; default ``./stpipe-log.cfg`` when it exists.
    verbose : bool
        Log DEBUG messages (overrides the file's level).
    """
    from .config_files import read_cfg_text

    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.propagate = False
    sections: dict[str, dict] = {"*": {}}
    if logcfg is None and Path(DEFAULT_LOGCFG).is_file():
        logcfg = DEFAULT_LOGCFG
    if logcfg is not None:
        path = Path(logcfg)
        if not path.is_file():
            raise ConfigError(f"{path}: no such log configuration file")
        tree = read_cfg_text(path.read_text(), str(path))
        sections["*"] = {k: v for k, v in tree.items() if not isinstance(v, dict)}
        for name, sub in tree.items():
            if isinstance(sub, dict):
                sections.setdefault(name, {}).update(sub)
    for name, settings in sections.items():
        logger_name = ROOT if name in ("*", "stpipe", ROOT) else \
            f"{ROOT}.{name.removeprefix('stpipe.').removeprefix(ROOT + '.')}"
        logger = logging.getLogger(logger_name)
        if logger is not root:
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()
        handlers = settings.get("handler", "stdout" if logger is root else None)
        if isinstance(handlers, list):
            handlers = ",".join(handlers)
        fmt = logging.Formatter(str(settings.get("format", DEFAULT_FORMAT)))
        if handlers:
            for spec in str(handlers).split(","):
                if spec.strip():
                    handler = _mark(_make_handler(spec))
                    handler.setFormatter(fmt)
                    logger.addHandler(handler)
            if logger is not root:
                logger.propagate = False
        level = settings.get("level", "INFO" if logger is root else None)
        if level is not None:
            logger.setLevel(_level(str(level), str(logcfg)))
    if verbose:
        root.setLevel(logging.DEBUG)
    # Python warnings (astropy's, numpy's) go where the log goes, never bare to stderr.
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers = list(root.handlers)
    warnings_logger.propagate = False


def shutdown() -> None:
    """Flush and close the handlers ``configure`` installed."""
    for logger in [logging.getLogger(ROOT), logging.getLogger("py.warnings"), *(
            logging.getLogger(n) for n in logging.root.manager.loggerDict
            if n.startswith(ROOT + "."))]:
        for handler in list(logger.handlers):
            if getattr(handler, _OWN_HANDLER, False):
                handler.flush()
                handler.close()
                logger.removeHandler(handler)
