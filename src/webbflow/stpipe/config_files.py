"""Parameter files: ASDF in the official layout and the legacy configobj-style ``.cfg``.

ASDF (what ``--save-parameters`` writes and CRDS ``pars-*`` references hold)::

    class: jwst.pipeline.calwebb_detector1.Detector1Pipeline
    name: Detector1Pipeline
    meta: {author, date, description, instrument: {name}, origin, pedigree, reftype, ...}
    parameters: {save_results: false, ...}
    steps:
    - class: jwst.jump.jump_step.JumpStep
      name: jump
      parameters: {rejection_threshold: 4.0, ...}

Legacy ``.cfg``::

    name = "Detector1Pipeline"
    class = "jwst.pipeline.Detector1Pipeline"
    save_results = True          # comment
        [steps]
          [[dark_current]]
            config_file = my_dark_current.cfg    # relative to this file
          [[persistence]]
            skip = True

Values from ``.cfg`` files stay text here; the step's :class:`~.params.Param` parses them.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError, input_error
from .params import format_value

if TYPE_CHECKING:
    from .step import Step


@dataclass
class ParamFile:
    """The content of one parameter file."""

    class_name: str | None
    name: str | None
    parameters: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def as_layer(self) -> dict[str, Any]:
        """Parameters with a nested ``steps`` entry (the form ``build_config`` merges)."""
        layer = dict(self.parameters)
        if self.steps:
            layer["steps"] = {k: dict(v) for k, v in self.steps.items()}
        return layer


# ---------------------------------------------------------------------- .cfg reading
def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _split_items(text: str) -> list[str]:
    items, current, quote = [], [], None
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    items.append("".join(current).strip())
    return items


def _unquote(text: str) -> str:
    if len(text) >= 6 and text[:3] in ('"""', "'''") and text.endswith(text[:3]):
        return text[3:-3]
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1]
    return text


def _cfg_value(text: str, where: str) -> str | list[str]:
    text = text.strip()
    items = _split_items(text)
    if len(items) == 1:
        if items[0][:1] in "'\"" and (len(items[0]) < 2 or items[0][-1] != items[0][0]):
            raise ParameterError(f"{where}: unterminated quoted value {text!r}")
        return _unquote(items[0])
    return [_unquote(i) for i in items if i != ""]


def read_cfg_text(text: str, source: str = "<cfg>") -> dict[str, Any]:
    """Parse configobj-style text into nested dicts (sections ``[a]``, ``[[b]]``...).

    Raises
    ------
    ParameterError
        One line naming ``source``, the line number and the problem.
    """
    root: dict[str, Any] = {}
    stack: list[dict[str, Any]] = [root]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        where = f"{source}, line {number}"
        if line.startswith("["):
            depth = len(line) - len(line.lstrip("["))
            name = line.strip("[] \t")
            if not line.endswith("]" * depth) or not name:
                raise ParameterError(f"{where}: malformed section header {raw.strip()!r}")
            if depth > len(stack):
                raise ParameterError(f"{where}: section {name!r} is nested too deeply")
            del stack[depth:]
            section = stack[-1].setdefault(name, {})
            if not isinstance(section, dict):
                raise ParameterError(f"{where}: {name!r} is both a value and a section")
            stack.append(section)
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"{where}: expected 'key = value', got {raw.strip()!r}")
        stack[-1][key.strip()] = _cfg_value(value, where)
    return root


