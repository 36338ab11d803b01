"""The curved-continuum band fit (flightsw/prospect/band_fit.py, analyse_bands' method "fit").

Pinned here, each against spectra made in this file (the fit's own model where
exactness is asked, other shapes where robustness is):
- on its own model (quadratic log continuum x exp(-tau g)) without noise it returns the
  depth and centre on any grid;
- at SNR 50 its depth is nearly unbiased and its sigma honest (continuum, depth, centre
  and width fitted together: a broad band's depth trades against its width);
- a curved continuum without a band, concave or convex, is not a band; neither is a
  dip broader than any band of its kind;
- a band whose minimum lies outside its search window is not that band;
- channels that are missing are dropped and the band still measured; a band whose
  continuum or centre has no channels is not measured and says why;
- a grid that stops short of 3 um measures every band but OH_27; no spectra, no error;
- the strong-band centre (the minimum over the hull's edge) follows an asymmetric band;
- the batched inverse is numpy's.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realistic_spectra import upper_hull

from flightsw.prospect import band_fit
from flightsw.prospect.band_catalogue import BAND_INDEX, BANDS
from flightsw.prospect.bands import BandAnalysisError, analyse_band, analyse_bands, plan_bands
from flightsw.prospect.instrument import WAVELENGTH_UM

WL = WAVELENGTH_UM
DEPTH_TOL_NOISE_FREE = 1e-3
CENTRE_TOL_NOISE_FREE_UM = 1e-3


def model(wl, centre, width, depth, curve=-0.05, slope=0.1, level=0.05):
    """The fit's own model: ln R = quadratic + ln(1 - depth) * Gaussian."""
    t = wl - 1.0
    return np.exp(np.log(level) + slope * t + curve * t * t
                  + np.log1p(-depth) * np.exp(-0.5 * ((wl - centre) / width) ** 2))


def without_hull(band):
    """The band with its centre taken from the fit (no hull), for exactness tests."""
    return dataclasses.replace(band, fit=dataclasses.replace(band_fit.fit_of(band),
                                                             hull_um=None))


@settings(max_examples=30, deadline=None)
@given(k=st.integers(0, len(BANDS) - 1), step_nm=st.floats(1.0, 20.0),
       jitter=st.floats(0.0, 0.4), seed=st.integers(0, 2**31 - 1),
       depth=st.floats(0.03, 0.3), where=st.floats(0.15, 0.85), wide=st.floats(0.0, 0.7))
def test_noise_free_own_model_any_grid(k, step_nm, jitter, seed, depth, where, wide):
    band = without_hull(BANDS[k])
    fit = band.fit
    rng = np.random.default_rng(seed)
    step = step_nm / 1000.0
    wl = np.arange(fit.window_um[0] - 0.1, fit.window_um[1] + 0.1, step)
    wl = np.sort(wl + rng.uniform(-jitter, jitter, wl.size) * step)
    centre = fit.search_um[0] + where * (fit.search_um[1] - fit.search_um[0])
    # Widths in the lower 70 % (log) of the band's range: the widest bands of a window
    # are nearly a curve of the continuum, and the optimum is flat there.
    lo, hi = np.log(fit.sigma_um)
    width = float(np.exp(lo + wide * (hi - lo)))
    refl = model(wl, centre, width, depth)
    res = analyse_band(wl, refl, band, sigma=1e-6 * refl, method="fit")
    assert res.reason == ""
    assert abs(res.depth - depth) < DEPTH_TOL_NOISE_FREE
    assert abs(res.centre_um - centre) < CENTRE_TOL_NOISE_FREE_UM
    assert res.detected


def test_snr50_unbiased_and_sigma_honest():
    rng = np.random.default_rng(11)
    n = 600
    for band in BANDS:
        fit = band.fit
        depth = rng.uniform(0.03, 0.2, n)
        centre = rng.uniform(*fit.search_um, n) * 0.6 + 0.4 * np.mean(fit.search_um)
        width = np.sqrt(fit.sigma_um[0] * fit.sigma_um[1])
        curve = rng.uniform(-0.1, 0.1, n)
        refl = model(WL[None, :], centre[:, None], width, depth[:, None], curve[:, None])
        sig = refl / 50.0
        noisy = refl + rng.normal(size=refl.shape) * sig
        out = analyse_bands(WL, noisy, (without_hull(band),), sig, method="fit")
        err = out["depth"][:, 0] - depth
        # A free centre and width find the deepest dip the noise offers: a small bias,
        # well inside the stated sigma (measured 0.002-0.009, 0.05-0.4 sigma).
        assert abs(np.mean(err)) < 0.01, band.name
        pull = err / out["depth_sigma"][:, 0]
        assert abs(np.mean(pull)) < 0.4 and 0.8 < np.std(pull) < 1.25, (band.name, pull)


