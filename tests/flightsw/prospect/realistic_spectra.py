"""Realistic synthetic asteroid reflectance spectra with known band truth (tests only).

The review of issue 18 ran the band analysis on real labelled telescope spectra and
found it broke where real spectra differ from a straight continuum times one Gaussian
(band_oracle.py).  This generator makes spectra with those differences, of every
Bus-DeMeo type the prospector cares about, so the analysis can be measured against a
truth it did not make:

* continua curved as real ones (log reflectance with a slope, a UV/visible drop-off, a
  broad bowl or hump and a quadratic bend over the near infrared), concave or convex;
* bands that are not the analysis' model: Gaussians in energy (1/lambda) applied to log
  reflectance (the modified-Gaussian style of Sunshine et al. 1990), composites of
  several (S-type band I = pyroxene + the three olivine absorptions), asymmetric in
  wavelength;
* the probe's grid and noise: shot + read + dark noise of the instrument's design point
  (flightsw.instrument_config: SNR 50 per channel on a 3 % surface, more on brighter
  ones, less in the tapered channels above 2.4 um).

Figures (ranges drawn uniformly) are from the literature as docs/band_analysis.md cites
it (DeMeo et al. 2009 for the types' slopes and shapes; Rivkin et al. and Fornasier et
al. for the 0.7 um band; Gaffey et al. 1993, Cloutis et al. 1986, Moskovitz et al.
2010 for band centres and band area ratios; FACTS.md for albedos and the OH band).
They are approximate: this is a test set with a stated truth, not a taxonomy.

Truth per spectrum, computed on a 1 nm grid from the noise-free spectrum, for each
catalogue band (BANDS order): whether the type has it, its depth and centre.
- The 0.7 um, OH and M/X 0.9 um bands: over the known continuum (not a fitted one),
  the band's own depth 1 - min(R / C) and the wavelength of that minimum.
- S and V bands I and II: as they are measured (Cloutis et al. 1986; Gaffey et al.
  1993). Over the straight line tangent to the maxima either side (the upper convex
  hull), the centre is the minimum of a quartic fitted to the band bottom; also the
  band area ratio.
- PYX_09 and PYX_19 are band I and band II of S and V; OL_105 is also set for S, whose
  band I is an olivine-pyroxene composite.

    s = make_set(n_per_type=200, seed=1)      # every type, on the probe grid
    s.reflectance, s.sigma, s.types, s.has_band, s.depth, s.centre_um, s.band1_centre_um
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flightsw import instrument_config as cfg
from sim.radiometry import black_body_radiance, sun_irradiance

TYPES = ("C", "B", "Cb", "Ch", "S", "V", "M", "D")
C_COMPLEX = ("C", "B", "Cb", "Ch")
DARK_TYPES = ("C", "B", "Cb", "Ch", "D")
BAND_NAMES = ("PHYLLO_07", "PYX_09", "OL_105", "PYX_19", "OH_27")
FINE_UM = np.round(np.arange(0.400, 3.5005, 0.001), 6)

# Where each band's truth minimum is looked for on the continuum-removed spectrum (um).
_TRUTH_RANGE = {"PHYLLO_07": (0.60, 0.80), "PYX_09": (0.80, 1.20), "OL_105": (0.95, 1.20),
                "PYX_19": (1.60, 2.30), "OH_27": (2.60, 2.90)}
S_CENTRE_BINS = 10
# The straight-line continua of silicate bands I and II are the upper convex hulls of the
# spectrum over these ranges (tangent at the maxima near 0.75, 1.5 and 2.5 um).
HULL_I_UM = (0.60, 1.80)
HULL_II_UM = (1.20, 2.60)
BOTTOM_LEVEL = 0.5  # the band bottom: deeper than half the band's depth
BOTTOM_DEGREE = 4
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_NOISE_FLOOR_E2 = cfg.READ_NOISE_E ** 2 + cfg.DARK_E_PER_S_20C * cfg.INTEGRATION_S


def log_band(lam, centre_um, fwhm_um, depth):
    """ln of the transmission of one band: a Gaussian in energy whose width matches
    fwhm_um at the centre, scaled so the depth over a flat continuum is `depth`."""
    sig_e = fwhm_um / centre_um ** 2 / _FWHM_PER_SIGMA
    g = np.exp(-0.5 * ((1.0 / lam - 1.0 / centre_um) / sig_e) ** 2)
    return math.log1p(-depth) * g


@dataclass
class _Draw:
    """One spectrum's recipe: continuum terms and bands (name, centre, fwhm, depth)."""

    r055: float
    slope: float  # d ln R / d lambda (1/um)
    uv_depth: float  # ln-reflectance drop at 0.40 um relative to the continuum
    uv_scale_um: float
    bowl: float  # ln amplitude of a broad bowl (> 0) or hump (< 0)
    bowl_centre_um: float
    bowl_sigma_um: float
    bend: float  # ln R quadratic term over (lambda - 1.45 um)^2, 1/um^2
    bands: list  # (truth name or None, centre_um, fwhm_um, depth)


