"""The simulator's side of prospecting, in one place for the World to hold.

Ground truth (composition, boulders, slopes), the survey instruments (point
spectrometer, flash lidar) switched by the flight software's
PROBE_INSTRUMENT_CMD, the on-board knowledge the ground would uplink (shape
model, local 'down' per facet, landmarks on every facet), and the truth the
summary needs (per-spectrum band truth, which sites are safe and deliverable,
the truth ranking of the chosen site: sim.site_truth, with the scenario's
site requirements).
"""

import numpy as np

from flightsw.config import ProspectConfig
from flightsw.icd import mavlink
from sim.facet_geometry import facet_down_bf, facet_landmarks
from sim.noise import NoiseStream
from sim.relief import BoulderField, FlashLidarModel
from sim.scenario import DEFAULTS
from sim.site import SiteError
from sim.site_truth import SiteRequirements, SiteTruth
from sim.spectral import SpectralObserver, SpectralSurface
from sim.spectrometer import SpectrometerModel, SpectrometerParams

MAX_TRUTH_RECORDS = 200_000
PEAK_ATTEMPTS = 20  # faces tried for the best site before the world gives up
SURFACE_DRAWS = 4  # patch fields tried, PEAK_ATTEMPTS faces each


class ProspectWorld:
    def __init__(self, sc, mesh, gravity_fn, spin_rate_radps: float, sun_dir_i, seed: int,
                 sun_bf_any=None):
        cfg = sc.prospect
        self.cfg = cfg
        self.mesh = mesh
        self.vertices_m, self.faces = mesh.vertices_m, mesh.faces
        self.sun_dir_i = tuple(float(x) for x in sun_dir_i)
        # The Sun in bf at any moment: deliverability needs only its declination.
        self.sun_bf_any = np.asarray(sun_bf_any if sun_bf_any is not None else sun_dir_i,
                                     dtype=float)
        self.down_bf = facet_down_bf(mesh, gravity_fn, spin_rate_radps)
        self.boulders = BoulderField(mesh, seed, cfg.boulder_facet_fraction,
                                     tuple(cfg.boulder_radius_m), tuple(cfg.boulder_height_m))
        home_m = (sc.tag.safe_home_height_m if sc.tag is not None
                  else DEFAULTS["tag.safe_home_height_m"])
        self.site_truth = SiteTruth(mesh, self.down_bf, self.boulders.max_height_m,
                                    SiteRequirements(cfg.site_slope_max_deg,
                                                     cfg.site_relief_max_m,
                                                     cfg.site_lat_max_deg,
                                                     cfg.site_incidence_max_deg, home_m),
                                    self.sun_bf_any)
        self.slope_deg = self.site_truth.slope_deg
        self.safe = self.site_truth.safe
        drawn = self._draw_surface(cfg.composition, seed)
        if drawn is None:
            raise SiteError(
                f"{sc.source}: prospect.composition = {cfg.composition!r} with seed "
                f"{seed}: no site stands out as the best by the required margin in "
                f"{SURFACE_DRAWS} draws of the surface; choose another seed")
        self.surface_draw, self.surface = drawn
        self.observer = SpectralObserver(self.surface, mesh, cfg.sun_distance_au)
        fault = cfg.spectrometer_fault_prob
        self.spectrometer = SpectrometerModel(seed, SpectrometerParams(
            p_drop_chunk=fault, p_saturate=fault, p_zero_channel=fault))
        self.lidar = FlashLidarModel(NoiseStream(seed, "scan-lidar"), mesh, self.boulders,
                                     7, cfg.scan_lidar_fov_rad, cfg.scan_lidar_sigma_m, 5000.0)
        self.lidar_on = False
        self.lidar_period_us = 1_000_000
        self._lidar_next_us = 0
        self.landmarks_bf_m = facet_landmarks(self.vertices_m, self.faces,
                                              cfg.landmark_spacing_m)
        _check_landmark_ids(sc, len(self.landmarks_bf_m), cfg.landmark_spacing_m)
        # spectrum_id -> (band depths (5), centres (5), resource index, lit, abundances (5))
        # of the footprint
        self.spectrum_truth: dict[int, tuple] = {}

    # -- truth -------------------------------------------------------------------------------
    def _draw_surface(self, composition: str, seed: int):
        """(draw, SpectralSurface) whose best site is a safe facet (a mission worth flying
        has one), or None.  Some faces cannot be lifted above their neighbours by the
        required margin (a rich patch next door): another face is tried.  A patch field
        rich in the resource everywhere leaves no face that can stand out (psyche seeds 35
        and 43): the patches are drawn again.  All deterministic in the seed."""
        noise = NoiseStream(seed, "resource-peak")
        for draw in range(SURFACE_DRAWS):
            for _ in range(PEAK_ATTEMPTS):
                try:
                    return draw, SpectralSurface(composition, self.vertices_m, self.faces, seed,
                                                 peak_face=self._pick_peak_face(noise),
                                                 draw=draw)
                except RuntimeError:
                    pass
        return None

    def _pick_peak_face(self, noise: NoiseStream) -> int:
        """A safe, deliverable, low-latitude facet (a mission worth flying has one)."""
        truth = self.site_truth
        lat_max = 0.6 * truth.requirements.lat_max_deg
        pool = truth.eligible
        for ok in (pool & (np.abs(truth.lat_deg) <= lat_max), pool, self.safe):
            ids = np.flatnonzero(ok)
            if ids.size:
                return int(ids[min(ids.size - 1, int(noise.uniform() * ids.size))])
        return 0

    def deliverable_truth(self) -> np.ndarray:
        """Per site: can a descent truly deliver the sampler there (sim.site_truth)."""
        return self.site_truth.deliverable

    def site_truth_rank(self, site_id: int) -> int:
        return self.site_truth.rank(self.surface.resource_truth, site_id)

    # -- what the probe is told before flight ------------------------------------------------
    def prospect_config(self) -> ProspectConfig:
        return ProspectConfig(
            vertices_m=tuple(tuple(float(x) for x in v) for v in self.vertices_m),
            faces=tuple(tuple(int(i) for i in f) for f in self.faces),
            down_bf=tuple(tuple(float(x) for x in d) for d in self.down_bf),
            sun_dir_i=self.sun_dir_i,
            sun_distance_au=float(self.cfg.sun_distance_au))

    # -- instruments -------------------------------------------------------------------------
    def apply_command(self, m) -> None:
        if m.instrument == mavlink.PROBE_INSTRUMENT_SPECTROMETER:
            self.spectrometer.command(bool(m.enable), float(m.rate_hz) if m.rate_hz > 0 else 1.0)
        elif m.instrument == mavlink.PROBE_INSTRUMENT_SCAN_LIDAR:
            self.lidar_on = bool(m.enable)
            if m.rate_hz > 0:
                self.lidar_period_us = round(1e6 / m.rate_hz)

    @property
    def active(self) -> bool:
        """An instrument is switched on (the world skips the geometry otherwise)."""
        return self.spectrometer.enabled or self.lidar_on

    def sensor_messages(self, t_us: int, pos_bf, axes_bf, sun_bf) -> list:
        out = []
        spec = self.spectrometer
        if spec.enabled and spec.due(t_us):
            radiance = None
            truth = None
            if spec.next_kind == mavlink.PROBE_SPECTRUM_KIND_SCIENCE:
                radiance, truth = self.observer.observe(pos_bf, axes_bf[2], sun_bf)
            msgs = spec.readout(t_us, radiance)
            out.extend(msgs)
            if truth is not None and truth.on_body and msgs and \
                    len(self.spectrum_truth) < MAX_TRUTH_RECORDS:
                self.spectrum_truth[msgs[0].spectrum_id] = (
                    tuple(float(x) for x in truth.band_depth),
                    tuple(float(x) for x in truth.band_centre_um),
                    float(truth.resource_index), bool(truth.lit),
                    tuple(float(x) for x in truth.abundances))
        if self.lidar_on and t_us >= self._lidar_next_us:
            self._lidar_next_us = t_us + self.lidar_period_us
            out.append(self.lidar.measure(t_us, pos_bf, axes_bf))
        return out


# NAVCAM carries each landmark's catalogue index in a uint16 (prospector.xml).
MAX_LANDMARK_ID = (1 << 16) - 1


def _check_landmark_ids(sc, count: int, spacing_m: float) -> None:
    """Refuse, before flight, a catalogue the navigation camera's message cannot number."""
    if count <= MAX_LANDMARK_ID + 1:
        return
    needed_m = spacing_m * (count / (MAX_LANDMARK_ID + 1)) ** 0.5
    raise SiteError(
        f"{sc.source}: prospect.landmark_spacing_m = {spacing_m:g} gives {count:,} landmarks "
        f"on this shape; NAVCAM numbers them in 16 bits (at most {MAX_LANDMARK_ID + 1:,}): "
        f"expected a spacing of at least {needed_m:.1f} m")
