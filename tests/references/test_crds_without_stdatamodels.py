"""Reference selection works where the official datamodels are not installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ref_helpers import science


def test_get_reference_without_stdatamodels(crds_cache, tmp_path):
    path = tmp_path / "x_uncal.fits"
    science().save(path)
    script = textwrap.dedent(f"""
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "stdatamodels" or name.startswith("stdatamodels."):
                    raise ImportError("blocked for this test: " + name)
                return None

        sys.meta_path.insert(0, Block())
        from webbflow import datamodels, references
        references.configure(context="jwst_9001.pmap", crds_path={str(crds_cache)!r})
        print(references.get_reference(datamodels.open({str(path)!r}), "gain"))
        assert not any(m.startswith("stdatamodels") for m in sys.modules), "placeholder left"
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("test_gain_v1.fits")
