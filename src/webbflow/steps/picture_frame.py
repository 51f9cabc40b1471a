"""picture_frame: NIRSpec picture-frame noise correction (not implemented yet)."""

from __future__ import annotations

from ..stpipe.params import Param
from .unavailable import UnavailableStep


class PictureFrameStep(UnavailableStep):
    """NIRSpec picture-frame noise correction: not implemented in webbflow 0.1 (records SKIPPED)."""

    class_alias = "picture_frame"
    reference_file_types = ("pictureframe",)
    missing = "NIRSpec picture-frame noise correction"
    spec = {"skip": Param("boolean", True, "Skip this step (skipped by default, as "
                          "officially)")}
