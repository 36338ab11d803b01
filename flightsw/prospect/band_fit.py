"""Band analysis that holds on real spectra: the band fitted together with a curved continuum.

The straight line between two shoulders (bands.py, method "chord") reads the curved
continuum of a dark C- or B-type as a band, and a band whose wings reach a shoulder as
shallower than it is.  Here, per band, over a window wider than the band
(band_catalogue.BandFit):

    ln R(lambda) = a0 + a1 t + a2 t^2 (+ a3 t^3) - tau * exp(-(lambda - c)^2 / (2 s^2))

with t the wavelength scaled to [-1, 1] over the window.  The continuum is a low-order
polynomial in log reflectance (a continuum divided out is a continuum subtracted in log,
as in the modified Gaussian model of Sunshine et al. 1990), fitted with the band rather
than through two points, so it follows a curved spectrum; a weak prior on its curvature
(bend_sigma_per_um2) keeps the fit determined when few channels are left.  For a given
(c, s) the model is linear in the continuum and tau: tau and its variance come in closed
form by projecting the band's shape on what the continuum cannot explain.  A coarse grid
of (c, s) finds the best absorption, Newton steps on (c, ln s) polish it.

    depth D = 1 - exp(-tau)  (at the centre, relative to the fitted continuum)
    depth_sigma from the full covariance (continuum, depth, centre and width together),
    scaled by the reduced chi^2 when it exceeds 1 (a band that is not exactly Gaussian)
    or when no sigma is given.

Detection is a statistic of the band against its uncertainty and of its shape: the
significance tau / sigma(tau) at the fitted centre and width (the square root of the
likelihood ratio with and without the band) >= k_sigma, D > threshold, the centre not
on an edge of the search window (the minimum lies outside: another band's wing or the
slope of a continuum), and a dip BROAD_FACTOR times wider than the widest band of its
kind not explaining the data as well (a curve of the continuum, not this band).

The centre of a strong band with a hull range (the silicate bands) is where R is lowest
under the straight line tangent to R either side (Cloutis et al. 1986, Gaffey et al.
1993), as the minimum of a quartic fitted to the band bottom: it follows an asymmetric or
composite band (S-type band I) where a symmetric Gaussian does not (hull_centres).

Channels that are NaN, not positive or whose sigma is unusable are dropped.  A band is
measured when its window keeps at least MIN_SIDE_CHANNELS on each side of the search
window and MIN_CORE_CHANNELS inside it; otherwise it is NaN with a reason (per spectrum),
as it is when the grid itself does not reach that far (per band, from plan_fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flightsw.prospect.band_catalogue import Band, BandFit

FIT_K_SIGMA = 3.0
FIT_THRESHOLD = 0.01  # depth floor: a band shallower than this counts as absent
MIN_SIDE_CHANNELS = 3
MIN_CORE_CHANNELS = 5
N_WIDTHS = 3  # starting widths (geometric over the band's range) of the grid
BROAD_FACTOR = 2.0  # a dip this many times wider than the widest band is continuum
BRIDGE_STEPS = 4  # alternating tangent steps to the hull edge over a band
BOTTOM_DEGREE = 4  # polynomial fitted to a strong band's bottom
BOTTOM_LEVEL = 0.5  # the bottom: deeper than this fraction of the band's depth
POLISH_STEPS = 8  # Newton steps on (centre, ln width) after the grid
CENTRE_STEP_PER_SIGMA = 0.5  # starting centres every half narrowest width (or channel)
HULL_MIN_Z = 3.0  # the hull centre is used from this significance up (bands with hull_um)
_NOMINAL_SIGMA = 0.01  # relative, the fit weight when no sigma is given


@dataclass(frozen=True)
class FitPlan:
    """What one band needs from one grid; `reason` is non-empty when the grid cannot
    measure it (then the arrays are empty)."""

    band: Band
    fit: BandFit
    reason: str
    idx: np.ndarray  # window channels
    x_um: np.ndarray
    basis: np.ndarray  # (K, degree + 1): powers of t (wavelength scaled to [-1, 1])
    zones: tuple  # (left, core, right) boolean masks over idx
    centres_um: np.ndarray
    widths_um: np.ndarray
    prior: np.ndarray  # (degree + 1,) information added to the continuum's normal matrix
    hull_idx: np.ndarray  # channels of the hull range (strong bands' centres)
    hull_x_um: np.ndarray


def fit_of(band: Band) -> BandFit:
    """The band's fit settings; a Band without them gets its shoulders as the window."""
    if band.fit is not None:
        return band.fit
    gap = min(band.centre_um - band.left_shoulder_um, band.right_shoulder_um - band.centre_um)
    return BandFit((band.left_shoulder_um, band.right_shoulder_um), band.search_um,
                   (0.1 * gap, 0.4 * gap), 2.0)


