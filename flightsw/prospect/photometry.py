"""The photometric model shared by the simulator and the pipeline.

Reflectance in this project means the reflectance factor at the standard
laboratory geometry (incidence 30 deg, emission 0 deg, phase 30 deg).  What the
spectrometer sees, I/F, is that reflectance times a Lommel-Seeliger disk
function, an exponential phase function and phase reddening (the spectral
slope grows by PHASE_REDDENING_PER_UM_DEG per degree of phase; FACTS.md:
Bennu 0.00044 um^-1 per degree), all relative to the standard geometry.
"""

import numpy as np

STD_INCIDENCE_DEG = 30.0
STD_EMISSION_DEG = 0.0
STD_PHASE_DEG = 30.0
PHASE_COEFF_PER_DEG = 0.035  # exponential phase function (dark asteroid surfaces ~0.03-0.04)
PHASE_REDDENING_PER_UM_DEG = 0.00044
REDDENING_PIVOT_UM = 0.55


def _lommel_seeliger(cos_i, cos_e):
    return cos_i / (cos_i + cos_e)


_STD_DISK = _lommel_seeliger(np.cos(np.radians(STD_INCIDENCE_DEG)),
                             np.cos(np.radians(STD_EMISSION_DEG)))


def photometric_factor(cos_i, cos_e, phase_deg, wavelength_um):
    """I/F divided by standard reflectance, shape broadcast(cos_i, wavelength)."""
    cos_i = np.asarray(cos_i, dtype=float)[..., None]
    cos_e = np.asarray(cos_e, dtype=float)[..., None]
    phase = np.asarray(phase_deg, dtype=float)[..., None]
    lam = np.asarray(wavelength_um, dtype=float)
    disk = _lommel_seeliger(cos_i, cos_e) / _STD_DISK
    phase_fn = np.exp(-PHASE_COEFF_PER_DEG * (phase - STD_PHASE_DEG))
    redden = 1.0 + PHASE_REDDENING_PER_UM_DEG * (phase - STD_PHASE_DEG) * (lam - REDDENING_PIVOT_UM)
    return disk * phase_fn * redden
