"""Run a command and measure its wall time and the peak memory of its whole process tree.

``/usr/bin/time -v`` and ``getrusage`` report the largest single process; with
``maximum_cores='all'`` the official jump and ramp_fit steps fork workers, so a fair figure
sums the tree. This module samples ``/proc`` (Linux) every ``interval`` seconds and records

* ``peak_rss``: the largest sum of VmRSS over the process and all its descendants (counts
  pages shared by forked workers once per process: an upper bound), at least the largest
  single-process high-water mark (VmHWM) seen, so a short single-process peak between two
  samples is not lost;
* ``peak_pss``: the largest sum of proportional set sizes (shared pages split between their
  users: the memory the tree really holds).

No third-party dependency (psutil is not required).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "compile_bytecode", "run_measured", "tree_memory"]

_PROC = Path("/proc")


def compile_bytecode(package: str = "webbflow") -> Path:
    """Write ``package``'s ``.pyc`` files, as ``pip install`` of a wheel does; return its folder.

    An editable install compiles a module on its first import and caches the bytecode, unless
    ``PYTHONDONTWRITEBYTECODE`` is set: then every timed process would compile all of the
    package's modules again (0.2-0.3 s for a Detector1 run), a cost no installed copy has.
    The official pipeline's site-packages already hold their bytecode.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImportError(f"{package} is not importable")
    folder = Path(spec.origin).parent
    compileall.compile_dir(str(folder), quiet=1)
    return folder


@dataclass
class Measured:
    """What :func:`run_measured` saw.

    Attributes
    ----------
    returncode : int
        Exit status (negative: killed by that signal).
    wall_s : float
        Whole-process wall time, from spawn to exit (s).
    peak_rss : int
        Peak summed RSS of the process tree (bytes), see the module docstring.
    peak_pss : int
        Peak summed PSS of the process tree (bytes); 0 where ``/proc`` has no smaps_rollup.
    max_procs : int
        Largest number of processes seen in the tree at once.
    log : Path
        File holding the command's stdout and stderr together.
    """

    returncode: int
    wall_s: float
    peak_rss: int
    peak_pss: int
    max_procs: int
    log: Path

    def tail(self, n: int = 40) -> str:
        """The last ``n`` lines of the command's output."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may contain spaces
        fields = stat[stat.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _descendants(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _status_kib(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        with open(_PROC / str(pid) / "status") as fh:
            for line in fh:
                key = line.split(":", 1)[0]
                if key in keys:
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(_PROC / str(pid) / "smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int) -> tuple[int, int, int, int]:
    """Current memory of ``root`` and its descendants.

    Returns
    -------
    rss, pss, hwm, nprocs : int
        Summed VmRSS (bytes), summed PSS (bytes), the largest single VmHWM (bytes), and the
        number of processes.
    """
    rss = pss = hwm = 0
    pids = _descendants(root)
    for pid in pids:
        status = _status_kib(pid, ("VmRSS", "VmHWM"))
        rss += status.get("VmRSS", 0) * 1024
        hwm = max(hwm, status.get("VmHWM", 0) * 1024)
        pss += _pss_kib(pid) * 1024
    return rss, pss, hwm, len(pids)


def run_measured(cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None, timeout: float | None = None,
                 interval: float = 0.05) -> Measured:
    """Run ``cmd`` to completion, sampling its process tree's memory.

    Parameters
    ----------
    cmd : sequence of str
        The command (no shell).
    log : Path
        Where stdout and stderr go (overwritten).
    env : mapping, optional
        The command's environment (default: ours).
    cwd : Path, optional
        Its working directory.
    timeout : float, optional
        Seconds before the tree is killed (``returncode`` then negative).
    interval : float
        Sampling period (s).

    Returns
    -------
    Measured
    """
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    peaks = {"rss": 0, "pss": 0, "procs": 0}
    done = threading.Event()
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT,
                                env=None if env is None else dict(env), cwd=cwd,
                                start_new_session=True)

        def sample() -> None:
            while not done.is_set():
                rss, pss, hwm, nprocs = tree_memory(proc.pid)
                peaks["rss"] = max(peaks["rss"], rss, hwm)
                peaks["pss"] = max(peaks["pss"], pss)
                peaks["procs"] = max(peaks["procs"], nprocs)
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            returncode = proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    return Measured(returncode, wall, peaks["rss"], peaks["pss"], peaks["procs"], log)