def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def _dark_continuum(rng, kind):
    """Continuum recipe of the dark types (DeMeo et al. 2009 shapes, ranges approximate)."""
    r055 = _u(rng, 0.03, 0.07)
    slope = {"C": _u(rng, -0.02, 0.12), "B": _u(rng, -0.15, -0.02), "Cb": _u(rng, -0.03, 0.05),
             "Ch": _u(rng, -0.02, 0.10), "D": _u(rng, 0.30, 0.60)}[kind]
    uv = {"C": _u(rng, 0.03, 0.15), "B": _u(rng, 0.0, 0.08), "Cb": _u(rng, 0.0, 0.06),
          "Ch": _u(rng, 0.05, 0.18), "D": _u(rng, 0.0, 0.10)}[kind]
    # The near-infrared shape of C-complex spectra: concave up more often than not
    # (bowl > 0), some convex; a broad bowl/hump (sigma >= 0.3 um, FWHM >= 0.7 um, wider
    # than any mineral band of the region) and a quadratic bend.  D-types flatten
    # toward the infrared (convex).
    if kind == "D":
        bowl, bend = _u(rng, -0.06, 0.02), _u(rng, -0.12, 0.0)
    else:
        bowl, bend = _u(rng, -0.03, 0.12), _u(rng, -0.04, 0.10)
    return _Draw(r055, slope, uv, _u(rng, 0.04, 0.09), bowl, _u(rng, 0.90, 1.40),
                 _u(rng, 0.30, 0.55), bend, [])


def _hydrated_oh(rng, d: _Draw, probability):
    if rng.uniform() < probability:
        d.bands.append(("OH_27", _u(rng, 2.70, 2.76), _u(rng, 0.12, 0.20), _u(rng, 0.05, 0.20)))


def _draw_dark(rng, kind):
    d = _dark_continuum(rng, kind)
    if kind == "Ch":
        # 0.7 um Fe2+-Fe3+ charge-transfer band: centre 0.70-0.72 um, depth 1-5 %,
        # spanning ~0.57-0.83 um (Vilas & Gaffey 1989; Rivkin et al. 2002; Fornasier 2014).
        d.bands.append(("PHYLLO_07", _u(rng, 0.70, 0.72), _u(rng, 0.14, 0.24),
                        _u(rng, 0.01, 0.05)))
        _hydrated_oh(rng, d, 1.0)
    elif kind in ("C", "B", "Cb"):
        _hydrated_oh(rng, d, 0.6)
    return d


