"""The touch-and-go plots of the report (sim/report_tag.py): descent profile, ground
track on the map and near the target, and the geometry the sweep pages share (the
target-plane basis, the 99 % ellipse).

Plots are checked through what they draw (traces, shapes, labels, as data), on small
synthetic histories, never by pixels.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_page import CARTESIAN_TRACE_TYPES, payload, plot_ids, series_values, trace
from scipy.stats import chi2

from sim.report import write_report
from sim.report_kit import History, Skip
from sim.report_tag import (
    CHI2_2DOF_99,
    ellipse_99,
    lat_lon_deg,
    local_east_north,
    plane_basis,
    plot_descent_profile,
    plot_ground_track,
)

TARGET_BF_M = np.array([0.0, -250.0, 37.0])
unit_floats = st.floats(-1.0, 1.0, allow_nan=False)


def descent_history(n=600):
    t = np.arange(n, dtype=float)
    height = np.maximum(200.0 - 0.5 * t, 0.0)
    return {"t_s": t, "head_height_m": height, "vert_speed_mps": np.gradient(height)}


def test_the_chi_square_quantile_is_the_99_percent_one_for_two_dof():
    """The 99 % ellipse uses the chi-square 0.99 quantile of 2 degrees of freedom
    (checked against scipy's, not a copy of the constant)."""
    assert CHI2_2DOF_99 == pytest.approx(chi2.ppf(0.99, 2), abs=1e-4)


def test_ellipse_of_axis_aligned_points_has_the_scaled_standard_deviations():
    """Semi-axes are sqrt(chi2_99 * variance) along the principal directions, the larger
    first, and the angle is that of the major axis."""
    rng = np.random.default_rng(4)
    pts = np.column_stack([rng.normal(0.0, 1.0, 4000), rng.normal(0.0, 1.0, 4000)])
    pts = (pts - pts.mean(axis=0)) / pts.std(axis=0, ddof=1) * [0.3, 0.1] + [2.0, -1.0]
    centre, a, b, angle = ellipse_99(pts)
    assert centre == pytest.approx([2.0, -1.0], abs=1e-9)
    assert a == pytest.approx(math.sqrt(CHI2_2DOF_99) * 0.3, rel=0.02)
    assert b == pytest.approx(math.sqrt(CHI2_2DOF_99) * 0.1, rel=0.02)
    assert math.sin(angle) == pytest.approx(0.0, abs=0.05)  # major axis along x


@settings(max_examples=40, deadline=None)
@given(theta=st.floats(-math.pi, math.pi), spread=st.floats(0.05, 5.0))
def test_ellipse_of_points_on_a_line_points_along_the_line(theta, spread):
    """Points spread along one direction: the major axis is that direction (mod 180 deg),
    the minor axis is zero."""
    s = np.linspace(-spread, spread, 25)
    pts = np.column_stack([s * math.cos(theta), s * math.sin(theta)])
    _, a, b, angle = ellipse_99(pts)
    assert a == pytest.approx(math.sqrt(CHI2_2DOF_99 * np.var(s, ddof=1)), rel=1e-6)
    assert b == pytest.approx(0.0, abs=1e-6 * a)
    assert abs(math.sin(angle - theta)) == pytest.approx(0.0, abs=1e-6)


def test_two_points_give_a_tiny_ellipse_not_an_error():
    """With fewer than three touchdowns there is no covariance: a 1 mm placeholder."""
    centre, a, b, _ = ellipse_99(np.array([[1.0, 1.0], [3.0, 1.0]]))
    assert centre == pytest.approx([2.0, 1.0])
    assert a == pytest.approx(math.sqrt(CHI2_2DOF_99) * 1e-3)
    assert b == pytest.approx(a)


@settings(max_examples=60, deadline=None)
@given(x=unit_floats, y=unit_floats, z=unit_floats)
def test_target_plane_basis_is_orthonormal_and_right_handed(x, y, z):
    """The close-up and the sweep scatter measure misses in a plane at right angles to the
    target's direction, with e1 x e2 = n, whatever the direction (poles included)."""
    n = np.array([x, y, z])
    if np.linalg.norm(n) < 1e-3:
        n = np.array([0.0, 0.0, 1.0])
    n = n / np.linalg.norm(n)
    e1, e2 = plane_basis(n)
    basis = np.array([e1, e2, n])
    assert basis @ basis.T == pytest.approx(np.eye(3), abs=1e-12)
    assert np.cross(e1, e2) == pytest.approx(n, abs=1e-12)


def test_descent_profile_of_a_run_without_touch_and_go_is_skipped():
    """No head height (a hover run): the page says why instead of drawing empty axes."""
    h = History({"t_s": np.arange(5.0), "head_height_m": np.full(5, np.nan),
                            "vert_speed_mps": np.zeros(5)})
    with pytest.raises(Skip, match="not a touch-and-go run"):
        plot_descent_profile(h, {})


def test_descent_profile_marks_each_phase_at_its_time_and_the_contact_speed():
    """Height (log) in metres and vertical speed in cm/s against minutes; a dashed line at
    each phase the summary reports (and only those), named in the legend, not on the plot
    where names collide; the 10 cm/s contact line on the speed axis."""
    h = History(descent_history())
    events = {"descent": 60.0, "checkpoint": 240.0, "contact": 390.0}
    plot = plot_descent_profile(h, {"tag_events_s": events})
    data = {"arrays": h.store.arrays}
    height = series_values(data, plot.as_json(), "sampler-head height")
    assert height[0] == pytest.approx(200.0) and height[-1] == pytest.approx(0.01)  # floored
    speed = series_values(data, plot.as_json(), "vertical speed")
    assert speed[10] == pytest.approx(-50.0)  # -0.5 m/s in cm/s
    assert plot.layout["yaxis"]["type"] == "log"
    dashed = sorted(s["x0"] for s in plot.layout["shapes"] if s["type"] == "line")
    assert dashed == pytest.approx([1.0, 4.0, 6.5])
    phases = sorted(n for n in (t.get("name", "") for t in plot.data) if "T+" in n)
    assert phases == ["checkpoint T+00:04:00", "contact T+00:06:30", "descent T+00:01:00"]
    assert not [a for a in plot.layout["annotations"] if "contact" in a.get("text", "")]
    assert trace(plot, "contact speed 10 cm/s")["y"] == [-10.0, -10.0]


def test_descent_profile_opens_on_the_sequence_even_when_height_is_known_all_run():
    """The head height is downlinked all run long, so the view is bounded by the sequence's
    events (descent to back-away, padded by a tenth or a minute), in minutes."""
    hist = descent_history(6000)
    hist["head_height_m"] = np.full(6000, 150.0)  # known everywhere
    events = {"descent": 3000.0, "contact": 3900.0, "backaway": 3910.0}
    plot = plot_descent_profile(History(hist), {"tag_events_s": events})
    t0, t1 = plot.layout["xaxis"]["range"]
    assert t0 == pytest.approx((3000.0 - 91.0) / 60.0) and t1 == pytest.approx(
        (3910.0 + 91.0) / 60.0)


def test_ground_track_of_a_run_without_a_target_is_skipped():
    h = History({"t_s": np.arange(3.0), "pos_bf_m": np.ones((3, 3)) * 400.0})
    with pytest.raises(Skip, match="no target"):
        plot_ground_track(h, {})


def test_east_and_north_are_the_local_horizontal_directions():
    east, north = local_east_north(TARGET_BF_M)
    up = TARGET_BF_M / np.linalg.norm(TARGET_BF_M)
    assert east @ up == pytest.approx(0.0, abs=1e-12) and north @ up == pytest.approx(0.0,
                                                                                   abs=1e-12)
    assert east[2] == pytest.approx(0.0, abs=1e-12)  # east is along a parallel
    assert north[2] > 0  # north climbs towards +z (the spin axis)
    assert np.cross(east, north) == pytest.approx(up)


def test_touchdown_is_drawn_at_its_offset_east_and_north_of_the_target_above_it():
    """The touchdown dot sits where the head came down relative to the target (east and
    north in metres on the close-up; its latitude and longitude on the map), and it is
    drawn after the target so it is on top of the cross."""
    east, north = local_east_north(TARGET_BF_M)
    touchdown = TARGET_BF_M + 0.3 * east - 0.4 * north
    h = History({"t_s": np.arange(5.0), "pos_bf_m": np.tile(TARGET_BF_M * 1.5, (5, 1))})
    plot = plot_ground_track(h, {"target_bf_m": list(TARGET_BF_M),
                                 "touchdown_bf_m": list(touchdown), "touchdown_miss_m": 0.5})
    names = [t.get("name") for t in plot.data]
    dots = [t for t in plot.data if t.get("name") == "touchdown, miss 0.50 m"]
    close = next(t for t in dots if t["xaxis"] == "x2")
    assert (close["x"][0], close["y"][0]) == pytest.approx((0.3, -0.4))
    on_map = next(t for t in dots if t["xaxis"] == "x")
    lat, lon = lat_lon_deg(touchdown)
    assert (on_map["x"][0], on_map["y"][0]) == pytest.approx((lon[0], lat[0]))
    assert names.index("touchdown, miss 0.50 m") > max(
        i for i, n in enumerate(names) if str(n).startswith("target"))


def test_the_map_is_equirectangular_in_degrees_two_to_one():
    h = History({"t_s": np.arange(5.0), "pos_bf_m": np.tile(TARGET_BF_M * 1.5, (5, 1))})
    layout = plot_ground_track(h, {"target_bf_m": list(TARGET_BF_M)}).layout
    assert layout["xaxis"]["range"] == [-180, 180] and layout["yaxis"]["range"] == [-90, 90]
    assert layout["yaxis"]["scaleanchor"] == "x" and layout["yaxis"]["scaleratio"] == 1
    assert "longitude [deg]" in layout["xaxis"]["title"]["text"]
    assert layout["xaxis2"]["title"]["text"] == "east of target [m]"


def test_the_track_breaks_where_it_crosses_the_date_line():
    lon = np.radians([170.0, 179.0, -179.0, -170.0])
    pos = 400.0 * np.column_stack([np.cos(lon), np.sin(lon), np.zeros(4)])
    h = History({"t_s": np.arange(4.0), "pos_bf_m": pos})
    plot = plot_ground_track(h, {"target_bf_m": list(TARGET_BF_M)})
    ref = trace(plot, "sub-spacecraft track")["x"]["$ref"]
    from report_page import array
    xs = array({"arrays": h.store.arrays}, ref)
    assert np.isnan(xs).sum() == 1 and np.isnan(xs[2])  # no line across the whole map


def test_report_of_a_touch_and_go_run_has_its_two_pages(tmp_path):
    """A summary with an outcome is a touch-and-go run: the report adds the descent
    profile and the ground track to the common plots."""
    history = descent_history(120)
    history["pos_bf_m"] = np.tile(TARGET_BF_M * 1.5, (120, 1))
    out = write_report(tmp_path, history, {"outcome": "sampled",
                                           "target_bf_m": list(TARGET_BF_M)})
    ids = plot_ids(out)
    assert ids[-2:] == ["descent-profile", "ground-track"]
    assert set(payload(out)["plots"]) >= {"plot-descent-profile", "plot-ground-track"}
    # Only trace types of plotly.js's cartesian bundle (tests/sim/report_page.py).
    types = {t.get("type", "scatter") for p in payload(out)["plots"].values() for t in p["data"]}
    assert types <= CARTESIAN_TRACE_TYPES, types
