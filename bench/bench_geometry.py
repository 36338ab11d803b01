"""Ray-cast speed: the shared mesh (flightsw.geometry.mesh) on the paths that use it.

Prints figures, never pass/fail.  CPU time per call, best of several repeats, Bennu's
1280 faces:
  single ray   one altimeter shot from 50-1200 m (World's lidar, TriangleMesh.nearest_hit)
  hazard scan  49 rays of a flash-lidar scan through the flight ShapeModel.ray_hits
  lidar scan   the simulator's flash lidar (49 cells, boulders)
  spectrum     the footprint and shadow casts of one spectrometer observation (+ spectra)
  occlusion    ShapeModel shadowed + hidden, caches cleared (the survey's visibility pass)
With --peer DIR (a checkout of another version, e.g. a git worktree of the commit before),
the same figures are measured there too, alternately in fresh processes, with the ratio.
Usage: python bench/bench_geometry.py [--peer DIR] [--rounds N]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("single ray", "hazard scan", "lidar scan", "spectrum", "occlusion")


def _best_us(fn, n: int, repeats: int = 7) -> float:
    """Best of the repeats, in process CPU time: other processes on a shared machine
    inflate it far less than wall time."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.process_time() - t0) / n)
    return best * 1e6


def measure() -> dict:
    """The figures of the tree on sys.path (this one or a peer's; either API)."""
    import numpy as np

    from flightsw.prospect.hazard import scan_directions
    from flightsw.prospect.shape_model import ShapeModel
    from sim.noise import NoiseStream
    from sim.relief import BoulderField, FlashLidarModel
    from sim.shape import bennu_top_shape
    from sim.spectral import SpectralObserver, SpectralSurface

    v, f = bennu_top_shape(3)
    try:
        from flightsw.geometry.mesh import TriangleMesh
        mesh = TriangleMesh(v, f)
        boulders = BoulderField(mesh, 1, 0.15, (3.0, 8.0), (0.6, 3.0))
        observer_args = (mesh, 1.1)
    except ImportError:  # the version before the shared mesh
        from sim.shape import MeshRayCaster
        mesh = MeshRayCaster(v, f)
        boulders = BoulderField(v, f, 1, 0.15, (3.0, 8.0), (0.6, 3.0))
        observer_args = (mesh, v, f, 1.1)
    rng = np.random.default_rng(1)
    shots = []
    for _ in range(500):
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        r = mesh.surface_radius_m(u) + rng.uniform(50.0, 1200.0)
        shots.append((tuple(u * r), tuple(-u + 0.05 * rng.normal(size=3))))
    poses = []
    for origin, look in shots[:100]:
        z = np.asarray(look) / np.linalg.norm(look)
        x = np.cross([0.0, 0.0, 1.0], z)
        x /= np.linalg.norm(x)
        poses.append((np.asarray(origin), np.array([x, np.cross(z, x), z])))
    shape = ShapeModel(v, f)
    scans = [(np.repeat(p[None], 49, axis=0), scan_directions(a, 0.02, 7)) for p, a in poses]
    lidar = FlashLidarModel(NoiseStream(1, "bench"), mesh, boulders, 7, 0.02, 0.05, 5000.0)
    observer = SpectralObserver(SpectralSurface("bennu", v, f, 1), *observer_args)
    sun = np.array([1.0, 0.3, 0.1])
    far = np.array([1500.0, 300.0, 200.0])

    def occlusion(_):
        shape._shadow_key = shape._hidden_key = None
        shape.shadowed(sun)
        shape.hidden(far)

    return {
        "single ray": _best_us(lambda i: mesh.distance_m(*shots[i % 500]), 2000),
        "hazard scan": _best_us(lambda i: shape.ray_hits(*scans[i % 100]), 200),
        "lidar scan": _best_us(lambda i: lidar.measure(0, *poses[i % 100]), 200),
        "spectrum": _best_us(lambda i: observer.observe(poses[i % 100][0],
                                                        poses[i % 100][1][2], sun), 200),
        "occlusion": _best_us(occlusion, 5, 3),
    }


def _child(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child"], cwd=tree,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", type=Path, help="a checkout of another version to compare")
    parser.add_argument("--rounds", type=int, default=3, help="alternate runs per tree")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    trees = [("this", ROOT)] + ([("peer", args.peer.resolve())] if args.peer else [])
    best = {label: {} for label, _ in trees}
    for _ in range(args.rounds):
        for label, tree in trees:
            for name, us in _child(tree).items():
                best[label][name] = min(us, best[label].get(name, float("inf")))
    print(f"{'per call':<12} {'this':>10}" + (f" {'peer':>10} {'this/peer':>10}"
                                              if args.peer else ""))
    for name in NAMES:
        this = best["this"][name]
        line = f"{name:<12} {this:>8.1f}us"
        if args.peer:
            peer = best["peer"][name]
            line += f" {peer:>8.1f}us {this / peer:>10.2f}"
        print(line)


if __name__ == "__main__":
    main()