def read_cfg(path: str | os.PathLike) -> ParamFile:
    """Read a legacy ``.cfg`` parameter file (step or pipeline).

    A step subsection's ``config_file`` names a step cfg relative to this file; its values
    are read first and the subsection's own values override them.
    """
    path = Path(path)
    tree = _read_text(path, read_cfg_text)
    class_name = tree.pop("class", None)
    name = tree.pop("name", None)
    tree.pop("config_file", None)
    steps_section = tree.pop("steps", {})
    for key, value in tree.items():
        if isinstance(value, dict):
            raise ParameterError(f"{path}: unexpected section [{key}] (only [steps] is "
                                 "allowed)")
    if not isinstance(steps_section, dict):
        raise ParameterError(f"{path}: 'steps' must be a section")
    steps: dict[str, dict[str, Any]] = {}
    for step_name, section in steps_section.items():
        if not isinstance(section, dict):
            raise ParameterError(f"{path}: [steps] entry {step_name!r} must be a "
                                 f"[[{step_name}]] subsection")
        values: dict[str, Any] = {}
        ref = section.pop("config_file", None)
        if ref:
            sub = read_parameter_file(path.parent / str(ref))
            values.update(sub.parameters)
        for key, value in section.items():
            if isinstance(value, dict):
                raise ParameterError(f"{path}: unexpected section in [[{step_name}]]")
            values[key] = value
        values.pop("name", None)
        values.pop("class", None)
        steps[step_name] = values
    return ParamFile(class_name, name, dict(tree), steps, path)


def _read_text(path: Path, parser: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
    if not path.is_file():
        raise input_error(path, "no such parameter file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise input_error(path, f"cannot read parameter file ({exc})") from None
    return parser(text, str(path))


# ---------------------------------------------------------------------- ASDF reading
def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


class _TagTolerantLoader:
    """A YAML SafeLoader that reads any ASDF tag as the plain node underneath."""

    @staticmethod
    def loader() -> type:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
            if isinstance(node, yaml.MappingNode):
                return loader.construct_mapping(node, deep=True)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node, deep=True)
            return loader.construct_scalar(node)

        Loader.add_multi_constructor("", plain)
        return Loader


def _asdf_tree(path: Path) -> dict[str, Any]:
    """The YAML tree of an ASDF file without loading asdf's extensions (seconds each run).

    Parameter files are pure YAML; a file with binary blocks falls back to the asdf library.
    """
    import yaml

    text = path.read_bytes()
    start = text.find(b"\n---")
    end = text.find(b"\n...", start)
    if start >= 0 and end > start and b"\n--- BLOCK" not in text and b"\xd3BLK" not in text:
        try:
            tree = yaml.load(text[start + 1:end + 1], Loader=_TagTolerantLoader.loader())
            if isinstance(tree, dict):
                return tree
        except yaml.YAMLError:
            pass
    import asdf

    with asdf.open(path, lazy_load=False, memmap=False) as af:
        return {k: v for k, v in af.tree.items()}


def read_asdf(path: str | os.PathLike) -> ParamFile:
    """Read an ASDF parameter file (official layout; also CRDS ``pars-*`` references)."""
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "no such parameter file")
    try:
        tree = _asdf_tree(path)
    except (OSError, ValueError) as exc:
        raise input_error(path, f"not a readable ASDF parameter file ({exc})") from None
    tree = _plain({k: v for k, v in tree.items()
                   if k in ("class", "name", "parameters", "steps")})
    params = tree.get("parameters") or {}
    if not isinstance(params, dict):
        raise ParameterError(f"{path}: 'parameters' must be a mapping")
    steps: dict[str, dict[str, Any]] = {}
    for item in tree.get("steps") or []:
        if not isinstance(item, dict) or "name" not in item:
            raise ParameterError(f"{path}: each entry of 'steps' needs a name and parameters")
        steps[item["name"]] = dict(item.get("parameters") or {})
    return ParamFile(tree.get("class"), tree.get("name"), dict(params), steps, path)


def read_parameter_file(path: str | os.PathLike) -> ParamFile:
    """Read a ``.asdf`` or ``.cfg`` parameter file (chosen by content, then extension)."""
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "no such parameter file")
    with path.open("rb") as fh:
        head = fh.read(5)
    if head == b"#ASDF" or path.suffix.lower() == ".asdf":
        return read_asdf(path)
    return read_cfg(path)


# ---------------------------------------------------------------------- writing
def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _asdf_params(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}


