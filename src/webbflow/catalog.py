"""The catalog of every official step and pipeline, and where webbflow implements each.

One row per step or pipeline: its alias (``dq_init``, ``calwebb_detector1``), the official
package, module and class (giving ``jwst.dq_init.DQInitStep`` and
``jwst.dq_init.dq_init_step.DQInitStep``), and our implementation ``module:Class``. The legacy
``.cfg`` name is ``<alias>.cfg`` plus the deprecated configuration names of the official
documentation. :func:`resolve` turns any of these names into the class, importing lazily, so a
catalogued step whose module is not written yet gives a clear one-line error.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from . import __version__
from .errors import ParameterError

if TYPE_CHECKING:
    from .stpipe.step import Step

# kind | alias | official package | official module | class | webbflow module
# (webbflow module: steps are webbflow.steps.<alias>, pipelines webbflow.pipelines.<name>)
_TABLE = """
step      group_scale          group_scale       group_scale_step          GroupScaleStep
step      dq_init              dq_init           dq_init_step              DQInitStep
step      emicorr              emicorr           emicorr_step              EmiCorrStep
step      saturation           saturation        saturation_step           SaturationStep
step      ipc                  ipc               ipc_step                  IPCStep
step      superbias            superbias         superbias_step            SuperBiasStep
step      refpix               refpix            refpix_step               RefPixStep
step      firstframe           firstframe        firstframe_step           FirstFrameStep
step      lastframe            lastframe         lastframe_step            LastFrameStep
step      reset                reset             reset_step                ResetStep
step      linearity            linearity         linearity_step            LinearityStep
step      rscd                 rscd              rscd_step                 RscdStep
step      dark_current         dark_current      dark_current_step         DarkCurrentStep
step      charge_migration     charge_migration  charge_migration_step     ChargeMigrationStep
step      jump                 jump              jump_step                 JumpStep
step      picture_frame        picture_frame     picture_frame_step        PictureFrameStep
step      clean_flicker_noise  clean_flicker_noise clean_flicker_noise_step CleanFlickerNoiseStep
step      persistence          persistence       persistence_step          PersistenceStep
step      ramp_fit             ramp_fitting      ramp_fit_step             RampFitStep
step      gain_scale           gain_scale        gain_scale_step           GainScaleStep
step      guider_cds           guider_cds        guider_cds_step           GuiderCdsStep
step      bkg_subtract         background        background_step           BackgroundStep
step      assign_wcs           assign_wcs        assign_wcs_step           AssignWcsStep
step      flat_field           flatfield         flat_field_step           FlatFieldStep
step      photom               photom            photom_step               PhotomStep
step      resample             resample          resample_step             ResampleStep
step      resample_spec        resample          resample_spec_step        ResampleSpecStep
step      badpix_selfcal       badpix_selfcal    badpix_selfcal_step       BadpixSelfcalStep
step      msa_flagging         msaflagopen       msaflagopen_step          MSAFlagOpenStep
step      nsclean              nsclean           nsclean_step              NSCleanStep
step      imprint              imprint           imprint_step              ImprintStep
step      extract_2d           extract_2d        extract_2d_step           Extract2dStep
step      srctype              srctype           srctype_step              SourceTypeStep
step      master_background    master_background master_background_step    MasterBackgroundStep
step      master_background_mos master_background master_background_mos_step MasterBackgroundMosStep
step      wavecorr             wavecorr          wavecorr_step             WavecorrStep
step      straylight           straylight        straylight_step           StraylightStep
step      fringe               fringe            fringe_step               FringeStep
step      residual_fringe      residual_fringe   residual_fringe_step      ResidualFringeStep
step      pathloss             pathloss          pathloss_step             PathLossStep
step      barshadow            barshadow         barshadow_step            BarShadowStep
step      wfss_contam          wfss_contam       wfss_contam_step          WfssContamStep
step      pixel_replace        pixel_replace     pixel_replace_step        PixelReplaceStep
step      cube_build           cube_build        cube_build_step           CubeBuildStep
step      extract_1d           extract_1d        extract_1d_step           Extract1dStep
step      spectral_leak        spectral_leak     spectral_leak_step        SpectralLeakStep
step      assign_mtwcs         assign_mtwcs      assign_mtwcs_step         AssignMTWcsStep
step      tweakreg             tweakreg          tweakreg_step             TweakRegStep
step      skymatch             skymatch          skymatch_step             SkyMatchStep
step      outlier_detection    outlier_detection outlier_detection_step    OutlierDetectionStep
step      source_catalog       source_catalog    source_catalog_step       SourceCatalogStep
step      combine_1d           combine_1d        combine_1d_step           Combine1dStep
step      stack_refs           coron             stack_refs_step           StackRefsStep
step      align_refs           coron             align_refs_step           AlignRefsStep
step      klip                 coron             klip_step                 KlipStep
step      ami_analyze          ami               ami_analyze_step          AmiAnalyzeStep
step      ami_normalize        ami               ami_normalize_step        AmiNormalizeStep
step      tso_photometry       tso_photometry    tso_photometry_step       TSOPhotometryStep
step      white_light          white_light       white_light_step          WhiteLightStep
step      wfs_combine          wfs_combine       wfs_combine_step          WfsCombineStep
pipeline  calwebb_detector1    pipeline          calwebb_detector1         Detector1Pipeline
pipeline  calwebb_dark         pipeline          calwebb_dark              DarkPipeline
pipeline  calwebb_guider       pipeline          calwebb_guider            GuiderPipeline
pipeline  calwebb_image2       pipeline          calwebb_image2            Image2Pipeline
pipeline  calwebb_spec2        pipeline          calwebb_spec2             Spec2Pipeline
pipeline  calwebb_image3       pipeline          calwebb_image3            Image3Pipeline
pipeline  calwebb_spec3        pipeline          calwebb_spec3             Spec3Pipeline
pipeline  calwebb_coron3       pipeline          calwebb_coron3            Coron3Pipeline
pipeline  calwebb_ami3         pipeline          calwebb_ami3              Ami3Pipeline
pipeline  calwebb_tso3         pipeline          calwebb_tso3              Tso3Pipeline
"""

# Extra names of some rows: WfsCombineStep is the stage-3 WFS&C "pipeline"
# (calwebb_wfs-image3); the deprecated configuration files of the official documentation
# name existing pipelines.
_EXTRA_ALIASES = {
    "wfs_combine": ("calwebb_wfs-image3",),
}
_EXTRA_CFGS = {
    "calwebb_detector1": ("calwebb_tso1.cfg",),
    "calwebb_image2": ("calwebb_tso-image2.cfg", "calwebb_wfs-image2.cfg"),
    "calwebb_spec2": ("calwebb_tso-spec2.cfg", "calwebb_nrslamp-spec2.cfg"),
    "wfs_combine": ("calwebb_wfs-image3.cfg",),
}


@dataclass(frozen=True)
class Entry:
    """One catalogued step or pipeline."""

    alias: str
    kind: str  # "step" or "pipeline"
    implementation: str  # "module:Class"
    official: tuple[str, ...] = ()  # official class paths, short first
    aliases: tuple[str, ...] = ()  # further aliases
    cfg_names: tuple[str, ...] = field(default=())

    @property
    def class_name(self) -> str:
        """The class name (``DQInitStep``)."""
        return self.implementation.split(":")[1]

    @property
    def official_class(self) -> str:
        """The official full class path written into parameter files."""
        return self.official[-1] if self.official else self.implementation.replace(":", ".")

    def names(self) -> tuple[str, ...]:
        """Every name that resolves to this entry."""
        impl_dotted = self.implementation.replace(":", ".")
        return (self.alias, *self.aliases, *self.official, *self.cfg_names, self.class_name,
                self.implementation, impl_dotted)


def _build() -> dict[str, Entry]:
    entries = {}
    for line in _TABLE.strip().splitlines():
        kind, alias, package, module, cls = line.split()
        if kind == "step":
            impl = f"webbflow.steps.{alias}:{cls}"
        else:
            impl = f"webbflow.pipelines.{alias.removeprefix('calwebb_')}:{cls}"
        official = (f"jwst.{package}.{cls}", f"jwst.{package}.{module}.{cls}")
        aliases = _EXTRA_ALIASES.get(alias, ())
        cfgs = (f"{alias}.cfg", *_EXTRA_CFGS.get(alias, ()))
        entries[alias] = Entry(alias, kind, impl, official, aliases, cfgs)
    return entries


_ENTRIES: dict[str, Entry] = _build()


def entries() -> tuple[Entry, ...]:
    """All catalogued steps and pipelines, in table order (registered entries last)."""
    return tuple(_ENTRIES.values())


def step_aliases() -> frozenset[str]:
    """Aliases of every catalogued step (they double as output suffixes)."""
    return frozenset(e.alias for e in _ENTRIES.values() if e.kind == "step")


def register(name: str, implementation: str, aliases: tuple[str, ...] | list[str] = (),
             kind: str = "step", official: tuple[str, ...] | list[str] = ()) -> Entry:
    """Add (or replace) a catalog entry, for tests and plugins.

    Parameters
    ----------
    name : str
        The alias (``"add_constant"``).
    implementation : str
        ``"package.module:Class"``.
    aliases, official : sequence of str
        Further names (other aliases, class paths) that resolve to it.
    kind : str
        ``"step"`` or ``"pipeline"``.
    """
    if ":" not in implementation:
        raise ValueError(f"implementation must be 'module:Class', got {implementation!r}")
    entry = Entry(name, kind, implementation, tuple(official), tuple(aliases), (f"{name}.cfg",))
    _ENTRIES[name] = entry
    _name_index.cache_clear()
    return entry


def unregister(name: str) -> None:
    """Remove an entry added by :func:`register` (tests clean up with it)."""
    _ENTRIES.pop(name, None)
    _name_index.cache_clear()


@cache
def _name_index() -> dict[str, Entry]:
    index: dict[str, Entry] = {}
    for entry in _ENTRIES.values():
        for name in entry.names():
            index.setdefault(name, entry)
            index.setdefault(name.lower(), entry)
    return index


def find(name: str) -> Entry | None:
    """The entry a name refers to (alias, class path, class name, cfg name), or None."""
    index = _name_index()
    return index.get(name) or index.get(name.lower())


def entry_for_class(cls: type) -> Entry | None:
    """The entry implemented by ``cls``, or None."""
    impl = f"{cls.__module__}:{cls.__qualname__}"
    for entry in _ENTRIES.values():
        if entry.implementation == impl:
            return entry
    return None


def _import(implementation: str, name: str, kind: str) -> type[Step]:
    module_name, _, class_name = implementation.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            version = ".".join(__version__.split(".")[:2])
            raise ParameterError(
                f"{kind} {name!r} is not implemented in webbflow {version}") from None
        raise
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ParameterError(f"{kind} {name!r}: module {module_name} has no class "
                             f"{class_name}") from None


def is_implemented(entry: Entry) -> bool:
    """True when the entry's module can be imported."""
    try:
        _import(entry.implementation, entry.alias, entry.kind)
    except ParameterError:
        return False
    return True


