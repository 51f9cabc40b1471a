"""The ``webbflow`` command: project-level tools (``webbflow demo DIR``, ``webbflow version``).

Pipelines and steps are run with ``strun`` (as with the official pipeline) or through the
Snakemake workflow; this command holds what has no official counterpart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from . import __version__
from .errors import WebbflowError


def _demo(argv: list[str]) -> int:
    from .demo.cli import main as demo_main

    return demo_main(argv)


def _version(argv: list[str]) -> int:
    print(f"webbflow {__version__}")
    return 0


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "demo": (_demo, "write the demo observation, its reference files and local CRDS cache"),
    "version": (_version, "print the webbflow version"),
}


def _usage() -> str:
    lines = ["usage: webbflow <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {doc}" for name, (_, doc) in COMMANDS.items()]
    lines += ["", "Run pipelines and steps with `strun`, whole programs with `snakemake`."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``webbflow`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"webbflow: error: unknown command {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]][0](argv[1:])
    except WebbflowError as exc:
        print(f"webbflow: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
