"""The on-board prospecting pipeline: spectra in, band results, indices and map out.

A batch of N science spectra goes through named stages (STAGES), each a method
the benchmark can time one by one:

    validate    reject reasons (missing frames, NaN/inf, saturated, zero channels,
                bad geometry, no calibration yet); only accepted rows go on
    calibrate   counts -> radiance (+ sigma) with the learned dark and gain
    thermal     fit the surface temperature above 3 um, subtract eps*B(T)
    photometry  radiance -> I/F -> standard reflectance (navigation's geometry)
    bands       continuum + Gaussian core fit of the 5 catalogue bands
    indices     hydration (OH_27 depth) and metal index, final finiteness check
    map         accepted spectra with a site into the ResourceMap

Nothing here reads a clock: `stage_hook(name)`, if given, is called after each
stage so a caller (the benchmark) can time them.  Rejections are counted per
PROBE_REJECT_* code in `rejected` (a Counter).  Nothing raises on bad data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from flightsw.prospect import instrument as ins
from flightsw.prospect.band_catalogue import BANDS
from flightsw.prospect.bands import FLIGHT_METHOD, analyse_bands, plan_bands
from flightsw.prospect.calibrate import CalibrationState, solar_over_pi
from flightsw.prospect.photometry import photometric_factor
from flightsw.prospect.resource import ResourceMap, hydration_index, metal_index
from flightsw.prospect.thermal import EMISSIVITY, fit_thermal

# PROBE_REJECT_REASON (flightsw/icd/prospector.xml)
REJECT_NONE = 0
REJECT_MISSING_FRAMES = 1
REJECT_SATURATED = 2
REJECT_ZERO_CHANNELS = 3
REJECT_NOT_FINITE = 4
REJECT_GEOMETRY = 5
REJECT_NO_CALIBRATION = 6
# PROBE_SPECTRUM_KIND
KIND_SCIENCE, KIND_DARK, KIND_CALIBRATION = 0, 1, 2

MIN_COS = 0.1  # incidence and emission within ~84 deg
NO_SITE = 65535
STAGES = ("validate", "calibrate", "thermal", "photometry", "bands", "indices", "map")


@dataclass
class ProspectResult:
    """Per-spectrum outputs (rows in input order; band columns in BANDS order)."""

    reject_reason: np.ndarray  # (N,) uint8, 0 = entered the map
    depth: np.ndarray  # (N, 5)
    depth_sigma: np.ndarray
    centre_um: np.ndarray
    centre_sigma_um: np.ndarray
    detected: np.ndarray  # (N, 5) bool
    hydration_index: np.ndarray  # (N,)
    hydration_sigma: np.ndarray
    metal_index: np.ndarray
    metal_sigma: np.ndarray
    surface_temp_k: np.ndarray
    reflectance: np.ndarray | None = None  # (N, C) standard reflectance (NaN rows if rejected)
    reflectance_sigma: np.ndarray | None = None  # (N, C) its 1-sigma, same rows

    @property
    def detected_bits(self) -> np.ndarray:
        """PROBE_SPECTRUM_RESULT.detected: bit k set when band k is detected."""
        return pack_detected_bits(self.detected)


def pack_detected_bits(detected) -> np.ndarray:
    """(N, n_bands) bool -> (N,) uint8 with bit k set when band k is detected (the
    `detected` field of PROBE_SPECTRUM_RESULT and PROBE_SITE_BANDS)."""
    d = np.asarray(detected, dtype=np.uint8)
    return (d << np.arange(d.shape[1], dtype=np.uint8)).sum(axis=1).astype(np.uint8)


@dataclass
class Work:
    """What flows between stages (the benchmark may hold one and call stages itself)."""

    counts: np.ndarray  # (N, C) float
    missing: np.ndarray  # (N,) bool
    detector_temp_c: np.ndarray
    integration_s: np.ndarray
    cos_i: np.ndarray
    cos_e: np.ndarray
    phase_deg: np.ndarray
    distance_au: np.ndarray
    geometry_ok: np.ndarray
    site_ids: np.ndarray
    reason: np.ndarray = None
    rows: np.ndarray = None  # indices of the rows still in play
    radiance: np.ndarray = None
    radiance_sigma: np.ndarray = None
    temp_k: np.ndarray = None
    reflectance: np.ndarray = None
    reflectance_sigma: np.ndarray = None
    bands: dict = field(default_factory=dict)
    hyd: tuple = None
    metal: tuple = None
    to_radiance: np.ndarray = None  # (rows, C) phot * F_sun/pi
    ok: np.ndarray = None  # (rows,) survived every stage


def _col(x, n, dtype=float):
    a = np.asarray(x, dtype=dtype).reshape(-1)
    if a.size == 1 and n != 1:
        a = np.full(n, a[0], dtype=dtype)
    if a.size != n:
        raise ValueError(f"per-spectrum input of length {a.size}, expected {n}")
    return a


def coerce_counts(counts, n_channels: int = ins.N_CHANNELS):
    """(N, C) array, or a list of spectra possibly short or None -> float (N, C), missing (N,).

    A list entry shorter than n_channels (frames lost) or None is `missing`; its absent
    channels are NaN.  Anything that cannot be read as numbers is also `missing`.
    """
    if isinstance(counts, np.ndarray) and counts.ndim == 2 and counts.shape[1] == n_channels:
        return counts.astype(float), np.zeros(counts.shape[0], dtype=bool)
    rows = list(counts)
    out = np.full((len(rows), n_channels), np.nan)
    missing = np.zeros(len(rows), dtype=bool)
    for k, r in enumerate(rows):
        try:
            a = np.asarray(r, dtype=float).reshape(-1) if r is not None else None
        except (TypeError, ValueError):
            a = None
        if a is None or a.size != n_channels:
            missing[k] = True
            if a is not None:
                m = min(a.size, n_channels)
                out[k, :m] = a[:m]
        else:
            out[k] = a
    return out, missing


class SpectrumAssembler:
    """Puts PROBE_SPECTRUM_CHUNK payloads back into whole spectra.

    add_chunk(...) returns a finished spectrum as a dict (spectrum_id, kind,
    detector_temp_c, integration_s, counts (C,) float with NaN where a chunk never
    came, complete) when the last chunk arrives or when a chunk of a newer spectrum
    shows the previous one will never complete.  flush() returns the pending one.
    """

    def __init__(self, n_channels: int = ins.N_CHANNELS):
        self.n_channels = n_channels
        self._cur = None

    def _finish(self):
        cur, self._cur = self._cur, None
        if cur is None:
            return None
        cur["complete"] = len(cur.pop("chunks")) == cur.pop("chunk_count") \
            and not np.isnan(cur["counts"]).any()
        return cur

    def add_chunk(self, spectrum_id, kind, first_channel, counts, chunk_index, chunk_count,
                  detector_temp_c, integration_s=ins.INTEGRATION_S, n_counts=None):
        done = None
        if self._cur is not None and self._cur["spectrum_id"] != spectrum_id:
            done = self._finish()
        if self._cur is None:
            self._cur = {"spectrum_id": spectrum_id, "kind": int(kind),
                         "detector_temp_c": float(detector_temp_c),
                         "integration_s": float(integration_s),
                         "counts": np.full(self.n_channels, np.nan), "chunks": set(),
                         "chunk_count": int(chunk_count)}
        vals = np.asarray(counts, dtype=float).reshape(-1)
        if n_counts is not None:
            vals = vals[:int(n_counts)]
        lo = int(first_channel)
        hi = min(lo + vals.size, self.n_channels)
        if 0 <= lo < hi:
            self._cur["counts"][lo:hi] = vals[:hi - lo]
            self._cur["chunks"].add(int(chunk_index))
        if len(self._cur["chunks"]) >= self._cur["chunk_count"]:
            finished = self._finish()
            return finished if done is None else (done, finished)
        return done

    def flush(self):
        return self._finish()


class ProspectPipeline:
    """Batch pipeline with its calibration state, reject counts and resource map.

    Feed DARK and CALIBRATION frames with add_dark / add_calibration as they come
    (or add_frame(kind, ...)); science spectra with process(...).
    """

    def __init__(self, n_sites: int | None = None, wavelength_um=ins.WAVELENGTH_UM,
                 calibration: CalibrationState | None = None, emissivity: float = EMISSIVITY,
                 keep_reflectance: bool = True):
        self.wavelength_um = np.asarray(wavelength_um, dtype=float)
        self.calibration = calibration or CalibrationState(wavelength_um=self.wavelength_um)
        self.emissivity = float(emissivity)
        self.keep_reflectance = keep_reflectance
        self.plans = plan_bands(self.wavelength_um, BANDS, method=FLIGHT_METHOD)
        self.rejected: Counter = Counter()
        self.accepted = 0
        # Quantities in the map: 0 hydration index, 1 metal index.
        self.map = ResourceMap(n_sites, 2) if n_sites else None
        self._sun_pi_1au = solar_over_pi(self.wavelength_um, [1.0])[0]

    # --- calibration frames --------------------------------------------------
    def add_dark(self, counts, detector_temp_c, integration_s=ins.INTEGRATION_S) -> bool:
        return self.calibration.add_dark(counts, detector_temp_c, integration_s)

    def add_calibration(self, counts, detector_temp_c, integration_s=ins.INTEGRATION_S) -> bool:
        return self.calibration.add_calibration(counts, detector_temp_c, integration_s)

    def add_frame(self, kind, counts, detector_temp_c, integration_s=ins.INTEGRATION_S) -> bool:
        """Route a DARK (1) or CALIBRATION (2) frame; returns whether it was used."""
        if kind == KIND_DARK:
            return self.add_dark(counts, detector_temp_c, integration_s)
        if kind == KIND_CALIBRATION:
            return self.add_calibration(counts, detector_temp_c, integration_s)
        return False

    # --- stages ----------------------------------------------------------------
    def prepare(self, counts, detector_temp_c, cos_i, cos_e, phase_deg, distance_au,
                geometry_ok=None, site_ids=None, integration_s=ins.INTEGRATION_S,
                complete=None) -> Work:
        c, missing = coerce_counts(counts, self.wavelength_um.size)
        n = c.shape[0]
        if complete is not None:
            missing |= ~_col(complete, n, bool)
        return Work(
            counts=c, missing=missing, detector_temp_c=_col(detector_temp_c, n),
            integration_s=_col(integration_s, n), cos_i=_col(cos_i, n), cos_e=_col(cos_e, n),
            phase_deg=_col(phase_deg, n), distance_au=_col(distance_au, n),
            geometry_ok=np.ones(n, bool) if geometry_ok is None else _col(geometry_ok, n, bool),
            site_ids=np.full(n, NO_SITE, np.int64) if site_ids is None
            else _col(site_ids, n, np.int64))

    def stage_validate(self, w: Work) -> None:
        n = w.counts.shape[0]
        reason = np.zeros(n, dtype=np.uint8)

        def flag(mask, code):
            new = mask & (reason == 0)
            reason[new] = code

        flag(w.missing, REJECT_MISSING_FRAMES)
        scalars = np.stack((w.detector_temp_c, w.integration_s, w.cos_i, w.cos_e, w.phase_deg,
                            w.distance_au))
        flag(~np.isfinite(w.counts).all(axis=1) | ~np.isfinite(scalars).all(axis=0),
             REJECT_NOT_FINITE)
        flag((w.counts >= ins.FULL_SCALE_DN).any(axis=1), REJECT_SATURATED)
        flag((w.counts <= 0).any(axis=1), REJECT_ZERO_CHANNELS)
        with np.errstate(invalid="ignore"):
            geom = w.geometry_ok & (w.cos_i > MIN_COS) & (w.cos_i <= 1) & (w.cos_e > MIN_COS) \
                & (w.cos_e <= 1) & (w.phase_deg >= 0) & (w.phase_deg <= 180) \
                & (w.distance_au > 0) & (w.integration_s > 0)
        flag(~geom, REJECT_GEOMETRY)
        if not self.calibration.ready:
            flag(np.ones(n, bool), REJECT_NO_CALIBRATION)
        w.reason = reason
        w.rows = np.flatnonzero(reason == 0)

    def stage_calibrate(self, w: Work) -> None:
        r = w.rows
        if r.size == 0:
            w.radiance = w.radiance_sigma = np.zeros((0, self.wavelength_um.size))
            return
        w.radiance, w.radiance_sigma = self.calibration.radiance(
            w.counts[r], w.detector_temp_c[r], w.integration_s[r])

    def _refl_to_radiance(self, w: Work):
        r = w.rows
        phot = photometric_factor(w.cos_i[r], w.cos_e[r], w.phase_deg[r], self.wavelength_um)
        return phot * (self._sun_pi_1au / w.distance_au[r, None] ** 2)

    def stage_thermal(self, w: Work) -> None:
        w.to_radiance = self._refl_to_radiance(w)
        thermal, w.temp_k = fit_thermal(self.wavelength_um, w.radiance, w.radiance_sigma,
                                        w.to_radiance, self.emissivity)
        w.radiance = w.radiance - thermal

    def stage_photometry(self, w: Work) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            w.reflectance = w.radiance / w.to_radiance
            w.reflectance_sigma = w.radiance_sigma / np.abs(w.to_radiance)

    def stage_bands(self, w: Work) -> None:
        w.bands = analyse_bands(self.wavelength_um, w.reflectance, BANDS, w.reflectance_sigma,
                                plans=self.plans, method=FLIGHT_METHOD)

    def stage_indices(self, w: Work) -> None:
        w.hyd = hydration_index(w.bands)
        w.metal = metal_index(self.wavelength_um, w.reflectance, w.reflectance_sigma)
        bad = ~np.isfinite(w.temp_k) | ~np.isfinite(w.hyd[0]) | ~np.isfinite(w.hyd[1]) \
            | ~np.isfinite(w.metal[0]) | ~np.isfinite(w.metal[1]) \
            | ~np.isfinite(w.reflectance).all(axis=1)
        w.reason[w.rows[bad]] = REJECT_NOT_FINITE
        w.ok = ~bad  # within rows

    def stage_map(self, w: Work) -> None:
        codes, counts = np.unique(w.reason[w.reason != 0], return_counts=True)
        for code, k in zip(codes.tolist(), counts.tolist(), strict=True):
            self.rejected[code] += k
        self.accepted += int(w.ok.sum())
        if self.map is not None and w.ok.any():
            good = w.rows[w.ok]
            vals = np.stack((w.hyd[0][w.ok], w.metal[0][w.ok]), axis=1)
            sigs = np.stack((w.hyd[1][w.ok], w.metal[1][w.ok]), axis=1)
            self.map.add(w.site_ids[good], vals, sigs)

    def result(self, w: Work) -> ProspectResult:
        n, nb, c = w.counts.shape[0], len(BANDS), self.wavelength_um.size

        def full(shape, fill=np.nan, dtype=float):
            return np.full(shape, fill, dtype=dtype)

        res = ProspectResult(
            reject_reason=w.reason, depth=full((n, nb)), depth_sigma=full((n, nb)),
            centre_um=full((n, nb)), centre_sigma_um=full((n, nb)),
            detected=np.zeros((n, nb), bool), hydration_index=full(n), hydration_sigma=full(n),
            metal_index=full(n), metal_sigma=full(n), surface_temp_k=full(n),
            reflectance=full((n, c)) if self.keep_reflectance else None,
            reflectance_sigma=full((n, c)) if self.keep_reflectance else None)
        good = w.rows[w.ok]
        ok = w.ok
        for key in ("depth", "depth_sigma", "centre_um", "centre_sigma_um", "detected"):
            getattr(res, key)[good] = w.bands[key][ok]
        res.hydration_index[good], res.hydration_sigma[good] = w.hyd[0][ok], w.hyd[1][ok]
        res.metal_index[good], res.metal_sigma[good] = w.metal[0][ok], w.metal[1][ok]
        res.surface_temp_k[good] = w.temp_k[ok]
        if self.keep_reflectance:
            res.reflectance[good] = w.reflectance[ok]
            res.reflectance_sigma[good] = w.reflectance_sigma[ok]
        return res

    def process(self, counts, detector_temp_c, cos_i, cos_e, phase_deg, distance_au,
                geometry_ok=None, site_ids=None, integration_s=ins.INTEGRATION_S,
                complete=None, stage_hook=None) -> ProspectResult:
        """Run every stage on a batch; never raises on bad data (only on bad shapes)."""
        w = self.prepare(counts, detector_temp_c, cos_i, cos_e, phase_deg, distance_au,
                         geometry_ok, site_ids, integration_s, complete)
        for name in STAGES:
            with np.errstate(all="ignore"):
                getattr(self, "stage_" + name)(w)
            if stage_hook is not None:
                stage_hook(name)
        return self.result(w)
