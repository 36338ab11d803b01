"""Per-site co-added reflectance spectra and their band analysis.

One spectrum at SNR 50 cannot place a weak, broad band: for a 3 % olivine band on
the instrument's grid the Cramer-Rao bound on the centre is about 22 nm
(docs/band_analysis.md).  A site is seen by many spectra during the survey, so the
flight keeps, per site, the weighted mean of the standard reflectance of every
accepted spectrum and runs the band analysis on that mean: the noise falls as
1/sqrt(n) and so does the centre error.

Weights are one number per spectrum, 1 / mean(sigma^2) over its channels, so the
co-added spectrum is an areal mixture of what the spectra saw (a per-channel weight
would make each channel a different mixture and bend the band shapes).  The sigma
of the mean is propagated per channel: sum(w^2 sigma^2) / (sum w)^2.
"""

from __future__ import annotations

import numpy as np

from flightsw.prospect.band_catalogue import BANDS
from flightsw.prospect.bands import FLIGHT_METHOD, analyse_bands, plan_bands


def coadd_weight(reflectance_sigma) -> np.ndarray:
    """Per-spectrum co-add weight 1 / mean(sigma^2) of (N, C) sigmas; 0 where unusable."""
    sig = np.asarray(reflectance_sigma, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = 1.0 / np.mean(sig ** 2, axis=-1)
    return np.where(np.isfinite(w) & (w > 0), w, 0.0)


class SiteSpectra:
    """Weighted sums of reflectance per site; `mean` and `analyse` read them out."""

    def __init__(self, n_sites: int, wavelength_um):
        if n_sites < 1:
            raise ValueError("SiteSpectra: n_sites must be >= 1")
        self.wavelength_um = np.asarray(wavelength_um, dtype=float)
        c = self.wavelength_um.size
        self.n_sites = int(n_sites)
        self._sw = np.zeros(self.n_sites)
        self._swr = np.zeros((self.n_sites, c))
        self._sw2s2 = np.zeros((self.n_sites, c))  # sum of w^2 sigma^2
        self.n_spectra = np.zeros(self.n_sites, dtype=np.int64)
        self._plans = plan_bands(self.wavelength_um, BANDS, method=FLIGHT_METHOD)

    def add(self, site_ids, reflectance, reflectance_sigma, weight=None) -> int:
        """Add (N, C) spectra of sites (N,); rows with a site out of range, a zero weight
        or a non-finite channel are skipped.  Returns how many were added."""
        sites = np.asarray(site_ids, dtype=np.int64).reshape(-1)
        if sites.size == 0:
            return 0
        refl = np.asarray(reflectance, dtype=float).reshape(sites.size, -1)
        sig = np.asarray(reflectance_sigma, dtype=float).reshape(refl.shape)
        if refl.shape[1] != self.wavelength_um.size:
            raise ValueError(f"SiteSpectra.add: {refl.shape[1]} channels, expected "
                             f"{self.wavelength_um.size}")
        w = coadd_weight(sig) if weight is None else np.asarray(weight, dtype=float).reshape(-1)
        ok = (sites >= 0) & (sites < self.n_sites) & (w > 0) & np.isfinite(w) \
            & np.isfinite(refl).all(axis=1) & np.isfinite(sig).all(axis=1)
        if not ok.any():
            return 0
        s, w, refl, sig = sites[ok], w[ok], refl[ok], sig[ok]
        # Unbuffered adds: one site may appear several times in a batch.
        np.add.at(self._sw, s, w)
        np.add.at(self._swr, s, w[:, None] * refl)
        np.add.at(self._sw2s2, s, (w[:, None] * sig) ** 2)
        np.add.at(self.n_spectra, s, 1)
        return int(s.size)

    def mean(self, site_ids) -> tuple[np.ndarray, np.ndarray]:
        """Co-added reflectance and its sigma, (k, C) each; NaN rows for unseen sites."""
        s = np.asarray(site_ids, dtype=np.int64).reshape(-1)
        sw = self._sw[s][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            refl = np.where(sw > 0, self._swr[s] / sw, np.nan)
            sig = np.where(sw > 0, np.sqrt(self._sw2s2[s]) / sw, np.nan)
        return refl, sig

    def analyse(self, site_ids, min_spectra: int = 1) -> dict:
        """Band analysis of the co-added spectra of `site_ids`: analyse_bands' dict plus
        'site' and 'n_spectra'; sites with fewer than min_spectra are left out."""
        s = np.asarray(site_ids, dtype=np.int64).reshape(-1)
        s = s[self.n_spectra[s] >= max(1, int(min_spectra))]
        refl, sig = self.mean(s)
        with np.errstate(all="ignore"):
            out = analyse_bands(self.wavelength_um, refl, BANDS, sig, plans=self._plans,
                                method=FLIGHT_METHOD)
        out["site"] = s
        out["n_spectra"] = self.n_spectra[s].copy()
        return out
