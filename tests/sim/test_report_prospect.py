"""The prospecting pages of the report (sim/report_prospect.py): the resource map
beside the truth, example spectra with their band continua, the chosen site's spectrum.

Checked through what the plots draw (traces' points, names, annotations, as data) on
small synthetic histories.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_page import CARTESIAN_TRACE_TYPES, payload, plot_ids

from flightsw.instrument_config import WAVELENGTH_UM
from sim.minerals import BANDS
from sim.report import write_report
from sim.report_kit import History, Skip
from sim.report_prospect import plot_example_spectra, plot_resource_map, plot_site_spectrum

N_SITES = 12


def map_history(value, truth, safe, deliverable=None, candidates=(3, 5), chosen=(5,)):
    lat = np.linspace(-60.0, 60.0, N_SITES)
    lon = np.linspace(-170.0, 170.0, N_SITES)
    data = {"prospect_lat_deg": lat, "prospect_lon_deg": lon,
            "prospect_value": np.asarray(value, float), "prospect_truth": np.asarray(truth, float),
            "prospect_safe_truth": np.asarray(safe, np.int8),
            "prospect_candidates": np.asarray(candidates, np.int64),
            "prospect_chosen": np.asarray(chosen, np.int64)}
    if deliverable is not None:
        data["prospect_deliverable_truth"] = np.asarray(deliverable, np.int8)
    return History(data)


def marked(plot, label, xaxis="x"):
    """(lon, lat) of the points of the trace with this legend label on one map ("x": the
    estimate, "x2": the truth)."""
    found = [t for t in plot.data if t.get("name") == label and t.get("xaxis") == xaxis]
    return [p for t in found for p in zip(t["x"], t["y"], strict=True)]


def test_a_history_without_the_map_is_skipped_naming_the_key():
    """A run that did not prospect: one line naming what is missing, no empty figure."""
    with pytest.raises(Skip, match="^no prospect_lat_deg in the history$"):
        plot_resource_map(History({"t_s": np.arange(3.0)}), {})


@settings(max_examples=15, deadline=None)
@given(truth=st.lists(st.floats(0.0, 1.0), min_size=N_SITES, max_size=N_SITES),
       safe=st.lists(st.booleans(), min_size=N_SITES, max_size=N_SITES),
       deliverable=st.lists(st.booleans(), min_size=N_SITES, max_size=N_SITES))
def test_black_cross_marks_the_best_safe_deliverable_site_by_truth(truth, safe, deliverable):
    """The page's yardstick: the cross is on the site a brute-force search of the truth
    picks among the safe, deliverable ones; no such site, no cross."""
    h = map_history(np.full(N_SITES, np.nan), truth, safe, deliverable)
    plot = plot_resource_map(h, {})
    pool = [k for k in range(N_SITES) if safe[k] and deliverable[k]]
    for ax in ("x", "x2"):  # the two maps
        cross = marked(plot, "best safe, deliverable site (truth)", ax)
        if not pool:
            assert cross == []
            continue
        best = max(truth[k] for k in pool)
        lat, lon = h.data["prospect_lat_deg"], h.data["prospect_lon_deg"]
        assert len(cross) == 1
        k = next(k for k in range(N_SITES) if (lon[k], lat[k]) == cross[0])
        assert k in pool and truth[k] == best


def test_resource_map_marks_observed_candidates_and_the_chosen_site():
    """Unobserved sites grey, observed ones coloured by value; candidates circled, the chosen
    site starred; a run from before deliverability was recorded counts every site as
    deliverable."""
    value = np.full(N_SITES, np.nan)
    value[[1, 3, 5]] = [0.2, 0.5, 0.9]
    truth = np.linspace(0.0, 1.0, N_SITES)
    safe = np.ones(N_SITES, bool)
    safe[-1] = False
    h = map_history(value, truth, safe)
    est = plot_resource_map(h, {"resource_name": "hydration"})
    titles = [a["text"] for a in est.layout["annotations"]]
    assert titles == ["<b>Estimated hydration (on board)</b>", "<b>True hydration (simulator)</b>"]
    assert est.layout["yaxis"]["scaleanchor"] == "x"  # equirectangular, degrees square
    lat, lon = h.data["prospect_lat_deg"], h.data["prospect_lon_deg"]
    assert len(marked(est, "not observed")) == N_SITES - 3
    assert marked(est, "candidates") == [(lon[3], lat[3]), (lon[5], lat[5])]
    assert marked(est, "chosen site") == [(lon[5], lat[5])]
    assert marked(est, "chosen site", "x2") == [(lon[5], lat[5])]  # on the truth too
    assert marked(est, "unsafe (truth)") == [(lon[-1], lat[-1])]
    assert marked(est, "best safe, deliverable site (truth)") == [(lon[-2], lat[-2])]


def test_no_star_before_a_site_is_chosen_and_no_circles_without_candidates():
    h = map_history(np.full(N_SITES, 0.5), np.full(N_SITES, 0.5), np.ones(N_SITES, bool),
                    candidates=(), chosen=(-1,))
    plot = plot_resource_map(h, {})
    assert marked(plot, "chosen site") == [] and marked(plot, "candidates") == []


def spectra_history(n_examples):
    refl = 0.05 + 0.01 * np.sin(np.arange(n_examples)[:, None] + WAVELENGTH_UM[None, :])
    return History({"prospect_wavelength_um": WAVELENGTH_UM,
                    "prospect_example_refl": refl.reshape(n_examples, WAVELENGTH_UM.size)})


def test_no_example_spectra_is_skipped():
    with pytest.raises(Skip, match="no example spectra kept"):
        plot_example_spectra(spectra_history(0), {})


def test_example_spectra_are_offset_and_carry_each_bands_continuum():
    """At most four spectra, the k-th raised by 0.01; for each spectrum and band a dashed
    continuum from the mean reflectance at the left shoulder to that at the right one; a
    labelled line at each band centre."""
    h = spectra_history(6)
    plot = plot_example_spectra(h, {})
    refl, wl = h.data["prospect_example_refl"], WAVELENGTH_UM
    solid = [t for t in plot.data if str(t.get("name", "")).startswith("example")]
    assert len(solid) == 4
    for k, line in enumerate(solid):
        assert line["y"] == pytest.approx(refl[k] + 0.01 * k)
    continua = [t for t in plot.data if t.get("name") == "continuum"]
    assert len(continua) == 4 * len(BANDS)
    band = BANDS[-1]
    left = np.abs(wl - band.left_shoulder_um) <= 0.03
    right = np.abs(wl - band.right_shoulder_um) <= 0.03
    last = continua[len(BANDS) * 3 + len(BANDS) - 1]
    assert list(last["x"]) == [band.left_shoulder_um, band.right_shoulder_um]
    assert last["y"] == pytest.approx([refl[3][left].mean() + 0.03,
                                       refl[3][right].mean() + 0.03])
    labels = plot.layout["annotations"]
    assert sorted(a["text"] for a in labels) == sorted(b.name for b in BANDS)
    # Neighbouring bands' names at alternating heights: close bands do not overprint.
    by_x = sorted(labels, key=lambda a: a["x"])
    assert all(a["y"] != b["y"] for a, b in zip(by_x, by_x[1:], strict=False))


def test_a_site_spectrum_that_is_all_missing_is_skipped():
    h = History({"prospect_wavelength_um": WAVELENGTH_UM,
                 "prospect_site_refl": np.full((1, WAVELENGTH_UM.size), np.nan),
                 "prospect_site_sigma": np.full((1, WAVELENGTH_UM.size), np.nan)})
    with pytest.raises(Skip, match="no co-added site spectrum"):
        plot_site_spectrum(h, {})


def test_report_of_a_prospecting_run_has_its_three_pages(tmp_path):
    """A summary with survey coverage is a prospecting run: the report adds the resource
    map, the example spectra and the site's spectrum (here without one: a note)."""
    h = map_history(np.full(N_SITES, 0.4), np.linspace(0, 1, N_SITES), np.ones(N_SITES, bool))
    history = {**h.data, **spectra_history(2).data, "t_s": np.arange(3.0)}
    page = write_report(tmp_path, history, {"survey_coverage": 0.5})
    assert plot_ids(page)[-2:] == ["resource-map", "example-spectra"]
    # Only trace types of plotly.js's cartesian bundle (tests/sim/report_page.py).
    types = {t.get("type", "scatter") for p in payload(page)["plots"].values() for t in p["data"]}
    assert types <= CARTESIAN_TRACE_TYPES, types
    out = page.read_text(encoding="utf-8")
    assert '<figure id="site-spectrum">' in out
    assert "no prospect_site_refl in the history" in out
