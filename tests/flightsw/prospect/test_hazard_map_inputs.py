"""The lidar hazard map's inputs (flightsw/prospect/hazard.py): a scan or setting it cannot
use is a HazardError with a one-line message; a scan with no returns changes nothing; the
plane fit says 'no plane' rather than inventing one.  The map's slope and relief on real
scans are test_geometry_sites.py's."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.prospect.hazard import HazardError, HazardMap, ground_plane_fit, scan_directions
from flightsw.prospect.shape_model import ShapeModel

V = 100.0 * np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
                     dtype=float)
F = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4],
              [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
SHAPE = ShapeModel(V, F)
AXES = np.eye(3)


def refused(call, *args):
    with pytest.raises(HazardError) as info:
        call(*args)
    assert len(str(info.value).splitlines()) == 1
    return str(info.value)


@pytest.mark.parametrize(("fov", "grid_n", "message"), [
    (0.1, 0, "grid_n must be >= 1, got 0"),
    (math.pi, 5, f"fov_full_rad must be in [0, pi), got {math.pi}"),
    (-0.1, 5, "fov_full_rad must be in [0, pi), got -0.1"),
])
def test_an_impossible_scan_geometry_is_refused(fov, grid_n, message):
    assert refused(scan_directions, AXES, fov, grid_n) == message


@settings(max_examples=40, deadline=None)
@given(fov=st.floats(0.01, 1.5), n=st.integers(2, 9))
def test_corner_cells_are_half_the_field_off_the_boresight_on_each_axis(fov, n):
    """The ICD's cell geometry: tan(angle) on each axis, the corners at +-fov/2."""
    d = scan_directions(AXES, fov, n)
    corner = d[n * n - 1]  # last row (+x), last column (+y)
    assert math.atan2(corner[0], corner[2]) == pytest.approx(fov / 2, rel=1e-9)
    assert math.atan2(corner[1], corner[2]) == pytest.approx(fov / 2, rel=1e-9)
    assert np.linalg.norm(d, axis=1) == pytest.approx(np.ones(n * n))


def test_a_one_cell_scan_looks_along_the_boresight():
    assert scan_directions(AXES, 0.2, 1) == pytest.approx(np.array([[0.0, 0.0, 1.0]]))


def test_a_ground_tolerance_must_be_positive():
    assert refused(HazardMap, SHAPE, 0.0) == "ground_tol_m must be > 0, got 0.0"


def test_a_scan_with_fewer_ranges_than_cells_is_refused():
    assert refused(HazardMap(SHAPE).add_scan, [0, 0, 300.0], AXES, 0.1, 3, np.ones(8)) == \
        "ranges_m holds 8 values, grid_n = 3 needs 9"


def test_scan_axes_must_be_three_rows_of_three():
    assert refused(HazardMap(SHAPE).add_scan, [0, 0, 300.0], np.eye(2), 0.1, 2,
                   np.full(4, 200.0)) == "axes_bf must be the three spacecraft axes (3, 3), " \
                                         "got (2, 2)"


@pytest.mark.parametrize("ranges", [np.zeros(4), np.full(4, np.nan), np.full(4, -5.0)])
def test_a_scan_without_a_return_places_nothing_and_changes_nothing(ranges):
    """Range 0, not finite or negative is no return: nothing placed, no site touched."""
    hz = HazardMap(SHAPE)
    down = -np.eye(3)[2]
    assert hz.add_scan([0.0, 0.0, 300.0], [[1, 0, 0], [0, -1, 0], down], 0.1, 2, ranges) == 0
    assert hz.n_points.sum() == 0 and np.isnan(hz.slope_deg).all()


@pytest.mark.parametrize("points", [
    np.zeros((2, 3)),  # too few
    np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0]]),  # a line
    np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 50.0]]),  # a lone low pair
])
def test_points_that_do_not_span_a_ground_plane_give_no_plane(points):
    """Fewer than three ground points, or collinear ones: (None, nan), never a made-up
    normal (a site without a fitted slope is not called safe)."""
    normal, rough = ground_plane_fit(points, np.empty((0, 3)), (0.0, 0.0, 1.0))
    assert normal is None and math.isnan(rough)
