"""The on-board shape model's refusals (flightsw/prospect/shape_model.py): a model or a
query it cannot use is a ShapeModelError with a one-line message naming the argument,
never an internal exception from the mesh underneath.  Also: the slope against the
uplinked local 'down', and the occlusion cache's key."""

import math

import numpy as np
import pytest

from flightsw.prospect.shape_model import ShapeModel, ShapeModelError

# An octahedron of radius 100 m: 6 vertices, 8 outward faces.
V = 100.0 * np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
                     dtype=float)
F = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4],
              [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
SHAPE = ShapeModel(V, F)


def refused(call, *args, **kwargs):
    with pytest.raises(ShapeModelError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    return message


def test_a_negative_cache_tolerance_is_refused():
    assert refused(ShapeModel, V, F, cache_tolerance_deg=-0.1) == \
        "cache_tolerance_deg must be >= 0, got -0.1"


def test_a_mesh_the_geometry_refuses_comes_back_as_a_shape_model_error():
    """The mesh's reason, as the shape model's error (callers catch one exception type)."""
    assert refused(ShapeModel, V, F + 1) == "faces index vertices outside 0..5"


def test_a_down_direction_per_face_is_required():
    assert refused(ShapeModel, V, F, down_bf=np.zeros((3, 3))) == \
        "down_bf must have shape (8, 3), got (3, 3)"


def test_slope_is_measured_against_the_uplinked_down():
    """Default 'down' is toward the centre (an octahedron face then slopes 0 deg); an
    uplinked down turned by 30 deg from the face's inward normal gives 30 deg."""
    assert SHAPE.slope_deg == pytest.approx(np.zeros(8), abs=1e-9)
    inward = -SHAPE.normals[0]
    side = np.cross(inward, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    down = -SHAPE.normals
    down[0] = math.cos(math.radians(30.0)) * inward + math.sin(math.radians(30.0)) * side
    tilted = ShapeModel(V, F, down_bf=down)
    assert tilted.slope_deg[0] == pytest.approx(30.0)
    assert tilted.slope_deg[1:] == pytest.approx(np.zeros(7), abs=1e-9)


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: SHAPE.cos_incidence([1.0, np.nan, 0.0]), "sun_bf"),
    (lambda: SHAPE.cos_emission([0.0, 0.0]), "pos_bf"),
    (lambda: SHAPE.lit(np.inf * np.ones(3), 80.0), "sun_bf"),
    (lambda: SHAPE.observable("far", 60.0), "pos_bf"),
])
def test_a_direction_or_position_that_is_not_a_finite_3_vector_is_named(call, argument):
    assert refused(call).startswith(f"{argument} must be a finite 3-vector, got ")


def test_a_ray_query_the_mesh_cannot_cast_is_a_shape_model_error():
    assert refused(SHAPE.ray_hits, np.zeros((2, 3)), np.ones((3, 3))) == \
        "origins and directions must both be (n, 3), got (2, 3) and (3, 3)"


def test_visibility_from_inside_the_bounding_sphere_is_refused():
    """Occlusion is computed for a spacecraft outside the body's bounding sphere only."""
    assert refused(SHAPE.hidden, [0.0, 0.0, 50.0]) == \
        "pos_bf must be outside the body's bounding sphere (100 m), got |pos| = 50 m"


def test_the_occlusion_cache_follows_range_as_well_as_direction():
    """Same direction, range changed by more than 1 %: recomputed, not served stale (a
    convex body hides nothing, so the test reads the cache key)."""
    shape = ShapeModel(V, F, cache_tolerance_deg=5.0)
    shape.hidden([300.0, 0.0, 0.0])
    key = shape._hidden_key
    shape.hidden([301.0, 0.0, 0.0])  # within 1 %: served from the cache
    assert shape._hidden_key is key
    shape.hidden([400.0, 0.0, 0.0])
    assert shape._hidden_key[1] == pytest.approx(400.0)
