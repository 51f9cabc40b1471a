"""Which exposures go through which pipeline: the EXP_TYPE table and the exposure manifest."""

from .manifest import (
    MANIFEST_COLUMNS,
    ROOT_PATTERN,
    build_manifest,
    exptype_table,
    pipelines_for,
    read_manifest,
    root_of,
    write_manifest,
)

__all__ = [
    "MANIFEST_COLUMNS",
    "ROOT_PATTERN",
    "build_manifest",
    "exptype_table",
    "pipelines_for",
    "read_manifest",
    "root_of",
    "write_manifest",
]
from .asn import Association, Member, Product, asn_from_list, read_asn, write_asn  # noqa: F401
