"""Independent synthetic oracle for band tests: linear continuum x (1 - D * Gaussian)."""

import numpy as np


def construct(wl, band, depth, centre, width_um, base=0.03, slope=0.1):
    """Reflectance with one Gaussian band of `depth` at `centre` (um) on a red continuum
    (`band` names the band for the reader; the shape is given by the other arguments)."""
    cont = base * (1.0 + slope * (wl - 1.0))
    return cont * (1.0 - depth * np.exp(-0.5 * ((wl - centre) / width_um) ** 2))


def width_for(band):
    """A Gaussian width that keeps the band inside its shoulders (0.2 x the nearer gap)."""
    return 0.2 * min(band.centre_um - band.left_shoulder_um,
                     band.right_shoulder_um - band.centre_um)