def _draw_s(rng):
    # S-complex: red slope, strong visible drop-off to a 0.75 um peak, band I a composite
    # of pyroxene (0.90-0.935 um) and olivine (0.85, 1.05, 1.25 um; Sunshine & Pieters
    # 1998 strengths ~0.4 : 1 : 0.6), band II of pyroxene at 1.90-2.00 um.
    f_ol = _u(rng, 0.05, 0.80)
    total = _u(rng, 0.08, 0.25)
    px_c = _u(rng, 0.90, 0.935)
    d = _Draw(_u(rng, 0.15, 0.30), _u(rng, 0.05, 0.30), _u(rng, 0.30, 0.55),
              _u(rng, 0.10, 0.16), _u(rng, -0.03, 0.03), _u(rng, 0.9, 1.4),
              _u(rng, 0.3, 0.55), _u(rng, -0.05, 0.05), [])
    if f_ol < 0.95:
        d.bands.append((None, px_c, _u(rng, 0.17, 0.23), (1.0 - f_ol) * total))
    d.bands.append((None, _u(rng, 0.84, 0.87), 0.16, 0.4 * f_ol * total))
    d.bands.append((None, _u(rng, 1.04, 1.07), 0.20, f_ol * total))
    d.bands.append((None, _u(rng, 1.22, 1.27), 0.32, 0.6 * f_ol * total))
    d.bands.append((None, _u(rng, 1.90, 2.00), _u(rng, 0.45, 0.60),
                    (1.0 - f_ol) * _u(rng, 0.4, 0.8) * total))
    return d


def _draw_v(rng):
    # V-type (HED-like pyroxene): band I 0.92-0.94 um, deep; band II 1.90-2.00 um.
    d = _Draw(_u(rng, 0.25, 0.45), _u(rng, 0.0, 0.20), _u(rng, 0.40, 0.70),
              _u(rng, 0.10, 0.15), 0.0, 1.0, 0.4, _u(rng, -0.03, 0.03), [])
    depth1 = _u(rng, 0.25, 0.50)
    d.bands.append((None, _u(rng, 0.92, 0.94), _u(rng, 0.18, 0.23), depth1))
    d.bands.append((None, _u(rng, 1.90, 2.00), _u(rng, 0.45, 0.60), _u(rng, 0.5, 0.8) * depth1))
    return d


def _draw_m(rng):
    # M/X, Psyche-like: moderate albedo, red and slightly convex, a weak 0.9 um band
    # (0-3 %; FACTS.md ~1 %).
    d = _Draw(_u(rng, 0.10, 0.20), _u(rng, 0.10, 0.30), _u(rng, 0.0, 0.08),
              _u(rng, 0.06, 0.12), _u(rng, -0.02, 0.02), _u(rng, 0.9, 1.4),
              _u(rng, 0.3, 0.55), _u(rng, -0.08, 0.02), [])
    d.bands.append(("M09", _u(rng, 0.88, 0.93), _u(rng, 0.20, 0.30), _u(rng, 0.0, 0.03)))
    return d


def _draw(rng, kind):
    if kind == "S":
        return _draw_s(rng)
    if kind == "V":
        return _draw_v(rng)
    if kind == "M":
        return _draw_m(rng)
    return _draw_dark(rng, kind)


def _log_continuum(lam, d: _Draw):
    x = lam - 0.55
    uv = -d.uv_depth * np.exp(-(lam - 0.40) / d.uv_scale_um)
    bowl = -d.bowl * np.exp(-0.5 * ((lam - d.bowl_centre_um) / d.bowl_sigma_um) ** 2)
    bend = d.bend * (np.minimum(lam, 2.5) - 1.45) ** 2
    shape = d.slope * np.minimum(x, 1.95) + uv + bowl + bend
    at055 = (-d.uv_depth * math.exp(-0.15 / d.uv_scale_um)
             - d.bowl * math.exp(-0.5 * ((0.55 - d.bowl_centre_um) / d.bowl_sigma_um) ** 2)
             + d.bend * 0.9 ** 2)
    return math.log(d.r055) + shape - at055


def _log_bands(lam, d: _Draw, which=None):
    out = np.zeros_like(lam)
    for name, c, fwhm, depth in d.bands:
        if depth > 0 and (which is None or name in which):
            out += log_band(lam, c, fwhm, depth)
    return out


