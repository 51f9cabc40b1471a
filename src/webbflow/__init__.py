"""webbflow: the JWST Science Calibration Pipeline over a numba core."""

__version__ = "0.1.0"
