"""Tests of sim.spectral: per-facet truth, the best site, and observations (the endmembers
and band truth: test_minerals.py; the light: test_radiometry.py)."""

import math
from functools import cache

import numpy as np
import pytest

from flightsw import instrument_config as instrument
from flightsw.geometry.mesh import TriangleMesh
from sim.minerals import BAND_INDEX, ENDMEMBERS
from sim.radiometry import black_body_radiance, i_over_f_per_reflectance, sun_irradiance
from sim.shape import bennu_top_shape, icosphere
from sim.spectral import KINDS, PEAK_MARGINS, SpectralObserver, SpectralSurface

MICRON = 1.0
NM = 1e-3 * MICRON
CHANNEL_UM = float(instrument.WAVELENGTH_UM[1] - instrument.WAVELENGTH_UM[0])  # ~12 nm
OH = BAND_INDEX["OH_27"]
PHYLLO_07 = BAND_INDEX["PHYLLO_07"]
EM = {name: k for k, name in enumerate(ENDMEMBERS)}


@cache
def mesh():
    return bennu_top_shape(3)


@cache
def surface(kind, seed=1, peak_face=None):
    v, f = mesh()
    return SpectralSurface(kind, v, f, seed, peak_face=peak_face)


@cache
def observer(kind="bennu", seed=1):
    v, f = mesh()
    return SpectralObserver(surface(kind, seed), TriangleMesh(v, f), 1.1)


# ----------------------------------------------------------------------------- surfaces


def test_bennu_mixtures_have_published_band_depths():
    s = surface("bennu")
    assert 0.15 <= np.median(s.hydration_index) <= 0.20
    assert 0.01 <= np.median(s.band_depth[:, PHYLLO_07]) <= 0.04
    assert np.all(np.abs(s.band_centre_um[:, OH] - 2.74) <= CHANNEL_UM)
    # Patchy: the OH band is everywhere but its strength varies.
    assert s.hydration_index.min() > 0.08
    assert np.ptp(s.hydration_index) > 0.03


def test_ryugu_is_darker_with_a_weak_272_band():
    b, r = surface("bennu"), surface("ryugu")
    assert 0.07 <= np.median(r.hydration_index) <= 0.10
    assert np.median(np.abs(r.band_centre_um[:, OH] - 2.72)) <= 2 * NM
    i055 = int(np.argmin(abs(instrument.WAVELENGTH_UM - 0.55)))
    assert np.median(r.reflectance_std[:, i055]) < np.median(b.reflectance_std[:, i055])


def test_psyche_resource_is_metal():
    p, b = surface("psyche"), surface("bennu")
    assert p.resource_name == "metal_index" and b.resource_name == "hydration_index"
    assert np.array_equal(p.resource_truth, p.metal_index)
    assert np.median(p.hydration_index) < 0.03
    assert np.median(p.metal_index) > 5 * np.median(b.metal_index)