def taper(wavelength_um):
    """The instrument's relative response above TAPER_START_UM (thermal-tail taper of
    flightsw.instrument_config, evaluated with the simulator's Sun and Planck)."""
    lam = np.asarray(wavelength_um, dtype=float)
    design = cfg.DESIGN_IF * sun_irradiance(lam, cfg.DESIGN_DISTANCE_AU) / np.pi
    ratio = black_body_radiance(lam, cfg.TAPER_DESIGN_TEMP_K) / design
    return np.where(lam > cfg.TAPER_START_UM,
                    np.minimum(1.0, cfg.TAPER_HEADROOM / (1.0 + ratio)), 1.0)


def probe_sigma(wavelength_um, reflectance, snr_scale=1.0):
    """1-sigma per channel of a reflectance spectrum seen by the probe's spectrometer at
    its design point: shot + read + dark noise, SNR 50 on a 3 % surface."""
    r = np.clip(np.asarray(reflectance, dtype=float), 1e-4, None)
    signal_e = cfg.SIGNAL_3PCT_E * (r / cfg.DESIGN_IF) * taper(wavelength_um) * snr_scale ** 2
    return r * np.sqrt(signal_e + _NOISE_FLOOR_E2 * snr_scale ** 2) / signal_e


@dataclass
class RealisticSet:
    wavelength_um: np.ndarray
    reflectance: np.ndarray  # (N, C) noisy
    sigma: np.ndarray  # (N, C) the noise's 1-sigma
    clean: np.ndarray  # (N, C) noise-free
    continuum: np.ndarray  # (N, C) the noise-free continuum (clean = continuum x bands)
    types: np.ndarray  # (N,) type names
    has_band: np.ndarray  # (N, 5) bool, BAND_NAMES order
    depth: np.ndarray  # (N, 5) truth depth (0 where the type has no such band)
    centre_um: np.ndarray  # (N, 5) truth centre (NaN where no band)
    band1_centre_um: np.ndarray  # (N,) S and V band I centre (NaN otherwise)
    band2_centre_um: np.ndarray
    band_area_ratio: np.ndarray  # (N,) S and V: area band II / area band I
    weak09_depth: np.ndarray  # (N,) M/X 0.9 um band depth (0 otherwise)

    def of(self, *kinds) -> np.ndarray:
        return np.isin(self.types, kinds)


def upper_hull(x, y):
    """The upper convex hull of the points (x, y) (x increasing), interpolated on x."""
    hull = [0]
    for i in range(1, x.size):
        # Drop the last vertex while it lies on or below the chord to the new point.
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(x, x[hull], y[hull])


def bottom_centre(x, removed, x_min, depth, level=BOTTOM_LEVEL, degree=BOTTOM_DEGREE):
    """Band centre as it is measured (Cloutis et al. 1986; Gaffey et al. 1993): the
    minimum of a low-order polynomial fitted to the bottom of the continuum-removed
    band, here where it is deeper than `level` x its depth, around x_min.  A composite
    band (S-type band I: pyroxene and olivine) can be nearly flat at the bottom; its
    raw minimum then jumps with the smallest change, the polynomial's does not."""
    cut = 1.0 - level * depth
    j = int(np.argmin(np.abs(x - x_min)))
    lo = j
    while lo > 0 and removed[lo - 1] < cut:
        lo -= 1
    hi = j
    while hi < x.size - 1 and removed[hi + 1] < cut:
        hi += 1
    xs = x[lo:hi + 1]
    coef = np.polyfit(xs - x_min, removed[lo:hi + 1], degree)
    fine = np.linspace(xs[0], xs[-1], 2001)
    return float(fine[np.argmin(np.polyval(coef, fine - x_min))])


