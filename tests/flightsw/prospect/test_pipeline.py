"""Pipeline end to end against an independent synthetic instrument.

The instrument, the Sun, the surface's thermal emission and its photometry are built from
tests/flightsw/prospect/reference_physics.py (published constants and the spectrometer's
datasheet, written there), not from the flight modules the pipeline inverts them with
(solar.py, photometry.py, instrument.py): a pipeline that shares a wrong model with its
test instrument would pass.  What the flight is given about its instrument is the lamp's
radiance table; the test's lamp emits what the datasheet says it does.
"""

import numpy as np
import reference_physics as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from flightsw.prospect.pipeline import (
    REJECT_GEOMETRY,
    REJECT_MISSING_FRAMES,
    REJECT_NO_CALIBRATION,
    REJECT_NOT_FINITE,
    REJECT_SATURATED,
    REJECT_ZERO_CHANNELS,
    ProspectPipeline,
    SpectrumAssembler,
)

KELVIN = 1.0

WL = ref.WAVELENGTH_UM
N_CHANNELS = ref.N_CHANNELS
CHUNK_CHANNELS = 64  # PROBE_SPECTRUM_CHUNK.counts (the ICD)
N_CHUNKS = N_CHANNELS // CHUNK_CHANNELS
GAIN_TRUE = 1.0 + 0.01 * np.sin(np.linspace(0, 2, N_CHANNELS))  # smooth, ~1 %
EPS = 0.9
RESPONSIVITY = ref.responsivity()
LAMP_SIGNAL_E = 20000.0  # per channel at nominal gain, the lamp's design (datasheet)
LAMP_RADIANCE = LAMP_SIGNAL_E / (RESPONSIVITY * ref.INTEGRATION_S)


def reflectance(n, rng, oh_depth=0.12, base=0.03):
    """Standard reflectance: linear red continuum times a Gaussian OH band."""
    d = np.full(n, oh_depth) if np.ndim(oh_depth) == 0 else np.asarray(oh_depth)
    cont = base * (1 + 0.05 * (WL - 0.55))
    g = np.exp(-0.5 * ((WL - 2.74) / 0.04) ** 2)
    return cont[None, :] * (1 - d[:, None] * g[None, :]), d


def counts(refl, rng, temp_k=360.0, cos_i=0.8, cos_e=0.9, phase=35.0, d_au=1.1, det_c=20.0,
           kind="science"):
    n = refl.shape[0] if kind == "science" else 1
    tdet = np.broadcast_to(np.asarray(det_c, float), (n,))
    if kind == "science":
        i_over_f = refl * ref.reflectance_to_i_over_f(
            np.broadcast_to(cos_i, (n,)), np.broadcast_to(cos_e, (n,)),
            np.broadcast_to(phase, (n,)), WL)
        dd = np.broadcast_to(np.asarray(d_au, float), (n,))[:, None]
        L = i_over_f * ref.sun(WL, dd) / np.pi \
            + EPS * ref.planck(WL, np.broadcast_to(temp_k, (n,))[:, None])
    elif kind == "dark":
        L = np.zeros((1, WL.size))
    else:
        L = LAMP_RADIANCE[None, :]
    sig = GAIN_TRUE * RESPONSIVITY * L * ref.INTEGRATION_S
    dark = ref.dark_e_per_s(tdet)[:, None] * ref.INTEGRATION_S
    e = rng.poisson(sig + dark) + rng.normal(0, ref.READ_NOISE_E, sig.shape)
    c = np.round(ref.BIAS_DN + e / ref.E_PER_DN)
    return np.clip(c, 0, ref.FULL_SCALE_DN).astype(np.uint16)


def calibrated_pipeline(rng, n_sites=10):
    p = ProspectPipeline(n_sites=n_sites)
    for k in range(8):
        p.add_dark(counts(None, rng, kind="dark", det_c=18 + k)[0], 18 + k)
        p.add_calibration(counts(None, rng, kind="cal", det_c=18 + k)[0], 18 + k)
    return p


def test_end_to_end_recovers_band_and_temperature():
    rng = np.random.default_rng(0)
    p = calibrated_pipeline(rng)
    n = 2000
    refl, depth = reflectance(n, rng, oh_depth=rng.uniform(0.05, 0.2, n))
    temp = rng.uniform(340, 390, n)
    c = counts(refl, rng, temp_k=temp, det_c=23.0)
    res = p.process(c, 23.0, 0.8, 0.9, 35.0, 1.1, site_ids=rng.integers(0, 10, n))
    assert np.all(res.reject_reason == 0) and p.accepted == n
    assert np.percentile(np.abs(res.surface_temp_k - temp), 95) < 2.0 * KELVIN
    err = res.hydration_index - depth
    assert abs(np.mean(err)) < 0.01
    assert 0.7 < np.std(err / res.hydration_sigma) < 1.4
    visible = slice(0, 150)  # 0.40-2.2 um: calibration + photometry only
    rel = res.reflectance[:, visible] / refl[:, visible] - 1.0
    assert abs(np.mean(rel)) < 0.005
    # The map: every site has ~n/10 spectra, and the mean depth is close to the truth's mean.
    assert p.map.n_spectra[:, 0].sum() == n
    assert np.all(np.abs(p.map.value[:, 0] - np.mean(depth)) < 0.02)
    assert res.detected_bits.dtype == np.uint8
    assert np.mean((res.detected_bits & 0b10000) > 0) > 0.7  # OH_27 is bit 4