@pytest.mark.parametrize("kind", KINDS)
def test_abundances_are_fractions(kind):
    a = surface(kind).abundances
    assert a.shape == (len(mesh()[1]), len(ENDMEMBERS))
    assert np.all(a >= 0.0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_best_site_stands_out_for_seeds_1_to_20(kind):
    v, f = mesh()
    far, near = PEAK_MARGINS[surface(kind).resource_name]
    for seed in range(1, 21):
        s = SpectralSurface(kind, v, f, seed)
        r, p = s.resource_truth, s.peak_face
        others = np.ones(len(r), dtype=bool)
        others[p] = False
        others[s.neighbours[p]] = False
        assert int(np.argmax(r)) == p, seed
        assert r[p] - r[others].max() >= far, seed
        assert r[p] - r[s.neighbours[p]].max() >= near, seed


@pytest.mark.parametrize("peak_face", [0, 321, 1279])
def test_peak_can_be_put_on_a_chosen_face(peak_face):
    s = surface("bennu", 5, peak_face)
    assert s.peak_face == peak_face
    assert int(np.argmax(s.resource_truth)) == peak_face


def test_same_seed_same_world_and_other_seed_other_world():
    v, f = mesh()
    a = SpectralSurface("bennu", v, f, 7)
    b = SpectralSurface("bennu", v, f, 7)
    c = SpectralSurface("bennu", v, f, 8)
    assert np.array_equal(a.abundances, b.abundances) and a.peak_face == b.peak_face
    assert not np.array_equal(a.abundances, c.abundances)


def test_bad_surface_arguments_are_rejected():
    v, f = mesh()
    with pytest.raises(ValueError, match="kind"):
        SpectralSurface("vesta", v, f, 1)
    with pytest.raises(ValueError, match="peak_face"):
        SpectralSurface("bennu", v, f, 1, peak_face=len(f))


# ----------------------------------------------------------------------------- observation


def _look_at_face(face, altitude_m=300.0):
    v, f = mesh()
    centroid = v[f[face]].mean(axis=0)
    normal = TriangleMesh(v, f).normals[face]
    return centroid + altitude_m * normal, -normal, normal


def test_single_facet_observation_recovers_its_reflectance_and_truth():
    obs, s = observer(), surface("bennu")
    face = s.peak_face
    pos, bore, normal = _look_at_face(face)
    sun = normal + 0.3 * np.cross(normal, [0.0, 0.0, 1.0])
    L, truth = obs.observe(pos, bore, sun)
    assert truth.on_body and truth.lit and truth.lit_fraction == pytest.approx(1.0)
    assert list(truth.faces) == [face]
    assert truth.hydration_index == pytest.approx(s.hydration_index[face], abs=1e-12)
    assert truth.resource_index == pytest.approx(s.resource_truth[face], abs=1e-12)
    assert truth.emission_deg == pytest.approx(0.0, abs=0.5)
    assert truth.range_m == pytest.approx(300.0, rel=1e-6)
    wl = instrument.WAVELENGTH_UM
    L = L - obs.surface.emissivity * black_body_radiance(wl, truth.surface_temp_k)
    phot = i_over_f_per_reflectance(math.cos(math.radians(truth.incidence_deg)), 1.0,
                              truth.phase_deg, wl)
    refl = L / (sun_irradiance(wl, 1.1) / np.pi * phot)
    np.testing.assert_allclose(refl, s.reflectance_std[face], rtol=1e-4)


def test_thermal_dominates_above_3um_for_a_380K_surface():
    obs = observer()
    face = surface("bennu").peak_face
    pos, bore, normal = _look_at_face(face)
    L, truth = obs.observe(pos, bore, normal)  # sun at the zenith: hottest
    assert 370.0 <= truth.surface_temp_k <= 395.0
    wl = instrument.WAVELENGTH_UM
    thermal = obs.surface.emissivity * black_body_radiance(wl, truth.surface_temp_k)
    reflected = L - thermal
    assert np.all(thermal[wl >= 3.0] > reflected[wl >= 3.0])
    assert np.all(thermal[wl <= 2.0] < 0.01 * reflected[wl <= 2.0])


def test_night_side_returns_no_reflected_signal():
    obs = observer()
    pos, bore, normal = _look_at_face(100)
    L, truth = obs.observe(pos, bore, -normal)
    assert truth.on_body and not truth.lit and truth.lit_fraction == 0.0
    assert truth.surface_temp_k == pytest.approx(150.0)
    assert np.all(L[instrument.WAVELENGTH_UM < 2.5] < 1e-9)


def test_cast_shadow_returns_no_reflected_signal():
    # A top with a moon hovering between it and the Sun: the moon's shadow falls on the
    # subsolar facet although that facet faces the Sun.
    v0, f0 = bennu_top_shape(2)
    sv, sf = icosphere(2)
    v = np.vstack([v0, sv * 60.0 + [600.0, 0.0, 0.0]])
    f = np.vstack([f0, sf + len(v0)])
    s = SpectralSurface("bennu", v, f, 2)
    caster = TriangleMesh(v, f)
    r, face = caster.nearest_hit((0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    sat = np.array([r, 0.0, 0.0]) + 200.0 * np.array([0.0, 0.0, 1.0])
    bore = (np.array([r, 0.0, 0.0]) - sat) / 200.0
    obs = SpectralObserver(s, caster, 1.1)
    _, lit_truth = obs.observe(sat, bore, (1.0, 0.0, 1.0))  # sun high: misses the moon
    assert lit_truth.lit
    L, truth = obs.observe(sat, bore, (1.0, 0.0, 0.0))
    assert face in truth.faces
    assert truth.on_body and not truth.lit
    assert np.all(L[instrument.WAVELENGTH_UM < 2.5] < 1e-9)


def test_off_body_footprint_is_black():
    L, truth = observer().observe((2000.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    assert not truth.on_body and not truth.lit
    assert np.all(L == 0.0)
    assert math.isnan(truth.hydration_index)


def test_limb_footprint_is_partly_on_the_body():
    obs = observer()
    v, f = mesh()
    # Aim so the boresight just grazes: scan across the limb until some rays miss.
    pos = np.array([0.0, -1000.0, 0.0])
    partial = None
    for x in np.linspace(250.0, 320.0, 300):
        target = np.array([x, 0.0, 0.0])
        bore = (target - pos) / np.linalg.norm(target - pos)
        L, truth = obs.observe(pos, bore, (0.0, -1.0, 0.0))
        if truth.on_body and truth.lit_fraction < 0.99:
            partial = truth
            break
    assert partial is not None
    assert 0.0 < partial.lit_fraction < 1.0
    assert partial.face_weights.sum() == pytest.approx(1.0)


def test_bad_observation_arguments_are_rejected():
    obs = observer()
    with pytest.raises(ValueError, match="boresight_bf"):
        obs.observe((1000.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="sc_pos_bf_m"):
        obs.observe((math.nan, 0.0, 0.0), (-1.0, 0.0, 0.0), (1.0, 0.0, 0.0))


def test_another_draw_is_another_patch_field_and_draw_0_is_the_default():
    v, f = mesh()
    a = SpectralSurface("bennu", v, f, 7)
    b = SpectralSurface("bennu", v, f, 7, draw=0)
    c = SpectralSurface("bennu", v, f, 7, draw=1)
    assert np.array_equal(a.abundances, b.abundances)
    assert not np.array_equal(a.abundances, c.abundances)


@pytest.mark.parametrize("seed", [35, 43])
def test_psyche_seeds_whose_first_draw_has_no_best_site_still_make_a_world(seed):
    """Their first patch field is metal-rich everywhere (no face can stand out by the
    margin); the world draws the patches again instead of refusing the seed."""
    from sim.scenario import load_scenario
    from sim.world import World

    world = World(load_scenario("psyche", {"scenario.seed": seed}))
    pw = world.prospect
    assert pw.surface_draw > 0
    best = pw.surface.peak_face
    assert pw.safe[best] and pw.deliverable_truth()[best]
    assert pw.site_truth_rank(best) == 1