def _truth(d: _Draw, kind):
    """Depth and centre per band from the noise-free spectrum over its known continuum."""
    lam = FINE_UM
    removed = np.exp(_log_bands(lam, d))
    has = np.zeros(5, bool)
    depth = np.zeros(5)
    centre = np.full(5, np.nan)
    names = {b[0] for b in d.bands}
    if kind in ("S", "V"):
        has[1] = True
        has[3] = True
    if kind == "S":
        has[2] = True  # band I is an olivine-pyroxene composite
    if "PHYLLO_07" in names:
        has[0] = True
    if "OH_27" in names:
        has[4] = True
    for k, name in enumerate(BAND_NAMES):
        if not has[k]:
            continue
        lo, hi = _TRUTH_RANGE[name]
        sel = (lam >= lo) & (lam <= hi)
        part = removed if kind in ("S", "V") else np.exp(_log_bands(lam, d, {name}))
        j = int(np.argmin(part[sel]))
        depth[k] = 1.0 - part[sel][j]
        centre[k] = lam[sel][j]
    b1 = b2 = bar = math.nan
    if kind in ("S", "V"):
        # Silicate bands as they are measured (Cloutis et al. 1986, Gaffey et al. 1993):
        # over a straight-line continuum tangent to the reflectance maxima either side
        # (the upper convex hull of the noise-free spectrum over HULL_I_UM / HULL_II_UM),
        # centre = minimum of a quartic fitted to the band bottom (bottom_centre); band
        # area ratio = area II / area I.
        r = np.exp(_log_continuum(lam, d) + _log_bands(lam, d))
        areas = []
        for k, (h_lo, h_hi), (lo, hi), (a_lo, a_hi) in (
                (1, HULL_I_UM, (0.80, 1.20), (0.60, 1.55)),
                (3, HULL_II_UM, (1.60, 2.30), (1.55, 2.60))):
            sel = (lam >= h_lo) & (lam <= h_hi)
            x, removed = lam[sel], r[sel] / upper_hull(lam[sel], r[sel])
            in_b = (x >= lo) & (x <= hi)
            j = int(np.argmin(removed[in_b]))
            depth[k] = 1.0 - removed[in_b][j]
            centre[k] = bottom_centre(x, removed, x[in_b][j], depth[k])
            in_a = (x >= a_lo) & (x <= a_hi)
            areas.append(float(np.sum(1.0 - removed[in_a]) * (lam[1] - lam[0])))
        b1, b2 = centre[1], centre[3]
        bar = areas[1] / areas[0]
    w09 = next((b[3] for b in d.bands if b[0] == "M09"), 0.0)
    return has, depth, centre, b1, b2, bar, w09