def test_each_reject_reason_is_counted():
    rng = np.random.default_rng(1)
    p = ProspectPipeline(n_sites=4)
    refl, _ = reflectance(8, rng)
    c = counts(refl, rng).astype(float)
    res = p.process(c, 20.0, 0.8, 0.9, 35.0, 1.1, site_ids=np.zeros(8))
    assert np.all(res.reject_reason == REJECT_NO_CALIBRATION)
    assert p.rejected[REJECT_NO_CALIBRATION] == 8
    p = calibrated_pipeline(rng, 4)
    c[1, 5] = ref.FULL_SCALE_DN
    c[2, 7] = 0
    c[3, 9] = np.nan
    c[4, 9] = np.inf
    geometry_ok = np.ones(8, bool)
    geometry_ok[5] = False
    cos_i = np.full(8, 0.8)
    cos_i[6] = -0.2
    spectra = list(c)
    spectra[7] = c[7, :192]  # a chunk never came
    res = p.process(spectra, 20.0, cos_i, 0.9, 35.0, 1.1, geometry_ok=geometry_ok,
                    site_ids=np.zeros(8))
    assert res.reject_reason.tolist() == [0, REJECT_SATURATED, REJECT_ZERO_CHANNELS,
                                          REJECT_NOT_FINITE, REJECT_NOT_FINITE, REJECT_GEOMETRY,
                                          REJECT_GEOMETRY, REJECT_MISSING_FRAMES]
    assert p.rejected == {REJECT_SATURATED: 1, REJECT_ZERO_CHANNELS: 1, REJECT_NOT_FINITE: 2,
                          REJECT_GEOMETRY: 2, REJECT_MISSING_FRAMES: 1}
    assert p.map.n_spectra[0, 0] == 1
    assert np.all(np.isnan(res.depth[1:]))


def test_stage_hook_sees_every_stage():
    rng = np.random.default_rng(2)
    p = calibrated_pipeline(rng)
    seen = []
    refl, _ = reflectance(5, rng)
    p.process(counts(refl, rng), 20.0, 0.8, 0.9, 35.0, 1.1, stage_hook=seen.append)
    assert seen == ["validate", "calibrate", "thermal", "photometry", "bands", "indices", "map"]


def test_assembler_completes_and_flags_missing():
    rng = np.random.default_rng(3)
    refl, _ = reflectance(2, rng)
    c = counts(refl, rng)
    a = SpectrumAssembler()
    out = None
    for k in range(N_CHUNKS):
        lo = k * CHUNK_CHANNELS
        out = a.add_chunk(1, 0, lo, c[0, lo:lo + 64], k, N_CHUNKS, 20.0)
    assert out["complete"] and np.array_equal(out["counts"], c[0])
    a.add_chunk(2, 0, 0, c[1, :64], 0, N_CHUNKS, 20.0)
    out = a.add_chunk(3, 0, 0, c[1, :64], 0, N_CHUNKS, 20.0)
    assert out["spectrum_id"] == 2 and not out["complete"]


ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 5), st.integers(0, N_CHANNELS - 1),
                                st.one_of(ANY_FLOAT, st.integers(0, 65535).map(float))),
                      max_size=20),
       geom=hnp.arrays(np.float64, (5,), elements=ANY_FLOAT | st.floats(-1, 1)),
       truncate=st.lists(st.integers(0, N_CHANNELS), max_size=3))
def test_garbage_never_crashes(edits, geom, truncate):
    rng = np.random.default_rng(4)
    p = calibrated_pipeline(rng, 3)
    refl, _ = reflectance(6, rng)
    c = counts(refl, rng).astype(float)
    for row, ch, val in edits:
        c[row, ch] = val
    spectra = list(c)
    for k, cut in enumerate(truncate):
        spectra[k] = c[k, :cut]
    res = p.process(spectra, geom[0], geom[1], geom[2], geom[3], geom[4],
                    site_ids=np.arange(6) % 3)
    ok = res.reject_reason == 0
    assert sum(p.rejected.values()) + p.accepted == 6
    assert np.all(np.isfinite(res.hydration_index[ok]))
    assert np.all(np.isnan(res.hydration_index[~ok]))
    assert p.map.n_spectra[:, 0].sum() == ok.sum()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_uint16_counts_reject_or_finite(seed):
    rng = np.random.default_rng(seed)
    p = calibrated_pipeline(rng, 2)
    c = rng.integers(0, 65536, (20, N_CHANNELS)).astype(np.uint16)
    c[rng.random(20) < 0.5] = rng.integers(1000, 60000, N_CHANNELS)
    res = p.process(c, rng.normal(20, 5, 20), rng.random(20), rng.random(20),
                    rng.uniform(-10, 200, 20), rng.uniform(0.5, 2, 20), site_ids=np.zeros(20))
    assert set(np.unique(res.reject_reason)) <= set(range(7))
    ok = res.reject_reason == 0
    assert np.all(np.isfinite(res.depth[ok][:, 4])) and np.all(np.isfinite(res.surface_temp_k[ok]))