def _zone_reason(name, what, lo, hi, n, need, kind="channel"):
    return (f"{name}: not measurable: {what} {lo:.2f}-{hi:.2f} um has {n} {kind}"
            f"{'' if n == 1 else 's'} ({need} needed)")


def _zones(fit):
    (w_lo, w_hi), (s_lo, s_hi) = fit.window_um, fit.search_um
    return (("left continuum", w_lo, s_lo, MIN_SIDE_CHANNELS),
            ("band centre", s_lo, s_hi, MIN_CORE_CHANNELS),
            ("right continuum", s_hi, w_hi, MIN_SIDE_CHANNELS))


def plan_fit(wavelength_um, band: Band) -> FitPlan:
    """Channel selection and grids of `band` on a (checked, increasing) grid."""
    wl = np.asarray(wavelength_um, dtype=float)
    fit = fit_of(band)
    w_lo, w_hi = fit.window_um
    s_lo, s_hi = fit.search_um
    idx = np.flatnonzero((wl >= w_lo) & (wl <= w_hi))
    x = wl[idx]
    masks = ((x < s_lo), (x >= s_lo) & (x <= s_hi), (x > s_hi))
    for (what, lo, hi, need), m in zip(_zones(fit), masks, strict=True):
        if m.sum() < need:
            e = np.zeros(0)
            return FitPlan(band, fit, _zone_reason(band.name, what, lo, hi, int(m.sum()), need),
                           idx[:0], e, np.zeros((0, 3)), (), e, e, e, idx[:0], e)
    step = float(np.median(np.diff(x)))
    c_step = max(step, CENTRE_STEP_PER_SIGMA * fit.sigma_um[0])
    n_c = max(int(math.ceil((s_hi - s_lo) / c_step)) + 1, 3)
    half = 0.5 * (w_hi - w_lo)
    t = (x - 0.5 * (w_lo + w_hi)) / half
    # Prior on a2 = (curvature * half^2) / 2 in ln R: information 1 / sd^2.
    a2_sd = fit.bend_sigma_per_um2 * half ** 2 / 2.0
    hull_idx = idx[:0] if fit.hull_um is None else \
        np.flatnonzero((wl >= fit.hull_um[0]) & (wl <= fit.hull_um[1]))
    prior = np.zeros(fit.degree + 1)
    prior[2:] = 1.0 / a2_sd ** 2
    return FitPlan(band, fit, "", idx, x, t[:, None] ** np.arange(fit.degree + 1)[None, :],
                   masks, np.linspace(s_lo, s_hi, n_c),
                   np.geomspace(fit.sigma_um[0], fit.sigma_um[1], N_WIDTHS), prior, hull_idx,
                   wl[hull_idx])


def inv_spd(a):
    """Batched inverse of symmetric positive-definite (N, P, P) matrices (Gauss-Jordan,
    no pivoting: the diagonal stays positive); NaN where a pivot vanishes."""
    n, p, _ = a.shape
    m = np.concatenate([a, np.broadcast_to(np.eye(p), a.shape)], axis=2)
    scale = np.abs(np.diagonal(a, axis1=1, axis2=2)).max(axis=1)
    bad = ~(scale > 0)
    for k in range(p):
        piv = m[:, k, k]
        bad |= ~(piv > 1e-13 * scale)
        m[:, k, :] /= np.where(bad, 1.0, piv)[:, None]
        for i in range(p):
            if i != k:
                m[:, i, :] -= m[:, i, k][:, None] * m[:, k, :]
    inv = m[:, :, p:]
    inv[bad] = np.nan
    return inv


def _weighted_normal(w, cols):
    """sum_k w X_i X_j for (K, P) columns: (N, P, P)."""
    p = cols.shape[1]
    a = np.empty((w.shape[0], p, p))
    for i in range(p):
        for j in range(i, p):
            a[:, i, j] = a[:, j, i] = (w * (cols[:, i] * cols[:, j])).sum(axis=1)
    return a


