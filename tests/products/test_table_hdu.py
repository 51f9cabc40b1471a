"""Table HDUs are written byte for byte as astropy writes them, without astropy.table."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
from astropy.io import fits

from webbflow.datamodels.model import table_hdu


def _bytes(hdu: fits.BinTableHDU) -> bytes:
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    return buffer.getvalue()


def test_table_hdu_equals_astropy_binary_table():
    rows = np.zeros(4, dtype=[("integration_number", ">i4"), ("name", "S8"),
                              ("mjd", ">f8", (2,))])
    rows["integration_number"] = [1, 2, 3, 4]
    rows["name"] = [b"a", b"bb", b"ccc", b""]
    rows["mjd"] = np.arange(8.0).reshape(4, 2) + 60000.5
    header = fits.Header([("ORIGIN", "test")])
    ours = table_hdu(fits.ColDefs(rows), header, "INT_TIMES")
    theirs = fits.BinTableHDU(rows, header=header, name="INT_TIMES")
    assert _bytes(ours) == _bytes(theirs)
    assert ours.data["integration_number"].tolist() == [1, 2, 3, 4]


def test_stage1_product_saved_without_astropy_table_or_asdf(tmp_path):
    """A rate-like product with a table saves (and reads back) without importing
    astropy.table or asdf: 0.1-0.25 s of every stage-1 process."""
    code = f"""
import sys
import numpy as np
from webbflow.datamodels import RampModel
ramp = RampModel(data=np.ones((1, 3, 8, 8), np.float32))
ramp.meta.instrument.name = "NIRCAM"
ramp.meta.exposure.type = "NRC_IMAGE"
ramp.group = np.zeros(2, dtype=[("integration_number", ">i2"), ("group_number", ">i2")])
path = ramp.save({str(tmp_path / "r_ramp.fits")!r})
back = RampModel(path)
assert back.data.shape == (1, 3, 8, 8) and len(back.group) == 2
print(sorted(m for m in ("astropy.table", "asdf") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
