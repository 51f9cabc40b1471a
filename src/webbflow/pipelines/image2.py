"""calwebb_image2: rate/rateints -> cal/calints (+ a per-exposure i2d), imaging.

Steps, in the official order: bkg_subtract (only when the association gives ``background``
members), assign_wcs, flat_field, photom, resample (2-D images of the EXP_TYPEs in
:data:`RESAMPLE_EXP_TYPES` only: not rateints, not WFS&C, whose official configuration skips
it). Input: a rate or rateints file or model, or a Level-2 association (``.json``: one product
per exposure, its science member and optional background members; member paths relative to
the association).

Products: ``<root>_cal.fits`` (ImageModel) or ``<root>_calints.fits`` (CubeModel); with
resample ``<root>_i2d.fits``; with ``save_bsub`` (or bkg_subtract's save_results)
``<root>_bsub.fits``/``_bsubints.fits``. ``<root>`` is the product name (association) or the
input's root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..associations.asn import Association, Product, is_association, read_asn
from ..datamodels import CubeModel, DataModel, ImageModel
from ..datamodels import open as open_model
from ..errors import input_error
from ..steps.assign_wcs import AssignWcsStep
from ..steps.bkg_subtract import BackgroundStep
from ..steps.flat_field import FlatFieldStep
from ..steps.photom import PhotomStep
from ..stpipe import naming
from ..stpipe.params import Param
from ..stpipe.pipeline import Pipeline

try:  # the resample step is written alongside; until it lands, a stand-in that skips
    from ..steps.resample import ResampleStep
except ImportError:  # pragma: no cover - depends on the checkout
    from ..steps.unavailable import UnavailableStep

    class ResampleStep(UnavailableStep):  # type: ignore[no-redef]
        """Stand-in for the resample step (not available in this checkout)."""

        class_alias = "resample"
        missing = "resample"

#: EXP_TYPEs whose 2-D cal product is resampled to a per-exposure i2d (official list)
RESAMPLE_EXP_TYPES = ("MIR_IMAGE", "NRC_IMAGE", "NIS_IMAGE", "FGS_IMAGE")

#: steps run on every exposure after the optional background subtraction
CALIBRATION_STEPS = ("assign_wcs", "flat_field", "photom")


class Image2Pipeline(Pipeline):
    """Stage 2 imaging: WCS, flat field, flux calibration, per-exposure resampling.

    ``call`` returns the calibrated model for a single rate/rateints input, and the list of
    calibrated models (one per product) for an association.
    """

    class_alias = "calwebb_image2"
    default_suffix = "cal"
    spec = {
        "save_bsub": Param("boolean", False, "Save the background-subtracted exposure "
                           "(<root>_bsub.fits); deprecated officially in favour of "
                           "bkg_subtract's save_results"),
    }
    step_defs = {
        "bkg_subtract": BackgroundStep,
        "assign_wcs": AssignWcsStep,
        "flat_field": FlatFieldStep,
        "photom": PhotomStep,
        "resample": ResampleStep,
    }

    @classmethod
    def open_input(cls, path: Path) -> Any:
        """An association file is read (members checked); a product is opened."""
        if is_association(path):
            return read_asn(path)
        return open_model(path)

    def process(self, input: Any) -> Any:
        if isinstance(input, Association):
            return [self._run_product(input, product) for product in input.products]
        if not isinstance(input, ImageModel | CubeModel):
            raise input_error(getattr(getattr(input, "meta", None), "filename", None)
                              or "<input>", f"{self.name} needs a rate or rateints product "
                              f"or a Level-2 association, got {type(input).__name__}")
        root = naming.remove_suffix(naming.split_name(self._input_name or "image2.fits")[0])
        return self._calibrate(input, root, [])

    def _run_product(self, asn: Association, product: Product) -> DataModel:
        science = product.by_type("science")
        if not science:
            raise input_error(asn.path or "<association>",
                              f"product {product.name} has no science member")
        if len(science) > 1:
            self.log.warning("Product %s has %d science members; using the first",
                             product.name, len(science))
        model = open_model(asn.resolve(science[0]))
        if not isinstance(model, ImageModel | CubeModel):
            raise input_error(asn.resolve(science[0]), f"{self.name} needs a rate or rateints "
                              f"product, got {type(model).__name__}")
        model.meta.asn.pool_name = asn.asn_pool
        model.meta.asn.table_name = asn.path.name if asn.path else "singleton"
        backgrounds = [str(asn.resolve(m)) for m in product.by_type("background")]
        return self._calibrate(model, product.name, backgrounds)

    def _calibrate(self, model: DataModel, root: str, backgrounds: list[str]) -> DataModel:
        """Run the steps on one exposure (``model`` is owned) and remember its root."""
        self._input_name = f"{root}.fits"
        self.log.info("Processing product %s", root)
        cube = isinstance(model, CubeModel)
        if backgrounds:
            self.bkg_subtract.bkg_list = backgrounds
            self.bkg_subtract.suffix = "bsubints" if cube else "bsub"
            if self.save_bsub:
                self.bkg_subtract.save_results = True
            model = self.run_steps(model, ["bkg_subtract"])
        model = self.run_steps(model, CALIBRATION_STEPS)
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in RESAMPLE_EXP_TYPES and model.data.ndim == 2:
            self.resample.save_results = bool(self.save_results or self.output_file)
            self.resample.suffix = "i2d"
            self.resample.run(model)
        model.meta.filename = naming.product_name(self._input_name,
                                                  "calints" if cube else "cal")
        self._roots = [*getattr(self, "_roots", []), root]
        return model

    def _run(self, model: Any, owned: bool, input_name: str | None = None) -> Any:
        object.__setattr__(self, "_roots", [])
        return super()._run(model, owned, input_name)

    def _save_result(self, result: Any) -> list[str]:
        """Each exposure as ``<root>_cal.fits`` / ``_calints.fits`` (``output_file`` wins
        for a single product)."""
        models = result if isinstance(result, list) else [result]
        paths = []
        for root, model in zip(self._roots, models, strict=True):
            suffix = "calints" if isinstance(model, CubeModel) else "cal"
            if self.output_file and len(models) == 1:
                path = naming.output_file_name(self.output_file, self.output_ext or ".fits",
                                               None, self._output_dir())
            else:
                path = naming.product_name(f"{root}.fits", suffix, self.output_ext or ".fits",
                                           self._output_dir())
            model.save(path)
            paths.append(path)
        return paths