def step_tree(step: Step | type[Step], params: Mapping[str, Any] | None = None) -> dict:
    """The official ASDF tree of a step/pipeline (instance: current values; class: defaults)."""
    from .pipeline import Pipeline

    cls = step if isinstance(step, type) else type(step)
    if params is None:
        params = step.get_parameters() if not isinstance(step, type) else _defaults(cls)
    params = dict(params)
    steps = params.pop("steps", None)
    tree: dict[str, Any] = {
        "class": cls.official_class(),
        "name": cls.__name__,
        "meta": {
            "author": "<SPECIFY>",
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "description": f"Parameters for calibration step {cls.official_class()}",
            "instrument": {"name": "<SPECIFY>"},
            "origin": "<SPECIFY>",
            "pedigree": "<SPECIFY>",
            "reftype": "<SPECIFY>",
            "telescope": "<SPECIFY>",
            "useafter": "<SPECIFY>",
        },
        "parameters": _asdf_params(params),
    }
    if issubclass(cls, Pipeline):
        steps = steps or {}
        tree["steps"] = [
            {"class": scls.official_class(), "name": sname,
             "parameters": _asdf_params(steps.get(sname, _defaults(scls)))}
            for sname, scls in cls.step_defs.items()]
    return tree


def _defaults(cls: type[Step]) -> dict[str, Any]:
    from .pipeline import Pipeline

    out = {k: p.default for k, p in cls.full_spec().items()}
    if issubclass(cls, Pipeline):
        out["steps"] = {n: _defaults(s) for n, s in cls.step_defs.items()}
    return out


def write_asdf(path: str | os.PathLike, step: Step | type[Step]) -> Path:
    """Write the step's parameters as an official-layout ASDF parameter file (atomically)."""
    import asdf

    path = Path(path)
    tree = step_tree(step)
    _atomic_write(path, lambda tmp: asdf.AsdfFile(tree).write_to(tmp))
    return path


def _cfg_text_value(value: Any) -> str:
    if isinstance(value, str):
        quote = "'" if '"' in value else '"'
        return f"{quote}{value}{quote}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        text = ", ".join(_cfg_text_value(v) for v in value)
        return text if len(value) > 1 else text + ","
    return format_value(value)


def _cfg_lines(cls: type[Step], values: Mapping[str, Any], indent: str) -> list[str]:
    spec = cls.full_spec()
    lines = []
    for key, value in values.items():
        if key == "steps":
            continue
        doc = spec[key].doc if key in spec else ""
        line = f"{indent}{key} = {_cfg_text_value(value)}"
        lines.append(f"{line}  # {doc}" if doc else line)
    return lines


def cfg_text(step: Step | type[Step]) -> str:
    """Legacy ``.cfg`` text of a step/pipeline with every parameter and its doc."""
    from .pipeline import Pipeline

    cls = step if isinstance(step, type) else type(step)
    values = _defaults(cls) if isinstance(step, type) else step.get_parameters()
    lines = [f'name = "{cls.alias()}"', f'class = "{cls.official_class()}"']
    lines += _cfg_lines(cls, values, "")
    if issubclass(cls, Pipeline):
        lines.append("")
        lines.append("    [steps]")
        for sname, scls in cls.step_defs.items():
            lines.append(f"      [[{sname}]]")
            lines += _cfg_lines(scls, values.get("steps", {}).get(sname, _defaults(scls)),
                                "        ")
    return "\n".join(lines) + "\n"


def write_cfg(path: str | os.PathLike, step: Step | type[Step]) -> Path:
    """Write a legacy ``.cfg`` parameter file (atomically)."""
    path = Path(path)
    text = cfg_text(step)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path


def write_parameter_file(path: str | os.PathLike, step: Step | type[Step]) -> Path:
    """Write ``.cfg`` when the name ends so, otherwise ASDF."""
    if str(path).lower().endswith(".cfg"):
        return write_cfg(path, step)
    return write_asdf(path, step)
