"""The ASDF metadata extension of JWST FITS products, without loading asdf's extensions.

The ``asdf`` library, on its first read or write in a process, imports every installed
extension and resource mapping (asdf-astropy, gwcs, the official datamodels when present...):
seconds of start-up per process, more than stage 1 spends on a subarray. A product's tree is
almost always plain metadata (strings, numbers, booleans, nested mappings), which is ordinary
YAML under the ASDF header. So:

* reading: the tree is only parsed (with ``asdf``) when it holds an ASDF-only entry such as
  ``wcs`` (:func:`holds_asdf_only`); every other value comes from the FITS keywords;
* writing: a plain tree is emitted directly as an ASDF 1.0.0 file (:func:`plain_asdf_bytes`,
  the layout ``asdf`` itself writes for such a tree); anything else (a gwcs object, an array)
  returns None and the caller uses ``asdf``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: a mapping key named exactly like an ASDF-only path (``wcs:``, not ``wcsinfo:``)
_ASDF_ONLY_KEY = re.compile(rb"(?:^|[\s{,])(?:wcs):\s")

_HEADER = (b"#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
           b"--- !core/asdf-1.1.0\n")
_PLAIN = (str, int, float, bool, type(None))


def holds_asdf_only(raw: bytes) -> bool:
    """True when the ASDF file ``raw`` may hold an ASDF-only metadata entry (``wcs``).

    A text scan of the YAML tree: never misses such a key, may rarely answer True for a
    tree without one (the caller then parses it, only slower).
    """
    end = raw.find(b"\n...")
    return _ASDF_ONLY_KEY.search(raw if end < 0 else raw[:end]) is not None


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return not isinstance(value, int) or isinstance(value, bool) or abs(value) < 2**63
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    return False


def plain_asdf_bytes(tree: Mapping[str, Any]) -> bytes | None:
    """The ASDF file of ``tree`` when it is plain YAML data, else None.

    Parameters
    ----------
    tree : mapping
        Top-level tree (``{"meta": {...}}``): str keys; str, int, float, bool, None, lists and
        nested mappings of those as values.

    Returns
    -------
    bytes or None
        ``#ASDF 1.0.0`` header, the YAML document tagged ``core/asdf-1.1.0``, and the ``...``
        end marker; None when some value needs an ASDF converter (use ``asdf``).
    """
    if not _is_plain(tree):
        return None
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(dict(tree), Dumper=dumper, default_flow_style=None, sort_keys=True,
                     allow_unicode=False, width=100, explicit_start=False)
    return _HEADER + body.encode("ascii") + b"...\n"
