"""The named absorption bands the prospector looks for (FACTS.md).

Shoulders are where the linear continuum is anchored (Clark & Roush 1984:
D = 1 - R_band / R_continuum); the search window is where the band minimum
may lie.  Order is the ICD's (PROBE_SPECTRUM_RESULT.depth[k]).

Each band also carries how the curved-continuum fit (bands.analyse_bands'
method "fit", flightsw/prospect/band_fit.py) measures it: the window over which a
low-order log-continuum and the band are fitted together, where the band centre may
lie (set to where the bands of real asteroids lie, docs/band_analysis.md), the range
of its Gaussian width, the prior spread of the continuum's curvature, and for the
silicate bands the range whose upper convex hull anchors a strong band's centre.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class BandFit:
    window_um: tuple[float, float]  # continuum and band fitted together over this range
    search_um: tuple[float, float]  # the band centre lies in here
    sigma_um: tuple[float, float]  # Gaussian 1-sigma width (wavelength) of the band
    bend_sigma_per_um2: float  # prior 1-sigma of d2 ln(continuum) / d lambda2
    # Where the straight-line continuum of a strong band's centre is anchored: the upper
    # convex hull of the spectrum over this range (None: the fitted Gaussian's centre).
    hull_um: tuple[float, float] | None = None
    degree: int = 2  # of the log-continuum polynomial (2 or 3)


@dataclass(frozen=True)
class Band:
    name: str
    centre_um: float  # nominal centre
    left_shoulder_um: float
    right_shoulder_um: float
    search_um: tuple[float, float]  # the minimum is looked for in here
    what: str
    fit: BandFit | None = None  # None: derived from the shoulders (band_fit.fit_of)


BANDS = (
    Band("PHYLLO_07", 0.70, 0.55, 0.87, (0.63, 0.78), "phyllosilicate Fe charge transfer",
         BandFit((0.53, 1.45), (0.64, 0.78), (0.05, 0.12), 2.0)),
    Band("PYX_09", 0.92, 0.75, 1.25, (0.86, 1.00), "pyroxene band I",
         BandFit((0.65, 1.70), (0.85, 1.05), (0.05, 0.14), 2.0, hull_um=(0.60, 1.80),
                 degree=3)),
    Band("OL_105", 1.05, 0.75, 1.60, (1.00, 1.12), "olivine composite band",
         BandFit((0.65, 1.80), (1.00, 1.12), (0.08, 0.20), 2.0, hull_um=(0.60, 1.80),
                 degree=3)),
    Band("PYX_19", 1.90, 1.45, 2.40, (1.80, 2.05), "pyroxene band II",
         BandFit((1.40, 2.50), (1.80, 2.10), (0.12, 0.35), 1.0, hull_um=(1.20, 2.60),
                 degree=3)),
    Band("OH_27", 2.73, 2.55, 3.05, (2.68, 2.80), "structural OH in phyllosilicates",
         BandFit((2.50, 3.10), (2.68, 2.80), (0.02, 0.08), 2.0)),
)
BAND_INDEX = {b.name: k for k, b in enumerate(BANDS)}

# Metal index: continuum slope between these windows (um, half-width WINDOW_UM) times albedo.
SLOPE_BLUE_UM = 0.55
SLOPE_RED_UM = 2.30
SLOPE_WINDOW_UM = 0.03
