"""Thermal-tail removal: fit the surface temperature above ~3 um, subtract eps*B(T).

Near-Earth asteroids at ~350-390 K emit enough above ~2.5 um to swamp the
reflected light (FACTS.md).  Per spectrum the long-wavelength radiance is
modelled as

    L(lambda) = R_cont(lambda) * phot(lambda) * F_sun(lambda)/pi + eps * B(lambda, T)

with R_cont a straight line fitted to the reflectance in CONT_WINDOW_UM
(2.20-2.55 um, short of the 2.7 um OH band) and extrapolated; T is fitted by
weighted Gauss-Newton on the channels at and above FIT_FROM_UM.  Two outer
passes (continuum with the thermal of the previous pass removed, then T).
Emissivity is fixed (default 0.9, dark asteroid regolith): eps and T are nearly
degenerate over 3.0-3.5 um, and the subtracted radiance, not T, is what the
band analysis needs.  Vectorised over N spectra; pure numpy.
"""

from __future__ import annotations

import numpy as np

from flightsw.prospect.solar import PLANCK_C1_WM2_SR, PLANCK_C2_MK, planck_radiance_wm2srum

CONT_WINDOW_UM = (2.20, 2.55)
FIT_FROM_UM = 3.0
EMISSIVITY = 0.9
T_MIN_K, T_MAX_K = 150.0, 700.0
T_START_K = 350.0
OUTER_PASSES = 2
GN_ITERATIONS = 5


def _linfit(x, y, w):
    """Weighted straight-line fit of y (N, k) on x (k,), weights (N, k): (a, b) with y=a+b*x."""
    sw = w.sum(axis=1)
    sx = (w * x).sum(axis=1)
    sxx = (w * x * x).sum(axis=1)
    sy = (w * y).sum(axis=1)
    sxy = (w * x * y).sum(axis=1)
    det = sw * sxx - sx * sx
    det = np.where(det != 0, det, np.nan)
    return (sxx * sy - sx * sxy) / det, (sw * sxy - sx * sy) / det


def brightness_temperature(wavelength_um, radiance, emissivity=EMISSIVITY):
    """Temperature a grey body of `emissivity` needs to emit `radiance` (NaN where <= 0)."""
    lam = np.asarray(wavelength_um, dtype=float) * 1e-6
    rad = np.asarray(radiance, dtype=float) * 1e6 / emissivity  # per metre
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.where(rad > 0, rad, np.nan)
        return PLANCK_C2_MK / (lam * np.log1p(PLANCK_C1_WM2_SR / (lam ** 5 * positive)))


def fit_thermal(wavelength_um, radiance, sigma, refl_to_radiance, emissivity=EMISSIVITY):
    """Fit and return (thermal_radiance (N, C), temp_k (N,)).

    radiance, sigma: (N, C) measured radiance and its sigma; refl_to_radiance: (N, C)
    phot * F_sun / pi, the factor that turns standard reflectance into radiance.
    temp_k is NaN where the fit failed (non-finite input); thermal is then NaN too.
    """
    wl = np.asarray(wavelength_um, dtype=float)
    L = np.asarray(radiance, dtype=float)
    n = L.shape[0]
    ci = np.flatnonzero((wl >= CONT_WINDOW_UM[0]) & (wl <= CONT_WINDOW_UM[1]))
    fi = np.flatnonzero(wl >= FIT_FROM_UM)
    if ci.size < 2 or fi.size < 1:
        return np.zeros_like(L), np.full(n, np.nan)
    xc, xf = wl[ci], wl[fi]
    wc = 1.0 / (sigma[:, ci] / refl_to_radiance[:, ci]) ** 2
    wf = 1.0 / sigma[:, fi] ** 2
    bf = refl_to_radiance[:, fi]
    # Start from the brightness temperature of the longest channels.
    tb = brightness_temperature(xf[-3:], L[:, fi[-3:]], emissivity)
    temp = np.nan_to_num(np.nanmedian(tb, axis=1) if tb.shape[1] else np.full(n, T_START_K),
                         nan=T_START_K)
    temp = np.clip(temp, T_MIN_K, T_MAX_K)
    lam_f = xf * 1e-6
    for _ in range(OUTER_PASSES):
        therm_c = emissivity * planck_radiance_wm2srum(xc, temp[:, None])
        a, b = _linfit(xc, (L[:, ci] - therm_c) / refl_to_radiance[:, ci], wc)
        target = L[:, fi] - (a[:, None] + b[:, None] * xf) * bf  # thermal part above 3 um
        for _ in range(GN_ITERATIONS):
            bt = emissivity * planck_radiance_wm2srum(xf, temp[:, None])
            x = PLANCK_C2_MK / (lam_f * temp[:, None])
            with np.errstate(over="ignore", invalid="ignore"):
                dbdt = bt * x / (-np.expm1(-x)) / temp[:, None]
            dbdt = np.nan_to_num(dbdt)
            num = (wf * dbdt * (target - bt)).sum(axis=1)
            den = (wf * dbdt * dbdt).sum(axis=1)
            step = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
            temp = np.clip(temp + np.clip(step, -80.0, 80.0), T_MIN_K, T_MAX_K)
    bad = ~np.all(np.isfinite(L), axis=1) | ~np.isfinite(temp)
    temp = np.where(bad, np.nan, temp)
    thermal = emissivity * planck_radiance_wm2srum(wl, temp[:, None])
    return thermal, temp
