"""Calibration steps: one module per step, named after the step alias (``dq_init.py``)."""