def resolve(name: str) -> type[Step]:
    """The Step or Pipeline class for any catalogued name or importable class path.

    Accepts an alias (``dq_init``, ``calwebb_detector1``), an official class path
    (``jwst.pipeline.Detector1Pipeline``), a class name, a legacy cfg name (``dq_init.cfg``),
    ``webbflow.<module>.<Class>`` / ``module:Class`` paths.

    Raises
    ------
    ParameterError
        ``"step 'cube_build' is not implemented in webbflow 0.1"`` for a catalogued name whose
        module does not exist yet; ``"unknown step or pipeline 'x' (did you mean ...?)"``.
    """
    from .stpipe.step import Step

    entry = find(name)
    if entry is not None:
        cls = _import(entry.implementation, entry.alias, entry.kind)
    elif ":" in name or ("." in name and not name.endswith((".cfg", ".asdf"))
                         and not name.startswith("jwst.")):
        implementation = name if ":" in name else "{}:{}".format(*name.rsplit(".", 1))
        try:
            cls = _import(implementation, name, "step")
        except (ParameterError, ImportError, ValueError):
            raise _unknown(name) from None
    else:
        raise _unknown(name)
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise ParameterError(f"{name!r} is not a step or pipeline class")
    return cls


def _unknown(name: str) -> ParameterError:
    from .stpipe.params import suggest

    names = [n for e in _ENTRIES.values() for n in (e.alias, *e.aliases, e.class_name,
                                                    *e.official)]
    return ParameterError(f"unknown step or pipeline {name!r}{suggest(name, names)}")