def _project(w, y, cols, a_inv, beta0, g):
    """The band shape g ((K,) or (N, K)) against what the continuum leaves: the band's
    coefficient kappa (= -tau), its information `den` and the continuum's change per unit
    kappa `t` (N, P)."""
    wg = w * g
    u = np.stack([(wg * cols[:, i]).sum(axis=1) for i in range(cols.shape[1])], axis=1)
    t = np.einsum("nij,nj->ni", a_inv, u)
    den = (wg * g).sum(axis=1) - (u * t).sum(axis=1)
    num = (wg * y).sum(axis=1) - (u * beta0).sum(axis=1)
    den = np.where(den > 0, den, np.nan)
    return num / den, den, t


def _row_reasons(plan, valid):
    counts = [(valid & m[None, :]).sum(axis=1) for m in plan.zones]
    ok = np.ones(valid.shape[0], bool)
    reasons = np.full(valid.shape[0], "", dtype=object)
    for (what, lo, hi, need), n in zip(_zones(plan.fit), counts, strict=True):
        bad = ok & (n < need)
        for r in np.flatnonzero(bad):
            reasons[r] = _zone_reason(plan.band.name, what, lo, hi, int(n[r]), need,
                                      "finite channel")
        ok &= ~bad
    return ok, reasons


def _fit_model(plan, y, w, valid, sigma_given):
    """The continuum and the band over the window, for every row: a dict of (N,) arrays."""
    n = y.shape[0]
    x, cols, prior = plan.x_um, plan.basis, plan.prior
    a = _weighted_normal(w, cols)
    a[:, np.arange(prior.size), np.arange(prior.size)] += prior
    a_inv = inv_spd(a)
    beta0 = np.einsum("nij,nj->ni", a_inv, np.stack(
        [(w * y * cols[:, i]).sum(axis=1) for i in range(cols.shape[1])], axis=1))
    # Grid of (centre, width): z = tau / sd(tau) (unscaled), the absorption's significance.
    cs, ss = plan.centres_um, plan.widths_um
    z = np.full((n, cs.size, ss.size), -np.inf)
    for i, c in enumerate(cs):
        for j, s in enumerate(ss):
            kappa, den, _ = _project(w, y, cols, a_inv, beta0,
                                     np.exp(-0.5 * ((x - c) / s) ** 2))
            z[:, i, j] = np.nan_to_num(-kappa * np.sqrt(den), nan=-np.inf)
    ic, js = np.divmod(np.argmax(z.reshape(n, -1), axis=1), ss.size)
    c_step = cs[1] - cs[0]
    ls_step = math.log(ss[1] / ss[0])
    c, log_s = cs[ic], np.log(ss[js])
    # Polish (c, ln s) by Newton steps on delta chi^2 (finite differences on a 3 x 3
    # stencil that shrinks by half each time), kept inside the search window and widths.
    (c_lo, c_hi), (ls_lo, ls_hi) = plan.fit.search_um, np.log(plan.fit.sigma_um)
    hess = np.full((n, 2, 2), np.nan)
    for it in range(POLISH_STEPS):
        hc, hs = c_step * 0.6 ** it, ls_step * 0.6 ** it
        f = np.empty((3, 3, n))
        for i in range(3):
            for j in range(3):
                cc, ll = c + (i - 1) * hc, log_s + (j - 1) * hs
                g = np.exp(-0.5 * ((x[None, :] - cc[:, None]) / np.exp(ll)[:, None]) ** 2)
                kappa, den, _ = _project(w, y, cols, a_inv, beta0, g)
                f[i, j] = np.nan_to_num(-np.abs(kappa) * kappa * den, nan=-np.inf)
        grad = np.stack([(f[2, 1] - f[0, 1]) / (2 * hc), (f[1, 2] - f[1, 0]) / (2 * hs)], 1)
        hess[:, 0, 0] = (f[2, 1] - 2 * f[1, 1] + f[0, 1]) / hc ** 2
        hess[:, 1, 1] = (f[1, 2] - 2 * f[1, 1] + f[1, 0]) / hs ** 2
        hess[:, 0, 1] = hess[:, 1, 0] = (f[2, 2] - f[2, 0] - f[0, 2] + f[0, 0]) / (4 * hc * hs)
        det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
        peak = (hess[:, 0, 0] < 0) & (det > 0) & np.isfinite(grad).all(axis=1)
        safe = np.where(peak, det, 1.0)
        dc = -(hess[:, 1, 1] * grad[:, 0] - hess[:, 0, 1] * grad[:, 1]) / safe
        dl = -(hess[:, 0, 0] * grad[:, 1] - hess[:, 0, 1] * grad[:, 0]) / safe
        # No maximum in reach: a step up the gradient, one stencil spacing.
        up_c = np.sign(np.nan_to_num(grad[:, 0])) * hc
        up_l = np.sign(np.nan_to_num(grad[:, 1])) * hs
        dc = np.where(peak, np.clip(dc, -2 * hc, 2 * hc), up_c)
        dl = np.where(peak, np.clip(dl, -2 * hs, 2 * hs), up_l)
        c = np.clip(c + dc, c_lo, c_hi)
        log_s = np.clip(log_s + dl, ls_lo, ls_hi)
    s = np.exp(log_s)
    g = np.exp(-0.5 * ((x[None, :] - c[:, None]) / s[:, None]) ** 2)
    kappa, den, t = _project(w, y, cols, a_inv, beta0, g)
    cont = np.stack([((beta0 - t * kappa[:, None]) * cols[k]).sum(axis=1)
                     for k in range(cols.shape[0])], axis=1)
    resid = np.where(valid, y - cont - kappa[:, None] * g, 0.0)
    dof = np.maximum(valid.sum(axis=1) - cols.shape[1] - 3, 1)
    chi2r = (w * resid ** 2).sum(axis=1) / dof
    # Scatter never quite 0 (a noise-free spectrum without sigma): the sigmas stay finite.
    var_scale = np.maximum(chi2r, 1.0) if sigma_given else np.maximum(chi2r, 1e-12)
    # Full covariance at the solution, continuum, band depth, centre and width together
    # (the depth of a broad band trades against its width and the continuum's curve).
    dxs = (x[None, :] - c[:, None]) / s[:, None]
    jac = np.concatenate([np.broadcast_to(cols, (n,) + cols.shape), np.stack(
        [g, kappa[:, None] * g * dxs / s[:, None], kappa[:, None] * g * dxs ** 2], axis=2)],
        axis=2)
    info = np.einsum("nk,nkp,nkq->npq", w, jac, jac)
    info[:, np.arange(prior.size), np.arange(prior.size)] += prior
    cov = inv_spd(info)
    p = cols.shape[1]
    # Without a band (tau ~ 0) centre and width are undetermined and the full matrix
    # singular: the depth's sigma is then the one at fixed centre and width.
    tau_sd = np.sqrt(var_scale * cov[:, p, p])
    tau_sd = np.where(np.isfinite(tau_sd), tau_sd, np.sqrt(var_scale / den))
    # The band's significance: tau over its sigma at the fitted centre and width, the
    # square root of the likelihood ratio (chi^2 without the band - chi^2 with it).
    z = -kappa * np.sqrt(den / var_scale)
    c_sd = np.sqrt(var_scale * cov[:, p + 1, p + 1])
    edge = 0.25 * c_step
    # The same dip as a feature BROAD_FACTOR x wider than the widest band of its kind:
    # if that explains the data as well, it is a curve of the continuum, not this band.
    g_broad = np.exp(-0.5 * ((x[None, :] - c[:, None]) / (BROAD_FACTOR * ss[-1])) ** 2)
    k_b, den_b, _ = _project(w, y, cols, a_inv, beta0, g_broad)
    broad = np.nan_to_num(-k_b * np.sqrt(den_b), nan=-np.inf) >= -kappa * np.sqrt(den)
    return {"tau": -kappa, "tau_sd": tau_sd, "z": z, "c": c, "c_sd": c_sd, "s": s,
            "on_edge": (c <= c_lo + edge) | (c >= c_hi - edge),
            "too_broad": broad, "var_scale": var_scale}


