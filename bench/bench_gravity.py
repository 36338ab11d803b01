"""Cost of the gravity models: exact polyhedron, the cached Taylor fast path along hover and
descent trajectories, and the polyhedral-gravity package (test-only oracle) measured in the
same run.  Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/bench_gravity.py
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.geometry.mesh import TriangleMesh  # noqa: E402
from sim.gravity import CachedGravity, PointMassGravity, PolyhedronGravity  # noqa: E402
from sim.shape import bennu_top_shape  # noqa: E402

GM_BENNU_M3S2 = 4.892


def us_per_call(fn, args_list, repeat: int = 9) -> float:
    """Best-of-`repeat` mean wall time per call, µs (best: least disturbed by other load)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for args in args_list:
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / len(args_list))
    return best * 1e6


def hover_path_m(center_m: np.ndarray, duration_s: float, rate_hz: float) -> np.ndarray:
    """A 1 m circle per minute around the hover point plus 1 mm/s drift, sampled at rate_hz."""
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    w = 2.0 * math.pi / 60.0
    circle = np.stack([np.cos(w * t) - 1.0, np.sin(w * t), 0.001 * t], axis=1)
    return center_m + circle


def descent_path_m(direction, caster: TriangleMesh, top_m: float, bottom_m: float,
                   speed_mps: float, rate_hz: float) -> np.ndarray:
    u = np.asarray(direction, float) / np.linalg.norm(direction)
    r_surface = caster.surface_radius_m(u)
    altitude = np.arange(top_m, bottom_m, -speed_mps / rate_hz)
    return (r_surface + altitude)[:, None] * u


def run_cached(exact: PolyhedronGravity, path: np.ndarray, rel_tol: float):
    cached = CachedGravity(exact, rel_tol=rel_tol)
    points = [tuple(p) for p in path.tolist()]
    fn = cached.acceleration_xyz
    t0 = time.perf_counter()
    for p in points:
        fn(*p)
    total_us = (time.perf_counter() - t0) / len(points) * 1e6
    # Accuracy on a subsample (a fresh cache replays the same path).
    check = CachedGravity(exact, rel_tol=rel_tol)
    stride = max(1, len(points) // 400)
    worst = 0.0
    for k, p in enumerate(points):
        got = check.acceleration_xyz(*p)
        if k % stride == 0:
            want = exact.acceleration(np.array(p))
            worst = max(worst, float(np.linalg.norm(np.subtract(got, want)) /
                                     np.linalg.norm(want)))
    return total_us, cached, worst


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(f"Gravity model cost (µs per point, best of 9; numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs, load average {load:.2f} at start)")
    models = {}
    hover = None
    for subdivisions in (3, 4):
        v, f = bennu_top_shape(subdivisions)
        g = PolyhedronGravity(v, f, GM_BENNU_M3S2)
        models[subdivisions] = g
        caster = TriangleMesh(v, f)
        hover = np.array([caster.surface_radius_m([1, 0, 0]) + 1000.0, 0.0, 0.0])
        pts = [(hover + 0.1 * k,) for k in range(50)]
        batch = np.array([hover + 0.1 * k for k in range(256)])
        acc = us_per_call(g.acceleration, pts)
        both = us_per_call(g.acceleration_and_gradient, pts)
        batched = us_per_call(g.acceleration, [(batch,)], repeat=5) / len(batch)
        print(f"  exact polyhedron, {len(f):5d} faces: acceleration {acc:7.1f}   "
              f"acceleration+gradient {both:7.1f}   batched (256 points) {batched:6.1f}")
        models[subdivisions] = (g, acc)

    g3, exact3_us = models[3]
    rate_hz = 40.0
    print(f"\nCachedGravity (1280 faces), paths sampled at {rate_hz:g} Hz:")
    caster = TriangleMesh(g3.vertices_m, g3.faces)
    hover = np.array([caster.surface_radius_m([1, 0, 0]) + 1000.0, 0.0, 0.0])
    paths = {
        "hover 1 km altitude, 1 m circle, 1 h": hover_path_m(hover, 3600.0, rate_hz),
        "descent 200 m -> 1 m at 10 cm/s": descent_path_m(
            (1, 0.2, 0.3), caster, 200.0, 1.0, 0.10, rate_hz),
    }
    cached_hover_us = math.nan
    for name, path in paths.items():
        for rel_tol in (1e-5, 1e-4):
            total_us, cached, worst = run_cached(g3, path, rel_tol)
            if name.startswith("hover") and rel_tol == 1e-5:
                cached_hover_us = total_us
            print(f"  {name:38s} rel_tol {rel_tol:.0e}: {total_us:6.2f} µs/call over "
                  f"{cached.calls} calls, {cached.exact_evaluations} exact evaluations, "
                  f"worst error {worst:.1e}")
    cached = CachedGravity(g3)
    cached.acceleration_xyz(*hover.tolist())
    near = [tuple((hover + [0.01 * k, 0.0, 0.0]).tolist()) for k in range(50)]
    hot = us_per_call(cached.acceleration_xyz, near * 20)
    pm = PointMassGravity(GM_BENNU_M3S2)
    pm_us = us_per_call(pm.acceleration_xyz, near * 20)
    print(f"  hot path only (inside the ball): {hot:.2f} µs/call;"
          f" point mass acceleration_xyz: {pm_us:.2f} µs/call")

    try:
        import polyhedral_gravity as pg  # GPL-3.0, test/bench-only oracle
    except ImportError:
        print("\npolyhedral_gravity not installed: no oracle figures")
        return
    print(f"\npolyhedral_gravity {pg.__version__} ({pg.__parallelization__}), same points:")
    for subdivisions in (3, 4):
        g, ours_us = models[subdivisions]
        poly = pg.Polyhedron((g.vertices_m, g.faces), g.density_kgpm3,
                             integrity_check=pg.PolyhedronIntegrity.DISABLE)
        evaluable = pg.GravityEvaluable(poly)
        p = hover.tolist()
        single = us_per_call(lambda q, ev=evaluable: ev(q, parallel=False), [(p,)] * 20)
        batch = [(hover + [0.1 * k, 0, 0]).tolist() for k in range(256)]
        par = us_per_call(lambda b, ev=evaluable: ev(b, parallel=True), [(batch,)], repeat=3) / 256
        line = (f"  {len(g.faces):5d} faces: {single:7.1f} µs/point serial, {par:7.1f} parallel"
                f" (batched); ratio to our exact acceleration {single / ours_us:5.2f}x")
        if subdivisions == 3:
            line += f", to CachedGravity on the hover {single / cached_hover_us:,.0f}x"
        print(line)


if __name__ == "__main__":
    main()
