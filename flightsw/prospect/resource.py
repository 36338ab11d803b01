"""Resource indices and the per-site resource map.

Indices (per spectrum, from standard reflectance):

- hydration index: the OH_27 band depth (and its sigma);
- metal index: albedo times the relative continuum slope between SLOPE_BLUE_UM and
  SLOPE_RED_UM, R(0.55) * (R(2.30) - R(0.55)) / (R(0.55) * 1.75 um), which is
  (R(2.30) - R(0.55)) / 1.75 um; R averaged over +-SLOPE_WINDOW_UM.

ResourceMap accumulates, per site, inverse-variance weighted means of any
number of quantities.  Its sigma never falls below the between-spectrum scatter
over sqrt(n): max(formal sigma, scatter / sqrt(n)), so a site seen many times
with inconsistent values is not reported as precisely known.
"""

from __future__ import annotations

import numpy as np

from flightsw.prospect.band_catalogue import (
    BAND_INDEX,
    SLOPE_BLUE_UM,
    SLOPE_RED_UM,
    SLOPE_WINDOW_UM,
)


def metal_index(wavelength_um, reflectance, sigma):
    """Metal index and its sigma for (N, C) reflectance: two (N,) arrays."""
    wl = np.asarray(wavelength_um, dtype=float)
    refl = np.asarray(reflectance, dtype=float)
    sig = np.asarray(sigma, dtype=float)

    def window(at):
        idx = np.flatnonzero(np.abs(wl - at) <= SLOPE_WINDOW_UM)
        if idx.size == 0:
            idx = np.array([int(np.argmin(np.abs(wl - at)))])
        r = refl[:, idx].mean(axis=1)
        v = (sig[:, idx] ** 2).sum(axis=1) / idx.size ** 2
        return r, v

    r_b, v_b = window(SLOPE_BLUE_UM)
    r_r, v_r = window(SLOPE_RED_UM)
    span = SLOPE_RED_UM - SLOPE_BLUE_UM
    return (r_r - r_b) / span, np.sqrt(v_b + v_r) / span


def hydration_index(bands_out: dict):
    """Hydration index (OH_27 depth) and sigma from analyse_bands' output."""
    k = bands_out["names"].index("OH_27") if "names" in bands_out else BAND_INDEX["OH_27"]
    return bands_out["depth"][:, k], bands_out["depth_sigma"][:, k]


class ResourceMap:
    """Per-site inverse-variance weighted means of Q quantities (default 1)."""

    def __init__(self, n_sites: int, n_quantities: int = 1):
        if n_sites < 1 or n_quantities < 1:
            raise ValueError("ResourceMap: n_sites and n_quantities must be >= 1")
        self.n_sites = int(n_sites)
        self.n_quantities = int(n_quantities)
        shape = (self.n_sites, self.n_quantities)
        self._sw = np.zeros(shape)  # sum of weights
        self._swx = np.zeros(shape)  # sum of w*x
        self._swxx = np.zeros(shape)  # sum of w*x^2
        self._n = np.zeros(shape, dtype=np.int64)

    def add(self, site_ids, values, sigmas) -> int:
        """Add spectra: site_ids (N,), values and sigmas (N,) or (N, Q).

        Entries with a site outside [0, n_sites), a non-finite value or a sigma that is
        not finite and positive are skipped (per quantity).  Returns how many rows
        contributed at least one quantity.
        """
        sites = np.asarray(site_ids).reshape(-1)
        vals = np.asarray(values, dtype=float).reshape(sites.size, -1)
        sigs = np.asarray(sigmas, dtype=float).reshape(sites.size, -1)
        if vals.shape[1] != self.n_quantities or sigs.shape != vals.shape:
            raise ValueError(f"ResourceMap.add: expected values/sigmas of shape "
                             f"({sites.size}, {self.n_quantities}), got {vals.shape}, {sigs.shape}")
        site_ok = (sites >= 0) & (sites < self.n_sites)
        ok = site_ok[:, None] & np.isfinite(vals) & np.isfinite(sigs) & (sigs > 0)
        rows = np.flatnonzero(ok.any(axis=1))
        if rows.size == 0:
            return 0
        s = sites[rows].astype(np.int64)
        okr = ok[rows]
        w = np.where(okr, 1.0 / np.where(okr, sigs[rows], 1.0) ** 2, 0.0)
        x = np.where(okr, vals[rows], 0.0)
        for q in range(self.n_quantities):
            self._sw[:, q] += np.bincount(s, w[:, q], self.n_sites)
            self._swx[:, q] += np.bincount(s, w[:, q] * x[:, q], self.n_sites)
            self._swxx[:, q] += np.bincount(s, w[:, q] * x[:, q] ** 2, self.n_sites)
            self._n[:, q] += np.bincount(s, okr[:, q], self.n_sites).astype(np.int64)
        return int(rows.size)

    def _squeeze(self, a):
        return a[:, 0] if self.n_quantities == 1 else a

    @property
    def n_spectra(self) -> np.ndarray:
        return self._squeeze(self._n.copy())

    @property
    def value(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(self._n > 0, self._swx / self._sw, np.nan)
        return self._squeeze(v)

    @property
    def sigma(self) -> np.ndarray:
        """max(formal 1/sqrt(sum w), weighted scatter / sqrt(n)); NaN where unobserved."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self._swx / self._sw
            formal = 1.0 / np.sqrt(self._sw)
            var = np.maximum(self._swxx / self._sw - mean ** 2, 0.0)  # weighted scatter
            n = np.maximum(self._n, 1)
            # Unbiased-ish scatter: n/(n-1) correction; one spectrum has no scatter.
            scatter = np.where(self._n > 1, np.sqrt(var * n / np.maximum(n - 1, 1)), 0.0)
            s = np.where(self._n > 0, np.maximum(formal, scatter / np.sqrt(n)), np.nan)
        return self._squeeze(s)