def analyse_fit(refl, sig, plan: FitPlan, threshold=FIT_THRESHOLD, k_sigma=FIT_K_SIGMA):
    """One planned band over (N, C) reflectance (sig (N, C) or None): depth, depth_sigma,
    centre_um, centre_sigma_um (N,) float, detected (N,) bool and reason (N,) str ('' when
    measured)."""
    n = refl.shape[0]
    nan = np.full(n, np.nan)
    if plan.reason or n == 0:
        return (nan, nan.copy(), nan.copy(), nan.copy(), np.zeros(n, bool),
                np.full(n, plan.reason, dtype=object))
    r = refl[:, plan.idx]
    valid = np.isfinite(r) & (r > 0)
    if sig is None:
        w = np.where(valid, 1.0 / _NOMINAL_SIGMA ** 2, 0.0)
    else:
        s_ch = sig[:, plan.idx]
        valid &= np.isfinite(s_ch) & (s_ch > 0)
        w = np.where(valid, (np.where(valid, r, 1.0) / np.where(valid, s_ch, 1.0)) ** 2, 0.0)
    y = np.where(valid, np.log(np.where(valid, r, 1.0)), 0.0)
    ok, reasons = _row_reasons(plan, valid)
    w = np.where(ok[:, None], w, 0.0)
    fit = _fit_model(plan, y, w, valid, sig is not None)
    tau, tau_sd, c = fit["tau"], fit["tau_sd"], fit["c"]
    depth = -np.expm1(-tau)
    depth_sd = np.exp(-tau) * tau_sd
    centre, centre_sd = c.copy(), fit["c_sd"].copy()
    strong = ok & np.isfinite(fit["z"]) & (fit["z"] >= HULL_MIN_Z)
    if plan.hull_idx.size and strong.any():
        hi_idx, hx = plan.hull_idx, plan.hull_x_um
        rh = refl[:, hi_idx]
        wh = np.isfinite(rh) & (rh > 0)
        if sig is None:
            wh = np.where(wh, (1.0 / (_NOMINAL_SIGMA * np.where(wh, rh, 1.0))) ** 2, 0.0)
        else:
            sh = sig[:, hi_idx]
            wh = np.where(wh & np.isfinite(sh) & (sh > 0), 1.0 / np.where(sh > 0, sh, 1.0) ** 2,
                          0.0)
        rows = np.flatnonzero(strong)
        v, v_sd = hull_centres(hx, rh[rows], wh[rows], plan.fit.search_um)
        found = np.isfinite(v)
        centre[rows[found]] = v[found]
        centre_sd[rows[found]] = (v_sd * np.sqrt(fit["var_scale"][rows]))[found]
    good = ok & np.isfinite(depth) & np.isfinite(depth_sd)
    for r in np.flatnonzero(ok & ~good):
        reasons[r] = f"{plan.band.name}: not measurable: the fit has no solution"
    detected = good & ~fit["on_edge"] & ~fit["too_broad"] & (depth > threshold) \
        & (fit["z"] >= k_sigma)
    return (np.where(good, depth, np.nan), np.where(good, depth_sd, np.nan),
            np.where(good, centre, np.nan), np.where(good, centre_sd, np.nan), detected, reasons)


