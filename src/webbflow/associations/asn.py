"""Association files (``asn.json``) in the official structure: read, validate, write, build.

An association lists products, each with members ``{"expname", "exptype"}``; stage 2 runs one
product per exposure (its ``science`` member, optional ``background`` members), stage 3 one
product over many science members. Member paths are relative to the association file's
directory (absolute paths are kept as they are).

Every problem is a one-line :class:`~webbflow.errors.InputError` naming the association file:
unreadable or invalid JSON, a missing key, an empty association or product, a member file that
does not exist.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ParameterError, input_error

__all__ = ["Association", "Member", "Product", "asn_from_list", "is_association",
           "read_asn", "write_asn"]

#: rule name written by asn_from_list, per level (the official base rules)
RULES = {"Level2": "DMSLevel2bBase", "Level3": "DMS_Level3_Base"}
#: member types the pipelines know
EXPTYPES = ("science", "background", "target_acquisition", "psf", "imprint", "selfcal",
            "sourceimage")
_SUFFIX = re.compile(r"_(uncal|rate|rateints|cal|calints|crf|i2d|bsub|bsubints)$")


@dataclass
class Member:
    """One exposure of a product: ``expname`` (path as written) and ``exptype``."""

    expname: str
    exptype: str = "science"

    def to_dict(self) -> dict[str, str]:
        """``{"expname": ..., "exptype": ...}``."""
        return {"expname": self.expname, "exptype": self.exptype}


@dataclass
class Product:
    """A product: its ``name`` (output root) and ``members``."""

    name: str
    members: list[Member] = field(default_factory=list)

    def by_type(self, exptype: str) -> list[Member]:
        """Members of ``exptype`` (case-insensitive)."""
        return [m for m in self.members if m.exptype.lower() == exptype.lower()]


@dataclass
class Association:
    """An association file's content; ``path`` is where it was read from (or None)."""

    products: list[Product]
    asn_type: str = "None"
    asn_rule: str = RULES["Level3"]
    asn_id: str = "a3001"
    asn_pool: str = "none"
    program: str = "noprogram"
    target: str | None = "none"
    version_id: str | None = None
    code_version: str = f"webbflow-{__version__}"
    degraded_status: str = "No known degraded exposures in association."
    constraints: str = "No constraints"
    path: Path | None = None

    @property
    def directory(self) -> Path:
        """Directory member paths are relative to (the file's, else the current one)."""
        return self.path.parent if self.path is not None else Path(".")

    def resolve(self, member: Member | str) -> Path:
        """The path of a member on disk."""
        name = member.expname if isinstance(member, Member) else member
        return Path(name) if os.path.isabs(name) else self.directory / name

    def member_paths(self, exptype: str = "science", product: int | None = None
                     ) -> list[Path]:
        """Resolved paths of the members of ``exptype`` (one product, or all)."""
        prods = self.products if product is None else [self.products[product]]
        return [self.resolve(m) for p in prods for m in p.by_type(exptype)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON tree, keys in the official order."""
        out = {
            "asn_type": self.asn_type, "asn_rule": self.asn_rule,
            "version_id": self.version_id, "code_version": self.code_version,
            "degraded_status": self.degraded_status, "program": self.program,
            "constraints": self.constraints, "asn_id": self.asn_id, "target": self.target,
            "asn_pool": self.asn_pool,
            "products": [{"name": p.name, "members": [m.to_dict() for m in p.members]}
                         for p in self.products],
        }
        if self.target is None:  # Level-2 associations have no target key
            del out["target"]
        return out

    def to_json(self) -> str:
        """The JSON text (4-space indent, as officially)."""
        return json.dumps(self.to_dict(), indent=4) + "\n"

    def check_members(self) -> None:
        """One-line InputError naming the file when a member does not exist."""
        for prod in self.products:
            for m in prod.members:
                if not self.resolve(m).is_file():
                    raise input_error(self.path or "<association>",
                                      f"member {m.expname} ({m.exptype}) of product "
                                      f"{prod.name}: no such file")


def _fail(path: Path | str, problem: str) -> Exception:
    return input_error(path, f"association: {problem}")


def _parse(tree: Any, path: Path | str) -> Association:
    if not isinstance(tree, dict):
        raise _fail(path, "the top level is not a JSON object")
    prods = tree.get("products")
    if prods is None:
        raise _fail(path, "no 'products' key")
    if not isinstance(prods, list) or not prods:
        raise _fail(path, "empty association (no products)")
    products = []
    for i, prod in enumerate(prods):
        if not isinstance(prod, dict) or not isinstance(prod.get("members"), list):
            raise _fail(path, f"product {i} has no 'members' list")
        if not prod["members"]:
            raise _fail(path, f"product {prod.get('name', i)!s} has no members")
        members = []
        for j, m in enumerate(prod["members"]):
            if not isinstance(m, dict) or not isinstance(m.get("expname"), str):
                raise _fail(path, f"member {j} of product {i} has no 'expname'")
            members.append(Member(m["expname"], str(m.get("exptype", "science")).lower()))
        name = prod.get("name") or _root(members[0].expname)
        products.append(Product(str(name), members))
    known = {k: tree[k] for k in ("asn_type", "asn_rule", "asn_id", "asn_pool", "program",
                                  "target", "version_id", "code_version", "degraded_status",
                                  "constraints") if k in tree}
    for key, value in known.items():
        if key != "version_id" and value is not None:
            known[key] = str(value)
    return Association(products=products, **known)


def read_asn(path: str | os.PathLike, check_members: bool = True) -> Association:
    """Read and validate an ``asn.json`` (members must exist unless ``check_members=False``)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise input_error(path, f"cannot read the association ({exc.strerror or exc})") \
            from None
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") \
            from None
    asn = _parse(tree, path)
    asn.path = path
    if check_members:
        asn.check_members()
    return asn


def write_asn(asn: Association, path: str | os.PathLike) -> Path:
    """Write ``asn`` as JSON (atomically: temporary name, then rename); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(asn.to_json())
    tmp.replace(path)
    asn.path = path
    return path


def is_association(path: str | os.PathLike) -> bool:
    """True for a ``.json`` file name (how the pipelines tell associations from products)."""
    return Path(path).suffix.lower() == ".json"


def _root(expname: str) -> str:
    stem = Path(expname).name
    for ext in (".fits", ".fits.gz"):
        stem = stem.removesuffix(ext)
    return _SUFFIX.sub("", stem)


def asn_from_list(items: list[str | os.PathLike | tuple[str, str]],
                  product_name: str | None = None, rule: str = "Level3",
                  asn_id: str = "a3001", **fields: Any) -> Association:
    """Build an association from a list of files, like the official ``asn_from_list``.

    Parameters
    ----------
    items : list
        File paths, or ``(path, exptype)`` pairs (default exptype ``science``).
    product_name : str, optional
        Level3: the single product's name (required). Level2: ignored, each item becomes a
        product named after its file root (``jw..._nrca1``), as officially.
    rule : {"Level3", "Level2"}
        Level3: one product holding every item; Level2: one product per item.
    asn_id : str
        ``asn_id``.
    **fields
        Other top-level keys (``program``, ``target``, ``asn_pool``, ``asn_type``...).
    """
    if rule not in RULES:
        raise ParameterError(f"asn_from_list: rule {rule!r} is not one of {sorted(RULES)}")
    members = []
    for item in items:
        if isinstance(item, tuple):
            name, exptype = str(item[0]), str(item[1]).lower()
        else:
            name, exptype = os.fspath(item), "science"
        members.append(Member(name, exptype))
    if not members:
        raise ParameterError("asn_from_list: no files given (an association cannot be empty)")
    if rule == "Level3":
        if not product_name:
            raise ParameterError("asn_from_list: a Level3 association needs product_name")
        products = [Product(product_name, members)]
    else:
        products = [Product(_root(m.expname), [m]) for m in members]
        fields.setdefault("target", None)
    asn = Association(products=products, asn_rule=RULES[rule], asn_id=asn_id)
    for key, value in fields.items():
        if not hasattr(asn, key) or key in ("products", "path"):
            raise ParameterError(f"asn_from_list: unknown association key {key!r}")
        setattr(asn, key, value)
    return asn