@pytest.mark.parametrize("curve", [-0.6, -0.3, 0.3, 0.6])
def test_a_curved_continuum_is_not_a_band(curve):
    """ln R with a curvature of +-0.6 / um^2 over 0.4-2.6 um: the chord across the 1 um
    window reads up to 4 % of 'band' in it; the fit reads none, noise-free or at SNR 50."""
    rng = np.random.default_rng(int(10 * curve) + 7)
    t = WL - 1.3
    refl = np.exp(np.log(0.05) + 0.05 * t + curve * t * t)
    sig = refl / 50.0
    noisy = refl + rng.normal(size=(300, WL.size)) * sig
    clean = analyse_bands(WL, refl, sigma_2d=sig, method="fit")
    assert not clean["detected"].any()
    out = analyse_bands(WL, noisy, sigma_2d=np.broadcast_to(sig, noisy.shape), method="fit")
    assert out["detected"].mean(axis=0).max() <= 0.02, out["detected"].mean(axis=0)
    chord = analyse_bands(WL, refl, sigma_2d=sig, method="chord")
    if curve > 0:  # concave up: the straight line between shoulders sees a band
        assert chord["depth"][0, BAND_INDEX["PYX_09"]] > 0.01


def test_a_dip_broader_than_any_band_of_its_kind_is_continuum():
    """A 6 % bowl 0.4 um wide (sigma) at 1.1 um on a dark spectrum at 16x the SNR of one
    spectrum: neither PYX_09 nor OL_105 (a 6 % pyroxene band of sigma 0.08 um is)."""
    rng = np.random.default_rng(3)
    base = 0.05 * np.exp(0.05 * (WL - 0.55))
    bowl = base * np.exp(-0.06 * np.exp(-0.5 * ((WL - 1.1) / 0.4) ** 2))
    band = base * np.exp(np.log1p(-0.06) * np.exp(-0.5 * ((WL - 0.93) / 0.08) ** 2))
    sig = base / 200.0
    cols = [BAND_INDEX["PYX_09"], BAND_INDEX["OL_105"]]
    for refl, want in ((bowl, False), (band, True)):
        noisy = refl + rng.normal(size=(200, WL.size)) * sig
        det = analyse_bands(WL, noisy, sigma_2d=np.broadcast_to(sig, noisy.shape),
                            method="fit")["detected"][:, cols]
        if want:
            assert det[:, 0].mean() > 0.98
        else:
            assert det.any(axis=1).mean() < 0.03


def test_a_band_centred_outside_its_window_is_not_that_band():
    """An olivine-like band at 1.08 um: OL_105 (search 1.00-1.12) has it; PYX_09 (search
    0.85-1.05) sees its wing with the centre on the window's edge, and does not."""
    refl = model(WL, 1.08, 0.1, 0.15)
    out = analyse_bands(WL, refl, sigma_2d=refl / 100.0, method="fit")
    assert out["detected"][0, BAND_INDEX["OL_105"]]
    assert not out["detected"][0, BAND_INDEX["PYX_09"]]


def test_missing_channels_are_dropped_and_the_band_still_measured():
    rng = np.random.default_rng(5)
    band = BANDS[BAND_INDEX["PYX_09"]]
    refl = model(WL, 0.93, 0.08, 0.12)
    sig = refl / 100.0
    noisy = refl + rng.normal(size=WL.size) * sig
    full = analyse_band(WL, noisy, band, sig, method="fit")
    holed = noisy.copy()
    holed[rng.choice(np.flatnonzero((WL > 0.6) & (WL < 1.8)), 12, replace=False)] = np.nan
    holed[(WL > 1.35) & (WL < 1.45)] = np.nan  # a telluric gap in the right continuum
    res = analyse_band(WL, holed, band, sig, method="fit")
    assert res.reason == "" and res.detected
    assert abs(res.depth - full.depth) < 3 * full.depth_sigma
    assert abs(res.centre_um - 0.93) < 0.01


def test_a_band_without_continuum_channels_says_why():
    band = BANDS[BAND_INDEX["PYX_09"]]
    refl = model(WL, 0.93, 0.08, 0.12)
    refl[(WL >= 0.6) & (WL < 0.85)] = np.nan
    res = analyse_band(WL, refl, band, refl / 100.0, method="fit")
    assert np.isnan(res.depth) and not res.detected
    assert res.reason == ("PYX_09: not measurable: left continuum 0.65-0.85 um has 0 finite "
                          "channels (3 needed)")


def test_a_grid_short_of_3um_measures_every_band_but_oh():
    """A telescope grid (0.45-2.45 um, 10 nm): the default call measures the four bands
    it covers and gives OH_27 a reason, for every spectrum."""
    wl = np.arange(0.45, 2.4501, 0.01)
    refl = np.stack([model(wl, 0.93, 0.08, 0.12), model(wl, 0.70, 0.08, 0.04)])
    out = analyse_bands(wl, refl, sigma_2d=refl / 100.0)
    oh = BAND_INDEX["OH_27"]
    assert np.all(out["reason"][:, oh] == "OH_27: not measurable: left continuum "
                  "2.50-2.68 um has 0 channels (3 needed)")
    assert np.all(np.isnan(out["depth"][:, oh])) and not out["detected"][:, oh].any()
    others = [k for k in range(len(BANDS)) if k != oh]
    assert np.all(out["reason"][:, others] == "")
    assert np.all(np.isfinite(out["depth"][:, others]))
    assert out["detected"][0, BAND_INDEX["PYX_09"]] and out["detected"][1, BAND_INDEX["PHYLLO_07"]]
    with pytest.raises(BandAnalysisError, match="OH_27: not measurable: left continuum"):
        analyse_band(wl, refl[0], BANDS[oh])
    # The straight-line method too: per band, not for the whole call.
    chord = analyse_bands(wl, refl, sigma_2d=refl / 100.0, method="chord")
    assert chord["reason"][0, oh].startswith("OH_27: not measurable: wavelength grid")
    assert np.all(np.isfinite(chord["depth"][:, others]))