def _bridge(x, r, inside, below):
    """For each row, the hull edge over the band: the indices (j, k) of the tangent points
    left and right of `below` (N,) of the upper convex hull of (x, r[n]) over `inside`
    (N, K) (missing channels out).  Alternating tangents: given k, the left tangent is the
    point of least slope to k; given j, the right one the point of greatest slope from j;
    each step raises the line, a few steps reach the hull edge."""
    n, kk = r.shape
    idx = np.arange(kk)[None, :]
    left, right = inside & (idx <= below[:, None]), inside & (idx >= below[:, None])
    rows = np.arange(n)
    j = np.argmax(np.where(left, r, -np.inf), axis=1)
    k = np.argmax(np.where(right, r, -np.inf), axis=1)
    for _ in range(BRIDGE_STEPS):
        dx = x[None, :] - x[k][:, None]
        slope = (r - r[rows, k][:, None]) / np.where(dx < 0, dx, -1.0)  # slope from point to k
        j = np.argmin(np.where(left & (dx < 0), slope, np.inf), axis=1)
        dx = x[None, :] - x[j][:, None]
        slope = (r - r[rows, j][:, None]) / np.where(dx > 0, dx, 1.0)
        k = np.argmax(np.where(right & (dx > 0), slope, -np.inf), axis=1)
    return j, k


