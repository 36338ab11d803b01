"""Tests of sim.minerals: the endmembers' bands at their published positions, the band truth
of synthetic spectra, and the simulator's band table against the ICD's order."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.instrument_config import WAVELENGTH_UM
from sim.minerals import (
    BAND_INDEX,
    BANDS,
    ENDMEMBERS,
    FINE_WAVELENGTH_UM,
    METAL_BLUE_UM,
    METAL_RED_UM,
    METAL_WINDOW_HALF_UM,
    band_truth,
    endmember_reflectance,
    metal_index,
    modified_gaussian_band,
)

MICRON = 1.0
NM = 1e-3 * MICRON
CHANNEL_UM = float(WAVELENGTH_UM[1] - WAVELENGTH_UM[0])  # ~12 nm
OH = BAND_INDEX["OH_27"]
PHYLLO_07 = BAND_INDEX["PHYLLO_07"]
EM = {name: k for k, name in enumerate(ENDMEMBERS)}
ICD_XML = Path(__file__).resolve().parents[2] / "flightsw" / "icd" / "prospector.xml"


@pytest.mark.parametrize("grid", ["fine", "instrument"])
def test_endmember_bands_at_published_positions(grid):
    wl = FINE_WAVELENGTH_UM if grid == "fine" else WAVELENGTH_UM
    tol = CHANNEL_UM if grid == "instrument" else 0.5 * CHANNEL_UM
    depth, centre = band_truth(wl, endmember_reflectance(wl))
    ph, ol, px, me = EM["phyllosilicate"], EM["olivine"], EM["pyroxene"], EM["metal"]
    # FACTS.md: phyllosilicate 0.7 um band centre ~0.69; Bennu OH at 2.74 um.
    assert centre[ph, PHYLLO_07] == pytest.approx(0.69, abs=tol)
    assert centre[ph, OH] == pytest.approx(2.74, abs=tol)
    # Olivine: composite 1.05 um band, no 2 um band.
    assert centre[ol, BAND_INDEX["OL_105"]] == pytest.approx(1.05, abs=tol)
    assert depth[ol, BAND_INDEX["OL_105"]] > 0.15
    assert depth[ol, BAND_INDEX["PYX_19"]] < 0.005
    # Pyroxene: bands near 0.9 and 1.9 um.
    assert centre[px, BAND_INDEX["PYX_09"]] == pytest.approx(0.92, abs=tol)
    assert centre[px, BAND_INDEX["PYX_19"]] == pytest.approx(1.90, abs=2 * tol)
    assert depth[px, BAND_INDEX["PYX_19"]] > 0.1
    # Metal: weak ~1 % 0.9 um band, red featureless slope, albedo ~0.15.
    assert 0.005 < depth[me, BAND_INDEX["PYX_09"]] < 0.02
    assert depth[me, OH] < 0.005
    r = endmember_reflectance(wl)
    i055 = int(np.argmin(abs(wl - 0.55)))
    assert 0.12 < r[me, i055] < 0.18
    assert 0.03 <= r[EM["dark"], i055] <= 0.04
    assert metal_index(wl, r)[me] > 0.03


def test_oh_centre_is_a_parameter_for_ryugu():
    wl = FINE_WAVELENGTH_UM
    _, centre = band_truth(wl, endmember_reflectance(wl, oh_centre_um=2.72))
    assert centre[EM["phyllosilicate"], OH] == pytest.approx(2.72, abs=2 * NM)


def test_bad_endmember_arguments_are_rejected():
    with pytest.raises(ValueError, match="oh_centre_um"):
        endmember_reflectance(FINE_WAVELENGTH_UM, oh_centre_um=3.3)
    with pytest.raises(ValueError, match="depth"):
        modified_gaussian_band(FINE_WAVELENGTH_UM, 1.0, 0.1, 1.5)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(0, len(BANDS) - 1), depth=st.floats(0.005, 0.6),
       slope=st.floats(-0.2, 0.3), offset=st.floats(-0.3, 0.3))
def test_truth_of_synthetic_single_band_matches_construction(k, depth, slope, offset):
    band = BANDS[k]
    lo, hi = band.search_um
    c = round(0.5 * (lo + hi) + offset * 0.5 * (hi - lo), 3)
    # Narrow enough to leave the shoulders untouched: then the continuum-removed spectrum
    # is the band itself.
    fwhm = 0.25 * min(c - band.left_shoulder_um, band.right_shoulder_um - c)
    wl = FINE_WAVELENGTH_UM
    r = 0.05 * (1.0 + slope * (wl - 0.55)) * modified_gaussian_band(wl, c, fwhm, depth)
    d, centre = band_truth(wl, r)
    assert d[k] == pytest.approx(depth, abs=1e-4)
    assert centre[k] == pytest.approx(c, abs=1 * NM)


def test_band_table_is_in_the_icds_order():
    """PROBE_SPECTRUM_RESULT.depth[k] is band k of the order the ICD states; the truth's
    depth[k] must be the same band."""
    text = ICD_XML.read_text()
    order = re.search(r"band order: ([A-Z0-9_, ]+)\)", text)
    assert order is not None
    assert tuple(b.name for b in BANDS) == tuple(n.strip() for n in order.group(1).split(","))


def test_band_table_is_the_definition_the_flight_software_measures():
    """The truth and the flight's band analysis measure the same published quantity (Clark &
    Roush: the same shoulders and search windows), from two tables: a change to either
    shows here, and would otherwise show as band errors in every run."""
    from flightsw.prospect import band_catalogue as flight

    assert [(b.name, b.centre_um, b.left_shoulder_um, b.right_shoulder_um, b.search_um)
            for b in BANDS] == \
        [(b.name, b.centre_um, b.left_shoulder_um, b.right_shoulder_um, b.search_um)
         for b in flight.BANDS]
    assert (METAL_BLUE_UM, METAL_RED_UM, METAL_WINDOW_HALF_UM) == \
        (flight.SLOPE_BLUE_UM, flight.SLOPE_RED_UM, flight.SLOPE_WINDOW_UM)


@pytest.mark.parametrize("band", BANDS, ids=lambda b: b.name)
def test_each_band_searches_between_its_shoulders(band):
    lo, hi = band.search_um
    assert band.left_shoulder_um < lo < band.centre_um < hi < band.right_shoulder_um
