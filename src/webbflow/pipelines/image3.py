"""Image3Pipeline (``calwebb_image3``): combine calibrated images of one filter into a mosaic.

Input: a Level-3 association (``asn.json``; its first product) or a list of ``cal`` files /
image models. Steps, in the official order: assign_mtwcs (when webbflow has it), tweakreg,
skymatch, outlier_detection, resample, source_catalog. Products (``save_results``, as
officially): ``<root>_crf.fits`` per exposure, ``<product>_i2d.fits``,
``<product>_cat.ecsv`` and ``<product>_segm.fits``.

Checked up front, each a one-line InputError: an association without science members, a
member that does not exist, members of different FILTER/PUPIL in one product, members without
a WCS (no ASDF extension / ``meta.wcs``: assign_wcs was not run).

Data flow: the exposures travel from step to step as :class:`~webbflow.align.exposure.Exposure`
records (metadata with the WCS object, and where the pixels are), never re-serialised.
assign_mtwcs reads headers only (a fixed target costs nothing); tweakreg detects sources one
exposure at a time and keeps catalogs and WCSs; skymatch reads each exposure once; outlier
detection drizzles each exposure alone onto the common grid, medians the stack by row blocks,
blots and flags each exposure and writes its ``crf`` once; resample reads the ``crf`` files
one at a time (arrays only: the WCS objects the records hold are reused). With
``in_memory=False`` only one exposure's pixels are in memory at a time
(read afresh from its file by each step; the resampled stack is a raw file in a temporary
work directory in ``output_dir``, removed at the end; without ``save_results`` the ``crf``
files go there too), so the peak memory does not grow with the number of exposures.
``in_memory=True`` (default, as officially) keeps the models in memory.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from .. import __version__
from ..align.exposure import Exposure
from ..datamodels import DataModel
from ..errors import input_error
from ..resample.pixmap_store import PixmapStore
from ..steps.outlier_detection import OutlierDetectionStep
from ..steps.resample import ResampleStep
from ..steps.source_catalog import SourceCatalogStep
from ..stpipe import naming
from ..stpipe.params import Param
from ..stpipe.pipeline import Pipeline
from ..stpipe.step import Step

__all__ = ["Image3Pipeline", "read_level3_association"]


def _optional(module: str, name: str) -> type[Step] | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


_STEPS: dict[str, type[Step] | None] = {
    "assign_mtwcs": _optional("webbflow.steps.assign_mtwcs", "AssignMTWcsStep"),
    "tweakreg": _optional("webbflow.steps.tweakreg", "TweakRegStep"),
    "skymatch": _optional("webbflow.steps.skymatch", "SkyMatchStep"),
    "outlier_detection": OutlierDetectionStep,
    "resample": ResampleStep,
    "source_catalog": SourceCatalogStep,
}


class Members(list):
    """Member paths (or models) of one Level-3 product, with the product name."""

    product: str = ""


def read_level3_association(path: Path) -> Members:
    """Science members of the first product of a Level-3 ``asn.json`` (paths checked)."""
    try:
        asn = json.loads(Path(path).read_text())
        product = asn["products"][0]
        members = [m["expname"] for m in product.get("members", [])
                   if str(m.get("exptype", "science")).lower() == "science"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise input_error(path, f"not a readable association ({exc})") from None
    if not members:
        raise input_error(path, "the association has no science members")
    out = Members(m if os.path.isabs(m) else str(Path(path).parent / m) for m in members)
    out.product = str(product.get("name") or Path(path).stem.removesuffix("_asn"))
    return out


def _header_facts(item: Any) -> tuple[str, str, bool]:
    """(FILTER, PUPIL, has WCS) of a member, from the headers only for paths."""
    if isinstance(item, DataModel):
        m = item.meta
        return (str(m.instrument.filter), str(m.instrument.pupil), m.wcs is not None)
    from astropy.io import fits

    path = Path(item)
    if not path.is_file():
        raise input_error(path, "association member not found")
    try:
        with fits.open(path, memmap=True) as hdul:
            head = hdul[0].header
            has_wcs = "ASDF" in [h.name.upper() for h in hdul]
            return str(head.get("FILTER")), str(head.get("PUPIL")), has_wcs
    except OSError as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None


class Image3Pipeline(Pipeline):
    """Stage-3 imaging: align, match sky, flag outliers, drizzle, catalog."""

    class_alias = "calwebb_image3"
    default_suffix = "i2d"
    step_defs: ClassVar[dict[str, type[Step]]] = {
        k: v for k, v in _STEPS.items() if v is not None}
    spec = {"in_memory": Param("boolean", True, "Keep the exposures in memory (False: "
                               "outlier detection streams them from disk)")}

    @classmethod
    def open_input(cls, path: Path) -> Any:
        if path.suffix.lower() == ".json":
            return read_level3_association(path)
        return super().open_input(path)

    def process(self, input: Any) -> Any:
        members = input if isinstance(input, Members) else Members(
            input if isinstance(input, list | tuple) else [input])
        if not members:
            raise input_error("<input>", "the association has no science members")
        self._check_members(members)
        product = members.product or self._default_product(members)
        self.product_name = product
        self._input_name = f"{product}.fits"
        od = self.outlier_detection
        od.in_memory = self.in_memory
        if self._output_dir():
            Path(self._output_dir()).mkdir(parents=True, exist_ok=True)
        work = None if self.in_memory else tempfile.mkdtemp(prefix="webbflow_image3_",
                                                            dir=self._output_dir())
        saved_dir = od.params.get("output_dir")
        # each exposure's map onto the common grid: computed once (outlier_detection's
        # drizzle), reused by its blot and by resample (kept in files: memory stays flat)
        store = PixmapStore(in_memory=False, directory=work or self._output_dir())
        od.pixmap_store = self.resample.pixmap_store = store
        try:
            exposures = [Exposure.from_item(m, self.in_memory) for m in members]
            for name in ("assign_mtwcs", "tweakreg", "skymatch"):
                self._run_on(name, exposures)
            if work is not None and not (self.save_results or od.save_results):
                od.params["output_dir"] = work  # crf files are intermediate only
            self._run_on("outlier_detection", exposures)
            od.params["output_dir"] = saved_dir
            if self.save_results and not od.save_results:
                od._save_result(exposures)
            if work is not None:
                for e in exposures:  # changes not yet in a file (outlier_detection skipped)
                    if e.data_offset or od.skip or od._status == "SKIPPED":
                        e.save(naming.product_name(e.name, "image3", ".fits", work))
            # records: resample reads only their arrays (their WCS objects are reused)
            items = [e.open() if e.in_memory else e for e in exposures]
            del exposures
            return self._combine(items, product)
        finally:
            od.params["output_dir"] = saved_dir
            od.pixmap_store = self.resample.pixmap_store = None
            store.close()
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)

    def _run_on(self, name: str, exposures: list[Exposure]) -> None:
        """Run step ``name`` on the exposures (changed in place) and record its status."""
        step = self.steps.get(name)
        if step is None:
            return
        step._run(exposures, owned=True)
        key = step.status_key()
        for e in exposures:
            if key is not None:
                e.meta.set(f"cal_step.{key}", step._status or "COMPLETE")
            e.meta.calibration_software_version = f"webbflow-{__version__}"

    def _combine(self, items: list[Any], product: str) -> Any:
        mosaic = self.resample._run(items, owned=True)
        del items
        mosaic.meta.filename = f"{product}_i2d.fits"
        self.source_catalog._input_name = mosaic.meta.filename
        if self.save_results and not self.source_catalog.save_results:
            self.source_catalog.save_results = True
        self.source_catalog._run(mosaic, owned=True)
        return mosaic

    def _check_members(self, members: list[Any]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for item in members:
            name = item.meta.filename if isinstance(item, DataModel) else str(item)
            filt, pupil, has_wcs = _header_facts(item)
            if not has_wcs:
                raise input_error(name, "no WCS: run assign_wcs (calwebb_image2) first")
            seen.setdefault((filt, pupil), name)
        if len(seen) > 1:
            combos = ", ".join(f"{f}/{p}" for f, p in seen)
            raise input_error(members.product or "<input>",
                              f"members of one product have different filters ({combos})")

    @staticmethod
    def _default_product(members: list[Any]) -> str:
        first = members[0]
        name = first.meta.filename if isinstance(first, DataModel) else Path(first).name
        from ..stpipe import naming

        return naming.remove_suffix(naming.split_name(name or "image3")[0])