def hull_centres(x, r, w, search_um, degree=BOTTOM_DEGREE, level=BOTTOM_LEVEL):
    """Centre of a strong band in each row, and its sigma: the minimum of R over the
    straight line tangent to R either side (the upper convex hull's edge over the band;
    Cloutis et al. 1986, Gaffey et al. 1993), as the minimum of a weighted polynomial of
    `degree` fitted to the band bottom, where the band is deeper than `level` x its depth
    (a composite band can be nearly flat at the bottom: its raw minimum jumps with the
    noise, the polynomial's much less).  x (K,), r and w (N, K): wavelengths, reflectance
    and weights 1/sigma^2 (0 = missing).  The tangent points and the bottom are found on R
    smoothed by a 3-channel weighted running mean, so they are not noise peaks.  NaN
    where it fails."""
    n, kk = r.shape
    ok = (w > 0) & np.isfinite(r)
    w = np.where(ok, w, 0.0)
    r = np.where(ok, r, 0.0)
    ws = w.copy()
    rws = r * w
    ws[:, 1:] += w[:, :-1]
    ws[:, :-1] += w[:, 1:]
    rws[:, 1:] += (r * w)[:, :-1]
    rws[:, :-1] += (r * w)[:, 1:]
    rs = np.where(ok, rws / np.where(ws > 0, ws, 1.0), np.nan)
    near = ok & ((x >= search_um[0]) & (x <= search_um[1]))[None, :]
    bottom = np.argmin(np.where(near, rs, np.inf), axis=1)
    j, k = _bridge(x, np.where(ok, rs, -np.inf), ok, bottom)
    rows = np.arange(n)
    line = rs[rows, j][:, None] + (rs[rows, k] - rs[rows, j])[:, None] * (
        (x[None, :] - x[j][:, None]) / (x[k] - x[j])[:, None])
    removed, rem_s = r / line, rs / line
    cut = 1.0 - level * (1.0 - rem_s[rows, bottom])
    idx = np.arange(kk)[None, :]
    above = ~(ok & (rem_s < cut[:, None]))
    lo = np.where(above & (idx < bottom[:, None]), idx, -1).max(axis=1) + 1
    hi = np.where(above & (idx > bottom[:, None]), idx, kk).min(axis=1) - 1
    region = ok & (idx >= lo[:, None]) & (idx <= hi[:, None])
    enough = (region.sum(axis=1) >= degree + 3) & near.any(axis=1)
    # Weighted polynomial in t in [-1, 1] over each row's region.
    x_lo, x_hi = x[lo], x[np.maximum(hi, lo)]
    mid, half = 0.5 * (x_lo + x_hi), np.maximum(0.5 * (x_hi - x_lo), 1e-9)
    t = (x[None, :] - mid[:, None]) / half[:, None]
    pw = np.stack([t ** q for q in range(degree + 1)], axis=2)  # (N, K, P)
    wr = np.where(region, w * line ** 2, 0.0)
    a = np.einsum("nk,nkp,nkq->npq", wr, pw, pw)
    a[~enough] = np.eye(degree + 1)
    cov = inv_spd(a)
    coef = np.einsum("npq,nk,nkq,nk->np", cov, wr, pw, np.where(region, removed, 0.0))
    fine = np.linspace(-1.0, 1.0, 401)
    fp = fine[:, None] ** np.arange(degree + 1)[None, :]  # (F, P)
    # Explicit products, not matmul: BLAS kernels differ by CPU and flight must replay.
    m = np.argmin((coef[:, None, :] * fp[None, :, :]).sum(axis=2), axis=1)
    v = fine[m]
    q = np.arange(degree + 1)
    d1 = np.where(q >= 1, q * v[:, None] ** np.maximum(q - 1, 0), 0.0)
    d2 = (coef * np.where(q >= 2, q * (q - 1) * v[:, None] ** np.maximum(q - 2, 0), 0.0)).sum(1)
    var1 = np.einsum("np,npq,nq->n", d1, cov, d1)
    good = enough & (m > 0) & (m < fine.size - 1) & (d2 > 0) & np.isfinite(coef).all(axis=1)
    centre = np.where(good, mid + half * v, np.nan)
    sd = np.where(good, half * np.sqrt(np.maximum(var1, 0.0)) / np.where(d2 > 0, d2, 1.0),
                  np.nan)
    return centre, sd
