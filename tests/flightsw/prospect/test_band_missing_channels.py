"""Missing and unusable channels in band analysis (flightsw/prospect/bands.py), and the
small linear-algebra helpers of its fit against numpy.

Pinned here: a NaN channel is as if the instrument had no such channel (the result
equals the analysis on the grid without it, to rounding), in a shoulder window or in
the fitted core, with or without a stated sigma; a channel whose stated sigma is NaN,
infinite, zero or negative is left out the same way; a shoulder with no channel left
makes the band unmeasured (NaN, not detected).  The batched 3x3 inverse and the normal
matrix J^T W J equal numpy's.
"""

import numpy as np
import pytest
from band_oracle import construct, width_for
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.prospect import bands
from flightsw.prospect.band_catalogue import BANDS
from flightsw.prospect.bands import METHODS, analyse_band
from flightsw.prospect.instrument import WAVELENGTH_UM

BAND = BANDS[4]  # OH_27: left shoulder channels 175-179, right 216-220, core 183-202
WL = WAVELENGTH_UM


def spectrum(seed=5, snr=100.0):
    refl = construct(WL, BAND, 0.06, BAND.centre_um + 0.01, width_for(BAND))
    sig = refl / snr
    return refl + np.random.default_rng(seed).normal(size=refl.shape) * sig, sig


def same(a, b):
    for field in ("depth", "depth_sigma", "centre_um", "centre_sigma_um"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-9, abs=1e-12), \
            field
    assert a.detected == b.detected


@pytest.mark.parametrize("channels", [[177], [175, 220], [190], [176, 195, 218]])
@pytest.mark.parametrize("with_sigma", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_a_nan_channel_is_as_if_the_grid_had_no_such_channel(channels, with_sigma, method):
    refl, sig = spectrum()
    holed = refl.copy()
    holed[channels] = np.nan
    keep = np.setdiff1d(np.arange(WL.size), channels)
    got = analyse_band(WL, holed, BAND, sig if with_sigma else None, method=method)
    want = analyse_band(WL[keep], refl[keep], BAND, sig[keep] if with_sigma else None,
                        method=method)
    assert np.isfinite(got.depth)
    same(got, want)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0, -0.01])
@pytest.mark.parametrize("method", METHODS)
def test_a_channel_with_an_unusable_sigma_is_left_out(bad, method):
    refl, sig = spectrum()
    channels = [176, 190, 219]
    bad_sig = sig.copy()
    bad_sig[channels] = bad
    holed = refl.copy()
    holed[channels] = np.nan
    same(analyse_band(WL, refl, BAND, bad_sig, method=method),
         analyse_band(WL, holed, BAND, sig, method=method))


@pytest.mark.parametrize("window", [[175, 176, 177, 178, 179], [216, 217, 218, 219, 220]])
def test_a_shoulder_with_no_channel_left_leaves_the_band_unmeasured(window):
    """The straight-line method's shoulders; the fit's wider continuum zones:
    test_band_fit.py."""
    refl, sig = spectrum()
    refl[window] = np.nan
    for s in (None, sig):
        res = analyse_band(WL, refl, BAND, s, method="chord")
        assert np.isnan(res.depth) and np.isnan(res.centre_um) and not res.detected


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([1e-3, 1.0, 1e6]))
def test_the_batched_inverse_is_numpys(seed, scale):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(5, 3, 3))
    a = scale * (m @ m.transpose(0, 2, 1) + 0.1 * np.eye(3))  # symmetric positive definite
    assert np.allclose(bands._inv3(a), np.linalg.inv(a), rtol=1e-7, atol=0.0)


def test_a_singular_matrix_has_no_inverse():
    a = np.zeros((1, 3, 3))
    assert np.all(np.isnan(bands._inv3(a)))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_the_normal_matrix_is_jt_w_j(seed):
    rng = np.random.default_rng(seed)
    jd, jc, js = rng.normal(size=(3, 4, 9))
    w = rng.uniform(0.0, 2.0, size=(4, 9))
    j = np.stack([jd, jc, js], axis=2)  # (N, k, 3)
    want = np.einsum("nki,nk,nkj->nij", j, w, j)
    assert np.allclose(bands._normal(jd, jc, js, w), want, rtol=1e-12, atol=1e-12)
