"""The named absorption bands the prospector looks for (FACTS.md).

Shoulders are where the linear continuum is anchored (Clark & Roush 1984:
D = 1 - R_band / R_continuum); the search window is where the band minimum
may lie.  Order is the ICD's (PROBE_SPECTRUM_RESULT.depth[k]).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    name: str
    centre_um: float  # nominal centre
    left_shoulder_um: float
    right_shoulder_um: float
    search_um: tuple[float, float]  # the minimum is looked for in here
    what: str


BANDS = (
    Band("PHYLLO_07", 0.70, 0.55, 0.87, (0.63, 0.78), "phyllosilicate Fe charge transfer"),
    Band("PYX_09", 0.92, 0.75, 1.25, (0.86, 1.00), "pyroxene band I"),
    Band("OL_105", 1.05, 0.75, 1.60, (1.00, 1.12), "olivine composite band"),
    Band("PYX_19", 1.90, 1.45, 2.40, (1.80, 2.05), "pyroxene band II"),
    Band("OH_27", 2.73, 2.55, 3.05, (2.68, 2.80), "structural OH in phyllosilicates"),
)
BAND_INDEX = {b.name: k for k, b in enumerate(BANDS)}

# Metal index: continuum slope between these windows (um, half-width WINDOW_UM) times albedo.
SLOPE_BLUE_UM = 0.55
SLOPE_RED_UM = 2.30
SLOPE_WINDOW_UM = 0.03
