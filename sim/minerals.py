"""The minerals of the simulated surface: their laboratory spectra, and the ground truth of
their absorption bands.

The simulator's own table and code, not the flight software's band catalogue: the truth
of a band (its depth and centre on a 1 nm grid) is measured here by the same published
definition the flight software applies to noisy spectra (Clark & Roush 1984: a linear
continuum between two shoulders, D = 1 - R / R_continuum at the minimum inside a search
window), so the two can be compared; a change to the flight's catalogue must show as a
band error, not move the truth.

* ``endmember_reflectance(wavelength_um, ...)``: five laboratory-style reflectance spectra
  (standard geometry, see sim.radiometry) in the order of ``ENDMEMBERS``: carbonaceous
  dark matrix, phyllosilicate, olivine, pyroxene, metal.  Absorption bands are Gaussians in
  energy (1/lambda) applied in log reflectance, the modified-Gaussian style of Sunshine et
  al. (1990), at the positions of FACTS.md.
* ``BANDS``: the five named bands in the ICD's order (PROBE_SPECTRUM_RESULT.depth[k]:
  PHYLLO_07, PYX_09, OL_105, PYX_19, OH_27), with their shoulders and search windows.
* ``band_truth`` and ``metal_index``: the truth of any spectrum on any grid.
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BANDS",
    "BAND_INDEX",
    "ENDMEMBERS",
    "FINE_WAVELENGTH_UM",
    "AbsorptionBand",
    "band_truth",
    "endmember_reflectance",
    "metal_index",
    "modified_gaussian_band",
]

ENDMEMBERS = ("dark", "phyllosilicate", "olivine", "pyroxene", "metal")
DARK, PHYLLO, OLIVINE, PYROXENE, METAL = range(len(ENDMEMBERS))

#: Truth is evaluated on this grid (1 nm): finer than the instrument, so the truth does not
#: inherit the instrument's sampling.
FINE_WAVELENGTH_UM = np.round(np.arange(0.400, 3.5005, 0.001), 6)


@dataclass(frozen=True)
class AbsorptionBand:
    name: str  # as the ICD names it
    centre_um: float  # nominal centre, for plots
    left_shoulder_um: float  # the linear continuum is anchored at the two shoulders
    right_shoulder_um: float
    search_um: tuple[float, float]  # the band minimum lies in here
    mineral: str


BANDS = (
    AbsorptionBand("PHYLLO_07", 0.70, 0.55, 0.87, (0.63, 0.78),
                   "phyllosilicate: Fe2+-Fe3+ charge transfer"),
    AbsorptionBand("PYX_09", 0.92, 0.75, 1.25, (0.86, 1.00), "pyroxene: band I"),
    AbsorptionBand("OL_105", 1.05, 0.75, 1.60, (1.00, 1.12), "olivine: composite M1/M2 band"),
    AbsorptionBand("PYX_19", 1.90, 1.45, 2.40, (1.80, 2.05), "pyroxene: band II"),
    AbsorptionBand("OH_27", 2.73, 2.55, 3.05, (2.68, 2.80),
                   "phyllosilicate: structural OH"),
)
BAND_INDEX = {b.name: k for k, b in enumerate(BANDS)}

# Metal index: albedo times the normalised red slope between these two windows (centres,
# and half-width of each window), um.
METAL_BLUE_UM = 0.55
METAL_RED_UM = 2.30
METAL_WINDOW_HALF_UM = 0.03

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


# ----------------------------------------------------------------------------- endmembers


def modified_gaussian_band(wavelength_um, centre_um: float, fwhm_um: float, depth: float):
    """Multiplicative transmission of one band: exp(ln(1 - depth) * g), g a Gaussian in
    energy (1/lambda) whose width matches ``fwhm_um`` at the centre.  Depth at the centre
    over a flat continuum is exactly ``depth``."""
    if not 0.0 <= depth < 1.0:
        raise ValueError(f"depth must be in [0, 1), got {depth}")
    if fwhm_um <= 0.0 or centre_um <= 0.0:
        raise ValueError("centre_um and fwhm_um must be positive")
    lam = np.asarray(wavelength_um, dtype=float)
    sigma_inv_um = fwhm_um / centre_um ** 2 / _FWHM_PER_SIGMA
    g = np.exp(-0.5 * ((1.0 / lam - 1.0 / centre_um) / sigma_inv_um) ** 2)
    return np.exp(math.log1p(-depth) * g)


def _continuum(lam, r055: float, slope_per_um: float):
    # Linear in wavelength, relative to the 0.55 um albedo (slope > 0 is red).
    return r055 * (1.0 + slope_per_um * (lam - 0.55))


def endmember_reflectance(wavelength_um, oh_centre_um: float = 2.74,
                          dark_albedo: float = 0.037) -> np.ndarray:
    """Standard-geometry reflectance of the five ``ENDMEMBERS``, shape (5, len(wavelength)).

    ``oh_centre_um``: centre of the structural-OH band (2.74 Bennu, 2.72 Ryugu; FACTS.md).
    ``dark_albedo``: 0.55 um reflectance of the carbonaceous matrix.
    """
    lam = np.asarray(wavelength_um, dtype=float)
    if lam.ndim != 1 or np.any(lam <= 0.0):
        raise ValueError("wavelength_um must be a 1-D array of positive wavelengths")
    if not 2.6 <= oh_centre_um <= 2.9:
        raise ValueError(f"oh_centre_um must be in [2.6, 2.9], got {oh_centre_um}")
    if not 0.005 <= dark_albedo <= 0.2:
        raise ValueError(f"dark_albedo must be in [0.005, 0.2], got {dark_albedo}")
    mg = modified_gaussian_band
    # Carbonaceous matrix: dark, featureless, slightly blue (B-type).
    dark = _continuum(lam, dark_albedo, -0.04)
    # Phyllosilicate (CM-like serpentine in a dark host): Fe2+-Fe3+ charge transfer near
    # 0.69 um and structural OH; the OH band is deep in the pure endmember so that a
    # ~45 % areal fraction gives Bennu's ~15-20 % (FACTS.md).
    phyllo = (_continuum(lam, 0.050, 0.02) * mg(lam, 0.69, 0.20, 0.075)
              * mg(lam, oh_centre_um, 0.16, 0.42))
    # Olivine: composite 1.05 um band of three (M1, M2, M1) absorptions, no 2 um band.
    olivine = (_continuum(lam, 0.15, 0.10) * mg(lam, 0.86, 0.16, 0.08)
               * mg(lam, 1.035, 0.20, 0.30) * mg(lam, 1.24, 0.32, 0.18))
    # Pyroxene: band I near 0.92 um, band II near 1.9 um.
    pyroxene = (_continuum(lam, 0.15, 0.05) * mg(lam, 0.92, 0.20, 0.30)
                * mg(lam, 1.905, 0.45, 0.20))
    # Metal: bright, featureless, red; a weak 0.9 um band (~1 %, FACTS.md).
    metal = _continuum(lam, 0.15, 0.25) * mg(lam, 0.90, 0.20, 0.012)
    return np.stack([dark, phyllo, olivine, pyroxene, metal])


# ----------------------------------------------------------------------------- truth


def _grid_index(lam: np.ndarray, x_um: float) -> int:
    return int(np.argmin(np.abs(lam - x_um)))


def band_truth(wavelength_um, reflectance) -> tuple[np.ndarray, np.ndarray]:
    """Band depth and centre for every band of ``BANDS`` (Clark & Roush 1984).

    Linear continuum between the shoulders; the depth D = 1 - R/R_cont is taken at the
    minimum of the continuum-removed spectrum inside the band's search window, whose
    wavelength is the centre.  Without a band D can be slightly negative: it is returned as
    is.  ``reflectance`` (..., n_wl) -> (depth (..., 5), centre_um (..., 5)).
    """
    lam = np.asarray(wavelength_um, dtype=float)
    r = np.asarray(reflectance, dtype=float)
    depth = np.empty(r.shape[:-1] + (len(BANDS),))
    centre = np.empty_like(depth)
    for k, b in enumerate(BANDS):
        i_l, i_r = _grid_index(lam, b.left_shoulder_um), _grid_index(lam, b.right_shoulder_um)
        s_lo, s_hi = _grid_index(lam, b.search_um[0]), _grid_index(lam, b.search_um[1])
        r_l, r_r = r[..., i_l : i_l + 1], r[..., i_r : i_r + 1]
        seg = lam[s_lo : s_hi + 1]
        frac = (seg - lam[i_l]) / (lam[i_r] - lam[i_l])
        cont = r_l + (r_r - r_l) * frac
        removed = r[..., s_lo : s_hi + 1] / cont
        j = np.argmin(removed, axis=-1)
        depth[..., k] = 1.0 - np.take_along_axis(removed, j[..., None], axis=-1)[..., 0]
        centre[..., k] = seg[j]
    return depth, centre


def _window_mean(lam, r, centre_um):
    sel = np.abs(lam - centre_um) <= METAL_WINDOW_HALF_UM + 1e-9
    return r[..., sel].mean(axis=-1)


def metal_index(wavelength_um, reflectance) -> np.ndarray:
    """R(0.55) * (R(2.30) - R(0.55)) / (R(0.55) * 1.75 um): albedo times normalised red
    slope, each R a mean over +-METAL_WINDOW_HALF_UM.  (..., n_wl) -> (...)."""
    lam = np.asarray(wavelength_um, dtype=float)
    r = np.asarray(reflectance, dtype=float)
    blue = _window_mean(lam, r, METAL_BLUE_UM)
    red = _window_mean(lam, r, METAL_RED_UM)
    slope = (red - blue) / (blue * (METAL_RED_UM - METAL_BLUE_UM))
    return blue * slope