def make_set(n_per_type=200, seed=1, wavelength_um=None, types=TYPES, snr_scale=1.0,
             s_band1_range_um=(0.90, 1.00)):
    """n_per_type noisy spectra of each type on `wavelength_um` (default: the probe's
    grid) with their truth.  S-types are redrawn until the truth band I centre lies in
    s_band1_range_um (the range real S-types span, Gaffey et al. 1993)."""
    wl = cfg.WAVELENGTH_UM if wavelength_um is None else np.asarray(wavelength_um, float)
    rng = np.random.default_rng(seed)
    rows = []
    lo, hi = s_band1_range_um
    for kind in types:
        made = 0
        per_bin = np.zeros(S_CENTRE_BINS, int)
        while made < n_per_type:
            d = _draw(rng, kind)
            t = _truth(d, kind)
            if kind == "S":
                # Band I centres spread evenly over the range (ten bins, each filled to
                # its share), not bunched where the recipe puts most draws.
                if not lo <= t[3] <= hi:
                    continue
                b = min(int((t[3] - lo) / (hi - lo) * S_CENTRE_BINS), S_CENTRE_BINS - 1)
                if per_bin[b] >= -(-n_per_type // S_CENTRE_BINS):
                    continue
                per_bin[b] += 1
            log_cont = _log_continuum(wl, d)
            rows.append((kind, np.exp(log_cont + _log_bands(wl, d)), t, np.exp(log_cont)))
            made += 1
    clean = np.stack([r[1] for r in rows])
    sigma = probe_sigma(wl, clean, snr_scale)
    noisy = clean + rng.normal(size=clean.shape) * sigma
    tr = [r[2] for r in rows]
    return RealisticSet(
        wavelength_um=wl, reflectance=noisy, sigma=sigma, clean=clean,
        continuum=np.stack([r[3] for r in rows]),
        types=np.array([r[0] for r in rows]),
        has_band=np.stack([t[0] for t in tr]), depth=np.stack([t[1] for t in tr]),
        centre_um=np.stack([t[2] for t in tr]),
        band1_centre_um=np.array([t[3] for t in tr]), band2_centre_um=np.array([t[4] for t in tr]),
        band_area_ratio=np.array([t[5] for t in tr]), weak09_depth=np.array([t[6] for t in tr]))



# ----------------------------------------------------------------------------- scoring

PRESENT_07 = 0.02  # a 0.7 um band at least this deep must be found
S_FLAG_BANDS = ("PYX_09", "OL_105", "PYX_19")  # any of these flags a silicate (S-like) body
ONE_UM_BANDS = ("PYX_09", "OL_105")


def score(s: RealisticSet, out: dict) -> dict:
    """The issue-18 figures of an analyse_bands output on the set (column order by name).

    phyllo_recall / phyllo_precision: 0.7 um band, positives the Ch spectra with a truth
    depth >= PRESENT_07, negatives every spectrum without the band (the Ch spectra with a
    1-2 % band are neither; their detection rate is phyllo_shallow_rate);
    one_um_false_dark: fraction of the dark featureless-at-1-um types (C, B, Cb, Ch, D)
    with PYX_09 or OL_105 detected; s_band1_err_nm: |PYX_09 centre - truth band I centre|
    of the S-types (median, p95, max; NaN centres count as missing); s_vs_c_balanced:
    balanced accuracy of "S_FLAG_BANDS any detected" between S and C-complex types."""
    names = list(out["names"])
    det = np.asarray(out["detected"], bool)

    def col(name):
        return det[:, names.index(name)]

    k07 = BAND_NAMES.index("PHYLLO_07")
    pos = s.has_band[:, k07] & (s.depth[:, k07] >= PRESENT_07)
    neg = ~s.has_band[:, k07]
    shallow = s.has_band[:, k07] & ~pos
    d07 = col("PHYLLO_07")
    tp, fp = int((d07 & pos).sum()), int((d07 & neg).sum())
    one_um = col("PYX_09") | col("OL_105")
    dark = s.of(*DARK_TYPES)
    s_types, c_types = s.of("S"), s.of(*C_COMPLEX)
    flag = np.zeros(len(s.types), bool)
    for name in S_FLAG_BANDS:
        flag |= col(name)
    centre = np.asarray(out["centre_um"])[:, names.index("PYX_09")]
    err_nm = np.abs(centre[s_types] - s.band1_centre_um[s_types]) * 1000.0
    finite = np.isfinite(err_nm)
    tpr, tnr = flag[s_types].mean(), (~flag[c_types]).mean()
    return {
        "phyllo_recall": tp / max(int(pos.sum()), 1),
        "phyllo_precision": tp / max(tp + fp, 1),
        "phyllo_tp": tp, "phyllo_fp": fp, "phyllo_pos": int(pos.sum()),
        "phyllo_neg": int(neg.sum()),
        "phyllo_shallow_rate": float(d07[shallow].mean()) if shallow.any() else math.nan,
        "phyllo_false_by_type": {k: float(d07[s.of(k)].mean()) for k in TYPES if k != "Ch"},
        "one_um_false_dark": float(one_um[dark].mean()),
        "one_um_false_by_type": {k: float(one_um[s.of(k)].mean()) for k in DARK_TYPES},
        "s_band1_err_nm": (float(np.median(err_nm[finite])) if finite.any() else math.nan,
                           float(np.percentile(err_nm[finite], 95)) if finite.any() else math.nan,
                           float(err_nm[finite].max()) if finite.any() else math.nan),
        "s_band1_missing": int((~finite).sum()),
        "s_vs_c_balanced": 0.5 * (tpr + tnr), "s_flagged": float(tpr),
        "c_flagged": float(1.0 - tnr),
        "flags_by_type": {k: float(flag[s.of(k)].mean()) for k in TYPES},
    }