@pytest.mark.parametrize("method", ["fit", "chord"])
def test_no_spectra_give_empty_columns(method):
    """A batch with no accepted spectrum (the pipeline's, sometimes): empty arrays, no
    error (the first flight with the fit switched on raised here)."""
    empty = np.zeros((0, WL.size))
    out = analyse_bands(WL, empty, sigma_2d=empty, method=method)
    for key in ("depth", "depth_sigma", "centre_um", "centre_sigma_um", "detected", "reason"):
        assert out[key].shape == (0, len(BANDS))


def test_an_unknown_method_or_plans_of_another_method_are_refused():
    with pytest.raises(BandAnalysisError, match="method must be one of"):
        analyse_bands(WL, np.full(WL.size, 0.05), method="hull")
    chord_plans = plan_bands(WL, method="chord")
    with pytest.raises(BandAnalysisError, match="plans were not made for method 'fit'"):
        analyse_bands(WL, np.full(WL.size, 0.05), plans=chord_plans, method="fit")
    fit_plans = plan_bands(WL, method="fit")
    same = analyse_bands(WL, model(WL, 0.93, 0.08, 0.1), plans=fit_plans, method="fit")
    assert same["detected"][0, BAND_INDEX["PYX_09"]]


def test_the_strong_band_centre_follows_an_asymmetric_band():
    """Two overlapping bands (0.92 and 1.05 um, the second half as deep) make band I
    asymmetric: a symmetric Gaussian's centre leans to the red, the hull-edge minimum
    (what band_fit reports for a strong band) sits where the spectrum over its tangent
    line is lowest: here on a 1 nm grid with the test set's own hull."""
    fine = np.arange(0.5, 2.0, 0.001)

    def spectrum(wl):
        return model(wl, 0.92, 0.07, 0.15, curve=0.0) * np.exp(
            np.log1p(-0.07) * np.exp(-0.5 * ((wl - 1.05) / 0.09) ** 2))

    sel = (fine >= 0.6) & (fine <= 1.8)
    x, y = fine[sel], spectrum(fine)[sel]
    truth = x[np.argmin(y / upper_hull(x, y))]
    out = analyse_bands(WL, spectrum(WL), sigma_2d=spectrum(WL) / 200.0, method="fit")
    k = BAND_INDEX["PYX_09"]
    assert abs(out["centre_um"][0, k] - truth) < 0.003


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), p=st.integers(2, 6), scale=st.sampled_from([1e-3, 1e6]))
def test_the_batched_spd_inverse_is_numpys(seed, p, scale):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(4, p, p))
    a = scale * (m @ m.transpose(0, 2, 1) + 0.1 * np.eye(p))
    assert np.allclose(band_fit.inv_spd(a), np.linalg.inv(a), rtol=1e-6, atol=0.0)
    assert np.all(np.isnan(band_fit.inv_spd(np.zeros((1, p, p)))))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6),
       kinds=st.lists(st.sampled_from(["nan", "inf", "neg", "zero", "huge", "tiny", "sig0",
                                       "signan"]), max_size=4))
def test_bad_data_never_raises(seed, n, kinds):
    """What a pipeline can hand over (NaN, inf, negative after a thermal subtraction,
    zero, absurd values, unusable sigmas): finite answers or NaN with a reason, never an
    exception."""
    rng = np.random.default_rng(seed)
    refl = model(WL, 0.93, 0.08, 0.1)[None, :] * rng.uniform(0.5, 2.0, (n, 1))
    sig = refl / 50.0
    refl = refl + rng.normal(size=refl.shape) * sig
    for kind in kinds:
        m = rng.uniform(size=refl.shape) < rng.uniform(0.0, 1.0)
        if kind.startswith("sig"):
            sig = np.where(m, 0.0 if kind == "sig0" else np.nan, sig)
        else:
            refl = np.where(m, {"nan": np.nan, "inf": np.inf, "neg": -0.01, "zero": 0.0,
                                "huge": 1e30, "tiny": 1e-30}[kind], refl)
    with np.errstate(all="ignore"):
        out = analyse_bands(WL, refl, sigma_2d=sig, method="fit")
    measured = out["reason"] == ""
    assert np.all(np.isnan(out["depth"][~measured])) and not out["detected"][~measured].any()
    assert np.all(np.isfinite(out["depth"][measured]))
    assert np.all(np.isfinite(out["depth_sigma"][measured]))
