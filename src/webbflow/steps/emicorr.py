"""emicorr: remove MIRI electromagnetic interference (EMI) from ramps."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from ..references.models import EmiModel
from ..references.read import read_reference
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import load_reference, ramp_input

#: read patterns the correction applies to
READPATTS = ("FAST", "FASTR1", "SLOW", "SLOWR1")

#: clocks per row and per reset frame of the MIRI subarrays (full frame by readout speed), used
#: for on-the-fly corrections (``onthefly_corr_freq``); the reference has its own copy
SUBARRAY_CLOCKS: dict[str, tuple[int, int]] = {
    "SLITLESSPRISM": (28, 15904), "MASKLYOT": (90, 32400), "SUB64": (28, 8512),
    "SUB128": (44, 11904), "MASK1140": (82, 23968), "MASK1550": (82, 23968),
    "MASK1065": (82, 23968), "FULL_FAST": (271, 277504), "FULL_SLOW": (2333, 2388992),
    "BRIGHTSKY": (162, 86528), "SUB256": (96, 29952),
}

#: one pixel clock, seconds
PIXEL_CLOCK = 10.0e-6


def _subarray_case(ref: EmiModel, subarray: str, readpatt: str, detector: str
                   ) -> tuple[int, int, list[str]] | None:
    """(rowclocks, frameclocks, frequency names) of the reference for this configuration."""
    speed = "SLOW" if "SLOW" in readpatt else "FAST" if "FAST" in readpatt else None
    if speed is None:
        return None
    name = f"{subarray}_{speed}" if "FULL" in subarray else subarray
    case = (ref.subarray_cases or {}).get(name)
    if not isinstance(case, dict):
        return None
    freqs = (case.get("freqs") or {}).get(speed)
    if speed == "SLOW" and isinstance(freqs, dict):
        freqs = freqs.get(detector)
    if not freqs or case.get("rowclocks") is None:
        return None
    return int(case["rowclocks"]), int(case["frameclocks"]), [str(f) for f in freqs]


class EmiCorrStep(Step):
    """Fit and subtract the EMI waveforms of each MIRI readout configuration (FAST/SLOW,
    R1 variants), frequency by frequency, jointly with linear ramps or sequentially."""

    class_alias = "emicorr"
    reference_file_types = ("emicorr",)
    spec = {
        "algorithm": Param("option", "joint", "EMI fitting algorithm",
                           options=("sequential", "joint")),
        "nints_to_phase": Param("integer", None, "Number of integrations to phase "
                                "(sequential)", min=1),
        "nbins": Param("integer", None, "Number of bins in one phased wave (sequential)",
                       min=1),
        "scale_reference": Param("boolean", True, "Scale the reference wave to the data's "
                                 "phase amplitude (sequential)"),
        "onthefly_corr_freq": Param("float_list", None, "Frequencies (Hz) to correct with a "
                                    "waveform built from the data (no reference)"),
        "use_n_cycles": Param("integer", 3, "Use N cycles to calculate the phase; None: all "
                              "integrations (sequential)", min=1),
        "fit_ints_separately": Param("boolean", False, "Fit each integration separately "
                                     "(joint)"),
        "user_supplied_reffile": Param("path", None, "Deprecated; use override_emicorr"),
        "save_intermediate_results": Param("boolean", False, "Save a reference built on the "
                                           "fly (<root>_emi_ref_waves.asdf)"),
        "skip": Param("boolean", True, "Skip this step (the official default)"),
    }

    def process(self, model):
        from ..kernels.emicorr import (  # imported on use: keeps strun's start-up short
            fit_joint,
            subtract_joint,
        )

        ramp = ramp_input(model, self.name)
        meta = ramp.meta
        instrument = str(meta.instrument.name or "").upper()
        if instrument != "MIRI":
            return self.skip_step(ramp, f"EMI correction not implemented for {instrument}")
        readpatt = str(meta.exposure.readpatt or "").upper()
        if readpatt not in READPATTS:
            return self.skip_step(ramp, f"EMI correction not implemented for read pattern "
                                  f"{readpatt}")
        subarray = str(meta.subarray.name or "").upper()
        detector = str(meta.instrument.detector or "").upper()
        ref = None
        if self.onthefly_corr_freq is None:
            if self.user_supplied_reffile is not None:
                msg = "user_supplied_reffile is deprecated; use override_emicorr"
                warnings.warn(msg, DeprecationWarning, stacklevel=2)
                self.log.warning(msg)
                ref = read_reference(self.user_supplied_reffile, "emicorr", ramp)
            else:
                ref = load_reference(self, ramp, "emicorr")
                if ref is None:
                    return self.skip_step(ramp, "no EMICORR reference applies (N/A)")
        ngroups, nx = ramp.shape[1], ramp.shape[3]
        if ngroups < 3:
            return self.skip_step(ramp, f"EMI correction cannot be done with {ngroups} groups")
        if nx % 4:
            return self.skip_step(ramp, f"{nx} columns are not 4 interleaved outputs")
        algorithm = self.algorithm
        if algorithm == "sequential" and ngroups < 10:
            self.log.warning("sequential algorithm with %d groups: joint is recommended for "
                             "fewer than 10", ngroups)
        if algorithm == "joint" and ref is None:
            self.log.warning("the joint algorithm needs an EMICORR reference: using sequential")
            algorithm = "sequential"
        waves: list[np.ndarray | None]
        if ref is not None:
            case = _subarray_case(ref, subarray, readpatt, detector)
            if case is None:
                return self.skip_step(ramp, f"no EMI correction for SUBARRAY={subarray}, "
                                      f"READPATT={readpatt}, DETECTOR={detector}")
            rowclocks, frameclocks, names = case
            freqs, waves = [], []
            for name in names:
                entry = (ref.frequencies or {}).get(name) or {}
                freqs.append(float(entry["frequency"]))
                waves.append(np.asarray(entry["phase_amplitudes"], dtype=np.float64))
        else:
            key = subarray
            if key == "FULL":
                key += "_SLOW" if "SLOW" in readpatt else "_FAST"
            if key not in SUBARRAY_CLOCKS:
                return self.skip_step(ramp, f"no EMI clock table for SUBARRAY={subarray}")
            rowclocks, frameclocks = SUBARRAY_CLOCKS[key]
            freqs = [float(f) for f in self.onthefly_corr_freq]
            names = [repr(f) for f in freqs]
            waves = [None] * len(freqs)
        if not freqs:
            return self.skip_step(ramp, "no EMI frequency to correct")
        r1 = readpatt.endswith("R1")
        nsamples = int(meta.exposure.nsamples or (9 if "SLOW" in readpatt else 1))
        self.log.info("EMI correction (%s) of %s at %s Hz", algorithm, ", ".join(names),
                      ", ".join(f"{f:g}" for f in freqs))
        data = ramp.data
        if algorithm == "joint":
            for freq, wave in zip(freqs, waves, strict=True):
                period = (1.0 / freq) / PIXEL_CLOCK
                phases, amps, dphase = fit_joint(
                    data, ramp.pixeldq, wave, nsamples=nsamples, rowclocks=rowclocks,
                    frameclocks=frameclocks if r1 else 0, period=period,
                    fit_ints_separately=self.fit_ints_separately)
                self.log.info("  %g Hz: amplitude %s, phase %s", freq,
                              np.array2string(amps, precision=4),
                              np.array2string(phases, precision=4))
                subtract_joint(data, wave, phases, amps, dphase, nsamples=nsamples,
                               rowclocks=rowclocks, period=period)
        else:
            pas = self._sequential(data, ramp, freqs, waves, nsamples, rowclocks, frameclocks,
                                   r1)
            if self.save_intermediate_results and ref is None:
                self._save_onthefly(names, freqs, pas, subarray, readpatt, detector,
                                    rowclocks, frameclocks)
        ramp.data = data
        return ramp

    def _sequential(self, data, ramp, freqs, waves, nsamples, rowclocks, frameclocks, r1):
        from ..kernels.emicorr import (
            sequential_correct,  # imported on use: keeps strun's start-up short
        )

        nints, ngroups = data.shape[:2]
        sub = ramp.meta.subarray
        xstart, xsize = int(sub.xstart or 1), int(sub.xsize or data.shape[-1])
        nints_to_phase, use_n_cycles = self.nints_to_phase, self.use_n_cycles
        pas = []
        for freq, wave in zip(freqs, waves, strict=True):
            period = (1.0 / freq) / PIXEL_CLOCK
            # as officially, the value chosen for the first frequency is kept for the others
            if nints_to_phase is None and use_n_cycles is None:
                nints_to_phase = nints
            elif nints_to_phase is None:
                nints_to_phase = math.ceil(use_n_cycles * period / (frameclocks * ngroups))
            elif use_n_cycles == 3:
                nints_to_phase = min(nints_to_phase, nints)
            pas.append(sequential_correct(
                data, wave, nsamples=nsamples, rowclocks=rowclocks, frameclocks=frameclocks,
                period=period, nbins=self.nbins, nints_to_phase=int(nints_to_phase), r1=r1,
                xstart=xstart, xsize=xsize, scale_reference=self.scale_reference))
        return pas

    def _save_onthefly(self, names, freqs, pas, subarray, readpatt, detector, rowclocks,
                       frameclocks) -> None:
        freqs_node = {readpatt: names} if "FAST" in readpatt else {readpatt: {detector: names}}
        out = EmiModel(
            frequencies={n: {"frequency": f, "phase_amplitudes": pa}
                         for n, f, pa in zip(names, freqs, pas, strict=True)},
            subarray_cases={subarray: {"rowclocks": rowclocks, "frameclocks": frameclocks,
                                       "freqs": freqs_node}})
        out.meta.author = "webbflow"
        out.meta.description = "EMI correction file"
        out.meta.pedigree = "GROUND"
        path = Path(self.output_path("emi_ref_waves")).with_suffix(".asdf")
        self.log.info("Saving the on-the-fly EMI reference to %s", path)
        out.save(path)
