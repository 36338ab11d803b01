"""Band analysis on realistic asteroid spectra (issue 18): the test set of
realistic_spectra.py, every type, the probe's grid and noise.

Pinned here: the set's truth is what the literature says of each type (so the figures
below mean what they say); the curved-continuum fit (method "fit") meets the issue's
targets where one spectrum carries the information and, for the weak 0.7 um band, on
four co-added spectra (what a site's co-add gives); the straight-line method fails the
same set the way the review found on real spectra; missing channels and a telescope
grid short of 3 um leave the other bands measured.  The full figures (more spectra,
16 co-added, timing) are bench/bench_bands_realistic.py's.
"""

import numpy as np
import pytest
import realistic_spectra as rs

from flightsw.prospect.band_catalogue import BAND_INDEX
from flightsw.prospect.bands import analyse_bands

N_PER_TYPE = 80
SEED = 18  # not one of the seeds the fit was tuned on (101) or benchmarked on (2018)


@pytest.fixture(scope="module")
def one_spectrum():
    return rs.make_set(N_PER_TYPE, seed=SEED)


@pytest.fixture(scope="module")
def four_coadded():
    return rs.make_set(N_PER_TYPE, seed=SEED + 1, snr_scale=2.0)


def analyse(s, method="fit", reflectance=None):
    refl = s.reflectance if reflectance is None else reflectance
    return analyse_bands(s.wavelength_um, refl, sigma_2d=s.sigma, method=method)


def test_the_set_is_what_the_literature_says_of_each_type(one_spectrum):
    s = one_spectrum
    b1, b2 = s.band1_centre_um, s.band2_centre_um
    assert np.all((b1[s.of("S")] >= 0.90) & (b1[s.of("S")] <= 1.00))
    assert np.all((b1[s.of("V")] >= 0.915) & (b1[s.of("V")] <= 0.945))
    assert np.all((b2[s.of("S", "V")] >= 1.85) & (b2[s.of("S", "V")] <= 2.05))
    assert np.median(s.band_area_ratio[s.of("V")]) > 2 * np.median(s.band_area_ratio[s.of("S")])
    k07 = BAND_INDEX["PHYLLO_07"]
    ch = s.of("Ch")
    assert np.all(s.has_band[ch, k07])
    assert np.all((s.depth[ch, k07] > 0.009) & (s.depth[ch, k07] < 0.051))
    assert np.all((s.centre_um[ch, k07] > 0.69) & (s.centre_um[ch, k07] < 0.73))
    featureless = s.of("C", "B", "Cb", "D", "M")
    assert not s.has_band[featureless][:, :4].any()
    assert np.all(s.weak09_depth[s.of("M")] <= 0.03)
    # The continuum of the dark types is curved across the 1 um window: for about half
    # of them the chord from 0.75 to 1.25 um passes over 1.0 um by 0.5 % or more (up to
    # ~2 %), a dip the straight-line fit then deepens with the noise.
    wl = s.wavelength_um
    i75, i100, i125 = (int(np.argmin(np.abs(wl - v))) for v in (0.75, 1.0, 1.25))
    chord = 0.5 * (s.continuum[:, i75] + s.continuum[:, i125])
    deficit = 1.0 - s.continuum[:, i100] / chord
    assert np.mean(deficit[s.of("C", "B", "Cb")] > 0.005) > 0.3


def test_noise_is_the_probes():
    """SNR 50 per channel on a 3 % surface below the taper (instrument_config)."""
    wl = rs.cfg.WAVELENGTH_UM
    refl = np.full(wl.size, 0.03)
    snr = refl / rs.probe_sigma(wl, refl)
    assert np.allclose(snr[wl < 2.4], 50.0, rtol=1e-9)
    assert np.all(snr[wl > 3.0] < 50.0)


def test_fit_on_one_spectrum(one_spectrum):
    sc = rs.score(one_spectrum, analyse(one_spectrum))
    assert sc["one_um_false_dark"] <= 0.05
    assert sc["s_vs_c_balanced"] >= 0.97
    assert sc["s_band1_err_nm"][0] <= 10.0 and sc["s_band1_missing"] == 0
    assert sc["phyllo_precision"] >= 0.95
    # One spectrum at SNR 50-70 carries about 0.006 of depth sigma for the 0.7 um band
    # (docs/band_analysis.md): a 2 % band is about 3 sigma, so 0.6-0.7 of the 2-5 %
    # bands are found, not 0.9 (0.72 with 300 spectra per type, seed 2018; 0.60 on this
    # set's 63).
    assert sc["phyllo_recall"] >= 0.5


def test_fit_on_four_coadded_spectra(four_coadded):
    sc = rs.score(four_coadded, analyse(four_coadded))
    assert sc["phyllo_recall"] >= 0.85 and sc["phyllo_precision"] >= 0.95
    assert sc["one_um_false_dark"] <= 0.05
    assert sc["s_vs_c_balanced"] >= 0.97
    assert sc["s_band1_err_nm"][1] <= 12.0  # p95


def test_the_straight_line_method_fails_the_set_as_the_review_found(one_spectrum):
    sc = rs.score(one_spectrum, analyse(one_spectrum, "chord"))
    assert sc["one_um_false_dark"] > 0.2
    assert sc["s_vs_c_balanced"] < 0.9
    assert sc["s_band1_err_nm"][1] > 20.0


def test_missing_channels_leave_the_bands_measured(one_spectrum):
    """10 % of the channels lost at random and two telluric gaps (1.35-1.45 and
    1.80-1.95 um, as in ground-based spectra): every silicate and 0.7 um band still
    measured, and S still told from C."""
    s = one_spectrum
    rng = np.random.default_rng(SEED)
    holed = s.reflectance.copy()
    wl = s.wavelength_um
    holed[:, ((wl > 1.35) & (wl < 1.45)) | ((wl > 1.80) & (wl < 1.95))] = np.nan
    holed[rng.uniform(size=holed.shape) < 0.1] = np.nan
    out = analyse(s, reflectance=holed)
    cols = [BAND_INDEX[n] for n in ("PHYLLO_07", "PYX_09", "OL_105", "PYX_19")]
    assert np.mean(out["reason"][:, cols] == "") > 0.99
    assert np.all(np.isfinite(out["depth"][:, cols]) == (out["reason"][:, cols] == ""))
    assert rs.score(s, out)["s_vs_c_balanced"] >= 0.95


def test_a_telescope_grid_measures_every_band_but_oh():
    """0.45-2.45 um at 10 nm (a ground-based visible + near-infrared spectrum): OH_27
    not measurable, for a reason; the other bands measured, S told from C."""
    wl = np.arange(0.45, 2.4501, 0.01)
    s = rs.make_set(40, seed=SEED + 2, wavelength_um=wl)
    out = analyse_bands(wl, s.reflectance, sigma_2d=s.sigma)
    oh = BAND_INDEX["OH_27"]
    assert np.all(out["reason"][:, oh] != "") and np.all(np.isnan(out["depth"][:, oh]))
    others = [k for k in range(5) if k != oh]
    assert np.all(out["reason"][:, others] == "")
    assert rs.score(s, out)["s_vs_c_balanced"] >= 0.97
