"""Absorption-band analysis on any wavelength grid: a pure library API.

Two methods (`method=`):

* "fit" (the default; band_fit.py, issue 18): the band fitted together with a curved
  log-continuum over a window wider than the band; detection by the band's
  significance and shape.  It holds on real asteroid spectra (docs/band_analysis.md).
* "chord" (this module; what the flight software flies, FLIGHT_METHOD): band depth after
  Clark & Roush (1984), D = 1 - R_band / R_continuum, with a straight-line continuum
  between the band's two shoulders.  Each shoulder's reflectance is the mean over a small
  window around it (anchored at the mean wavelength of the channels used, so a straight
  continuum is reproduced exactly on any grid).  The continuum-removed core is then
  fitted, by weighted least squares, with

    y(x) = 1 - D * exp(-(x - c)^2 / (2 s^2))

  (Gauss-Newton, a fixed number of iterations, vectorised over spectra; a weak prior
  keeps c and s put when the band is absent).  D and c come from the fit, so noise does
  not bias the depth the way the plain minimum does.  Depth sigma combines the fit
  covariance with the continuum's uncertainty.

    >>> res = analyse_band(wl, refl, BANDS[4])          # one spectrum
    >>> out = analyse_bands(wl, refl_2d)                # (N, C) -> (N, n_bands) arrays

Per-channel sigma may be given; if not, it is estimated from the fit residuals.
NaN channels are ignored; a band that cannot be measured (the grid does not reach its
continuum, too few finite channels are left) comes back NaN, not detected, with a reason,
and the other bands are measured.  Bad arguments raise BandAnalysisError naming the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from flightsw.prospect import band_fit
from flightsw.prospect.band_catalogue import BANDS, Band

SHOULDER_HALF_WIDTH_UM = 0.03
MIN_FIT_CHANNELS = 5
# A free-centre, free-width fit finds the deepest dip the noise offers: at SNR 50 a band
# that is not there (true depth < 0.01) comes out at 0.015-0.03 about one time in five.
# Detection therefore needs 0.02, halfway to the 0.03 of a band that counts as present
# (Bennu survey: precision 0.77 -> 0.95 with recall unchanged at 1.0).
DETECT_THRESHOLD = 0.02
DETECT_K_SIGMA = 3.0
GN_ITERATIONS = 8
METHODS = ("fit", "chord")
DEFAULT_METHOD = "fit"
# What the flight software (pipeline, per-site co-adds) flies.  Issue 18: "fit" holds on
# real spectra, but switching changes what flight computes on the simulator's spectra (the
# golden logs and the prospecting figures must be re-recorded and re-measured first;
# docs/band_analysis.md says what changes).
FLIGHT_METHOD = "chord"
_NOMINAL_SIGMA = 0.01  # fit weight when no sigma is given (then rescaled by residuals)


class BandAnalysisError(ValueError):
    """Band analysis was given arguments it cannot use; the message names the band."""


class BandResult(NamedTuple):
    name: str
    centre_um: float
    centre_sigma_um: float
    depth: float
    depth_sigma: float
    detected: bool
    reason: str = ""  # why the band was not measured ('' when it was)


@dataclass(frozen=True)
class BandPlan:
    """What one band needs from one wavelength grid (channel indices and weights)."""

    band: Band
    left_idx: np.ndarray  # shoulder channels
    left_w: np.ndarray
    right_idx: np.ndarray
    right_w: np.ndarray
    fit_idx: np.ndarray  # core channels that are fitted
    fit_x: np.ndarray
    s0: float  # initial / prior Gaussian width (um)
    s_min: float
    s_max: float


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _check_grid(wavelength_um, name: str) -> np.ndarray:
    wl = np.asarray(wavelength_um, dtype=float)
    if wl.ndim != 1 or wl.size < 2:
        raise BandAnalysisError(f"{name}: wavelength grid must be 1-D with at least 2 channels")
    if not np.all(np.isfinite(wl)):
        raise BandAnalysisError(f"{name}: wavelength grid has non-finite values")
    if not np.all(np.diff(wl) > 0):
        raise BandAnalysisError(f"{name}: wavelengths must be strictly increasing")
    return wl


def _shoulder(wl: np.ndarray, at: float, hw: float):
    """Channel indices and averaging weights for a shoulder at `at`."""
    idx = np.flatnonzero(np.abs(wl - at) <= hw)
    if idx.size:
        return idx, np.full(idx.size, 1.0 / idx.size)
    # Coarse grid: no channel within the window -> interpolate linearly at the shoulder.
    j = int(np.searchsorted(wl, at))
    t = (at - wl[j - 1]) / (wl[j] - wl[j - 1])
    return np.array([j - 1, j]), np.array([1.0 - t, t])


def plan_band(wavelength_um, band: Band, shoulder_half_width_um=SHOULDER_HALF_WIDTH_UM) -> BandPlan:
    """Channel selection of `band` on a grid; raises BandAnalysisError if it cannot be done."""
    wl = _check_grid(wavelength_um, band.name)
    lo, hi = wl[0], wl[-1]
    for side, at in (("right", band.right_shoulder_um), ("left", band.left_shoulder_um)):
        if not lo <= at <= hi:
            raise BandAnalysisError(
                f"{band.name}: wavelength grid {_fmt(lo)}-{_fmt(hi)} um does not cover "
                f"the {side} shoulder at {_fmt(at)} um")
    hw = float(shoulder_half_width_um)
    li, lw = _shoulder(wl, band.left_shoulder_um, hw)
    ri, rw = _shoulder(wl, band.right_shoulder_um, hw)
    s_lo, s_hi = band.search_um
    pad = 0.5 * (s_hi - s_lo)
    f_lo = max(s_lo - pad, band.left_shoulder_um + hw)
    f_hi = min(s_hi + pad, band.right_shoulder_um - hw)
    fit_idx = np.flatnonzero((wl >= f_lo) & (wl <= f_hi))
    if fit_idx.size < MIN_FIT_CHANNELS:
        raise BandAnalysisError(
            f"{band.name}: only {fit_idx.size} channels between {_fmt(f_lo)} and {_fmt(f_hi)} um "
            f"(at least {MIN_FIT_CHANNELS} needed)")
    step = float(np.median(np.diff(wl[fit_idx]))) if fit_idx.size > 1 else 0.01
    dist = min(band.centre_um - band.left_shoulder_um, band.right_shoulder_um - band.centre_um)
    return BandPlan(
        band=band, left_idx=li, left_w=lw, right_idx=ri, right_w=rw,
        fit_idx=fit_idx, fit_x=wl[fit_idx],
        s0=max(0.25 * (s_hi - s_lo), step), s_min=max(0.5 * step, 0.003), s_max=dist,
    )


def _anchor(refl, sig2, wl, idx, w, valid):
    """Masked weighted mean reflectance, its wavelength and variance; shapes (N,)."""
    m = valid[:, idx] * w
    msum = m.sum(axis=1)
    ok = msum > 0
    msum = np.where(ok, msum, 1.0)
    r = np.where(valid[:, idx], refl[:, idx], 0.0)
    val = (r * m).sum(axis=1) / msum
    x = (wl[idx] * m).sum(axis=1) / msum
    var = (np.where(valid[:, idx], sig2[:, idx], 0.0) * m ** 2).sum(axis=1) / msum ** 2
    return np.where(ok, val, np.nan), x, var


def _inv3(a):
    """Batched inverse of symmetric 3x3 matrices (N, 3, 3) by cofactors."""
    a00, a01, a02 = a[:, 0, 0], a[:, 0, 1], a[:, 0, 2]
    a11, a12, a22 = a[:, 1, 1], a[:, 1, 2], a[:, 2, 2]
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    det = a00 * c00 + a01 * c01 + a02 * c02
    det = np.where(np.abs(det) > 1e-300, det, np.nan)
    inv = np.empty_like(a)
    inv[:, 0, 0], inv[:, 0, 1], inv[:, 0, 2] = c00, c01, c02
    inv[:, 1, 0], inv[:, 1, 1], inv[:, 1, 2] = c01, c11, c12
    inv[:, 2, 0], inv[:, 2, 1], inv[:, 2, 2] = c02, c12, c22
    return inv / det[:, None, None]


def _normal(jd, jc, js, w):
    """J^T W J for the three Jacobian columns (N, k): (N, 3, 3)."""
    wd, wc = w * jd, w * jc
    a = np.empty((jd.shape[0], 3, 3))
    a[:, 0, 0] = (wd * jd).sum(1)
    a[:, 0, 1] = a[:, 1, 0] = (wd * jc).sum(1)
    a[:, 0, 2] = a[:, 2, 0] = (wd * js).sum(1)
    a[:, 1, 1] = (wc * jc).sum(1)
    a[:, 1, 2] = a[:, 2, 1] = (wc * js).sum(1)
    a[:, 2, 2] = (w * js * js).sum(1)
    return a


def _analyse_planned(wl, refl, sig, plan: BandPlan, threshold, k_sigma):
    """Vectorised analysis of one planned band over (N, C) reflectance."""
    n = refl.shape[0]
    band = plan.band
    valid = np.isfinite(refl)
    est_sigma = sig is None
    if est_sigma:
        sig2 = np.zeros_like(refl)
    else:
        valid &= np.isfinite(sig) & (sig > 0)
        sig2 = np.where(valid, sig, 1.0) ** 2
    r_l, x_l, v_l = _anchor(refl, sig2, wl, plan.left_idx, plan.left_w, valid)
    r_r, x_r, v_r = _anchor(refl, sig2, wl, plan.right_idx, plan.right_w, valid)

    x = plan.fit_x  # (k,)
    fi = plan.fit_idx
    slope = (r_r - r_l) / (x_r - x_l)
    cont = r_l[:, None] + slope[:, None] * (x[None, :] - x_l[:, None])  # (N, k)
    fvalid = valid[:, fi] & np.isfinite(cont) & (cont > 0)
    cont_safe = np.where(fvalid, cont, 1.0)
    y = np.where(fvalid, refl[:, fi], 1.0) / cont_safe
    if est_sigma:
        w = np.where(fvalid, 1.0 / _NOMINAL_SIGMA ** 2, 0.0)
    else:
        w = np.where(fvalid, cont_safe ** 2 / np.where(fvalid, sig2[:, fi], 1.0), 0.0)
    nfit = fvalid.sum(axis=1)

    # Initial guess: minimum of the 3-channel running mean inside the search window.
    s_lo, s_hi = band.search_um
    in_search = (x >= s_lo) & (x <= s_hi)
    ys = y.copy()
    if y.shape[1] >= 3:
        ys[:, 1:-1] = (y[:, :-2] + y[:, 1:-1] + y[:, 2:]) / 3.0
    ys = np.where(fvalid & in_search[None, :], ys, np.inf)
    jmin = np.argmin(ys, axis=1)
    c = np.where(np.any(np.isfinite(ys), axis=1), x[jmin], band.centre_um)
    c = np.clip(c, s_lo, s_hi)
    d = 1.0 - np.where(np.isfinite(ys[np.arange(n), jmin]), ys[np.arange(n), jmin], 1.0)
    s = np.full(n, plan.s0)
    # Weak priors (information units): c within the search window, s within a factor ~2 of s0.
    pc = 1.0 / (s_hi - s_lo) ** 2
    ps = 1.0 / plan.s0 ** 2
    prior = np.array([0.0, pc, ps])

    for _ in range(GN_ITERATIONS):
        dx = x[None, :] - c[:, None]
        g = np.exp(-0.5 * (dx / s[:, None]) ** 2)
        r = y - (1.0 - d[:, None] * g)
        jd = -g
        jc = -d[:, None] * g * dx / s[:, None] ** 2
        js = -d[:, None] * g * dx ** 2 / s[:, None] ** 3
        a = _normal(jd, jc, js, w)
        a[:, 1, 1] += pc
        a[:, 2, 2] += ps
        # Levenberg damping keeps the steps sane when the band is shallow.
        a_d = a.copy()
        a_d[:, [0, 1, 2], [0, 1, 2]] *= 1.0 + 1e-3
        wr = w * r
        b = np.stack(((jd * wr).sum(1), (jc * wr).sum(1), (js * wr).sum(1)), axis=1)
        b[:, 1] -= pc * (c - band.centre_um)
        b[:, 2] -= ps * (s - plan.s0)
        step = np.einsum("nij,nj->ni", _inv3(a_d), b)
        step = np.where(np.isfinite(step), step, 0.0)
        d = d + step[:, 0]
        c = np.clip(c + step[:, 1], s_lo, s_hi)
        s = np.clip(s + step[:, 2], plan.s_min, plan.s_max)

    dx = x[None, :] - c[:, None]
    g = np.exp(-0.5 * (dx / s[:, None]) ** 2)
    resid = np.where(fvalid, y - (1.0 - d[:, None] * g), 0.0)
    jd = -g
    jc = -d[:, None] * g * dx / s[:, None] ** 2
    js = -d[:, None] * g * dx ** 2 / s[:, None] ** 3
    a = _normal(jd, jc, js, w) + np.diag(prior)[None]
    cov = _inv3(a)
    dof = np.maximum(nfit - 3, 1)
    if est_sigma:
        # Residual scatter (continuum-removed units) replaces the nominal weight.
        rel_var = (resid ** 2).sum(axis=1) / dof
        cov = cov * (rel_var / _NOMINAL_SIGMA ** 2)[:, None, None]
        # Shoulder variance from the same scatter, scaled to reflectance units.
        nl = np.maximum((valid[:, plan.left_idx] * (plan.left_w > 0)).sum(axis=1), 1)
        nr = np.maximum((valid[:, plan.right_idx] * (plan.right_w > 0)).sum(axis=1), 1)
        v_l = rel_var * r_l ** 2 / nl
        v_r = rel_var * r_r ** 2 / nr
    var_d = cov[:, 0, 0]
    var_c = cov[:, 1, 1]
    # Continuum uncertainty at the centre, relative, propagated to the depth.
    t = (c - x_l) / (x_r - x_l)
    cont_c = r_l + slope * (c - x_l)
    var_crel = ((1.0 - t) ** 2 * v_l + t ** 2 * v_r) / np.where(cont_c > 0, cont_c, np.nan) ** 2
    depth_sigma = np.sqrt(np.maximum(var_d, 0.0) + (1.0 - d) ** 2 * var_crel)
    centre_sigma = np.sqrt(np.maximum(var_c, 0.0))

    bad = (nfit < MIN_FIT_CHANNELS) | ~np.isfinite(r_l) | ~np.isfinite(r_r) \
        | ~np.isfinite(d) | ~np.isfinite(depth_sigma)
    d = np.where(bad, np.nan, d)
    c = np.where(bad, np.nan, c)
    depth_sigma = np.where(bad, np.nan, depth_sigma)
    centre_sigma = np.where(bad, np.nan, centre_sigma)
    detected = ~bad & (d > np.maximum(threshold, k_sigma * np.nan_to_num(depth_sigma, nan=np.inf)))
    return d, depth_sigma, c, centre_sigma, detected


def _as_2d(name, wl, values, what):
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != wl.size:
        raise BandAnalysisError(
            f"{name}: {what} has shape {np.shape(values)}, expected ({wl.size},) or (N, {wl.size})")
    return arr


def _defaults(method, threshold, k_sigma):
    if method == "chord":
        return (DETECT_THRESHOLD if threshold is None else threshold,
                DETECT_K_SIGMA if k_sigma is None else k_sigma)
    if method == "fit":
        return (band_fit.FIT_THRESHOLD if threshold is None else threshold,
                band_fit.FIT_K_SIGMA if k_sigma is None else k_sigma)
    raise BandAnalysisError(f"bands: method must be one of {METHODS}, got {method!r}")


def _plan_or_reason(wl, band, method, shoulder_half_width_um):
    """A plan of `band` on the grid, or the reason the grid cannot measure it (a str)."""
    if method == "fit":
        plan = band_fit.plan_fit(wl, band)
        return plan.reason or plan
    try:
        return plan_band(wl, band, shoulder_half_width_um)
    except BandAnalysisError as err:
        return f"{band.name}: not measurable: {str(err).split(': ', 1)[1]}"


def analyse_bands(wavelength_um, reflectance_2d, bands=BANDS, sigma_2d=None, *,
                  method=DEFAULT_METHOD, threshold=None, k_sigma=None,
                  shoulder_half_width_um=SHOULDER_HALF_WIDTH_UM, plans=None) -> dict:
    """Analyse every band of `bands` in N spectra at once.

    reflectance_2d: (N, C) (or (C,)) on the grid wavelength_um (C,); sigma_2d the same
    shape or None.  Returns a dict of (N, n_bands) arrays: "depth", "depth_sigma",
    "centre_um", "centre_sigma_um" (float, NaN where the band could not be measured),
    "detected" (bool) and "reason" (str: '' where measured, else why not), plus "names"
    (tuple of band names, the column order).  A band the grid cannot measure (it does not
    reach its continuum, say) gets NaN and its reason; the others are measured.

    method: "fit" (curved continuum fitted with the band, band_fit.py) or "chord" (the
    straight line between two shoulders; what the flight software flies until issue 18's
    switch, FLIGHT_METHOD).  threshold (depth floor) and k_sigma (the significance a
    band needs: fit, tau / sigma(tau) at its centre and width; chord, depth / depth_sigma)
    default to the method's own.  shoulder_half_width_um is the chord method's.  `plans`
    (from plan_bands with the same method) skips the per-call grid planning.
    """
    threshold, k_sigma = _defaults(method, threshold, k_sigma)
    bands = tuple(bands)
    first = bands[0].name if bands else "bands"
    wl = _check_grid(wavelength_um, first)
    refl = _as_2d(first, wl, reflectance_2d, "reflectance")
    sig = None if sigma_2d is None else _as_2d(first, wl, sigma_2d, "sigma")
    if sig is not None and sig.shape != refl.shape:
        raise BandAnalysisError(f"{first}: sigma shape {sig.shape} != reflectance {refl.shape}")
    if plans is None:
        plans = tuple(_plan_or_reason(wl, b, method, shoulder_half_width_um) for b in bands)
    kind = band_fit.FitPlan if method == "fit" else BandPlan
    if not all(isinstance(p, (kind, str)) for p in plans):
        raise BandAnalysisError(f"{first}: plans were not made for method {method!r}")
    n, nb = refl.shape[0], len(bands)
    out = {k: np.full((n, nb), np.nan) for k in ("depth", "depth_sigma", "centre_um",
                                                 "centre_sigma_um")}
    out["detected"] = np.zeros((n, nb), dtype=bool)
    out["reason"] = np.full((n, nb), "", dtype=object)
    for k, plan in enumerate(plans):
        if isinstance(plan, str):
            out["reason"][:, k] = plan
            continue
        with np.errstate(all="ignore"):
            if method == "fit":
                d, ds, c, cs, det, why = band_fit.analyse_fit(refl, sig, plan, threshold,
                                                              k_sigma)
            else:
                d, ds, c, cs, det = _analyse_planned(wl, refl, sig, plan, threshold, k_sigma)
                why = np.where(np.isnan(d), f"{plan.band.name}: not measurable: too few "
                               "finite channels in its shoulders or core", "").astype(object)
        out["depth"][:, k], out["depth_sigma"][:, k] = d, ds
        out["centre_um"][:, k], out["centre_sigma_um"][:, k] = c, cs
        out["detected"][:, k] = det
        out["reason"][:, k] = why
    out["names"] = tuple(b.name for b in bands)
    return out


def plan_bands(wavelength_um, bands=BANDS, shoulder_half_width_um=SHOULDER_HALF_WIDTH_UM,
               method=DEFAULT_METHOD):
    """The grid planning of every band, to reuse for many calls on the same grid.  Chord:
    plan_band of each (raises if the grid cannot measure one); fit: band_fit.plan_fit of
    each, or the reason string where the grid cannot measure it."""
    wl = _check_grid(wavelength_um, bands[0].name if bands else "bands")
    if method == "fit":
        return tuple(_plan_or_reason(wl, b, method, shoulder_half_width_um) for b in bands)
    _defaults(method, None, None)
    return tuple(plan_band(wl, b, shoulder_half_width_um) for b in bands)


def analyse_band(wavelength_um, reflectance, band: Band, sigma=None, *,
                 method=DEFAULT_METHOD, threshold=None, k_sigma=None,
                 shoulder_half_width_um=SHOULDER_HALF_WIDTH_UM) -> BandResult:
    """Depth, centre and their sigmas of one band in one spectrum (1-D arrays).  Raises
    BandAnalysisError if the grid cannot measure the band; missing data give NaN and the
    reason."""
    wl = _check_grid(wavelength_um, band.name)
    refl = np.asarray(reflectance, dtype=float)
    if refl.ndim != 1 or refl.size != wl.size:
        raise BandAnalysisError(
            f"{band.name}: reflectance has {refl.size} values, wavelength grid {wl.size}")
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=float)
        if sigma.ndim != 1 or sigma.size != wl.size:
            raise BandAnalysisError(
                f"{band.name}: sigma has {sigma.size} values, wavelength grid {wl.size}")
    _defaults(method, threshold, k_sigma)
    if method == "fit":
        plan = band_fit.plan_fit(wl, band)
        if plan.reason:
            raise BandAnalysisError(plan.reason)
    else:
        plan = plan_band(wl, band, shoulder_half_width_um)
    out = analyse_bands(wl, refl, (band,), sigma, method=method, threshold=threshold,
                        k_sigma=k_sigma, shoulder_half_width_um=shoulder_half_width_um,
                        plans=(plan,))
    return BandResult(band.name, float(out["centre_um"][0, 0]),
                      float(out["centre_sigma_um"][0, 0]), float(out["depth"][0, 0]),
                      float(out["depth_sigma"][0, 0]), bool(out["detected"][0, 0]),
                      str(out["reason"][0, 0]))
