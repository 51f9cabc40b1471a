"""The segmentation map product (``<product>_segm.fits``): SCI uint32 labels, 0 = sky."""

from __future__ import annotations

from typing import ClassVar

from .. import datamodels
from ..datamodels import ArraySpec, DataModel


class SegmentationMapModel(DataModel):
    """SCI uint32 [ny, nx]: the label of the source each pixel belongs to (0: none)."""

    model_type = "SegmentationMapModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "uint32", None)}
    required = ("data",)
    ndim = 2


datamodels.register(SegmentationMapModel)
