"""Gravity of a constant-density polyhedron, a cached fast path for the integrator, and a
point mass for comparison.

Frame: body-fixed, metres; the body does not rotate in this module (the dynamics add the
frame's rotation).

Sign convention (the geodesy one, also that of Werner & Scheeres 1997): the potential U is
positive, U = GM/r far away, and the acceleration is its gradient, a = ∇U, pointing toward
the body.  The gradient tensor is ∇∇U = ∂a/∂r (symmetric, 1/s²) and the Laplacian is
∇²U = -4πGρ inside the body, 0 outside.
"""

from __future__ import annotations

import math

import numpy as np

from flightsw.geometry.mesh import TriangleMesh, circumscribing_radius_m, mesh_signed_volume_m3

__all__ = [
    "CachedGravity",
    "G_SI",
    "PointMassGravity",
    "PolyhedronGravity",
    "point_mass_acceleration_mps2",
]

#: Newtonian constant of gravitation, CODATA 2018, m³ kg⁻¹ s⁻².  Only used to report a
#: density in kg/m³: the field itself depends on G·ρ = GM / volume alone.
G_SI = 6.67430e-11

# Points are evaluated in chunks so that the (faces × points) work arrays stay small enough
# for the CPU caches (≈ 40k elements: 32 points for 1280 faces, 8 for 5120).
_CHUNK_ELEMENTS = 40_000


def _check_points(r_bf_m) -> tuple[np.ndarray, bool]:
    """(P, 3) float64 array and whether the caller gave a single point."""
    r = np.asarray(r_bf_m, dtype=np.float64)
    single = r.ndim == 1
    if single:
        r = r[None, :]
    if r.ndim != 2 or r.shape[1] != 3:
        raise ValueError(f"r_bf_m must have shape (3,) or (P, 3), got {np.shape(r_bf_m)}")
    if not np.all(np.isfinite(r)):
        raise ValueError("r_bf_m must be finite")
    return r, single


def _check_gm(gm_m3s2) -> float:
    gm = float(gm_m3s2)
    if not (math.isfinite(gm) and gm > 0.0):
        raise ValueError(f"gm_m3s2 must be a positive finite number, got {gm_m3s2!r}")
    return gm


class PolyhedronGravity:
    """Exact gravity of a closed, outward, constant-density triangle mesh (Werner & Scheeres
    1997, Celest. Mech. Dyn. Astr. 65:313), valid everywhere outside, on and inside the body
    except exactly on an edge or vertex.

    With r_e (r_f) the vector from the field point to any point of edge e (face f),

        U   =  Gρ/2 Σ_e r_e·E_e·r_e L_e  −  Gρ/2 Σ_f r_f·F_f·r_f ω_f
        a   = −Gρ   Σ_e E_e·r_e L_e      +  Gρ   Σ_f F_f·r_f ω_f
        ∇∇U =  Gρ   Σ_e E_e L_e          −  Gρ   Σ_f F_f ω_f
        ∇²U = −Gρ   Σ_f ω_f

    F_f = n_f n_fᵀ (outward face normal), E_e = n_A n_e^Aᵀ + n_B n_e^Bᵀ (the two faces of
    edge e and their in-plane outward edge normals), L_e = ln((r_i + r_j + e)/(r_i + r_j − e))
    and ω_f the signed solid angle of face f seen from the point (Σ ω_f = 4π inside).

    The density comes from ``gm_m3s2``: G·ρ·volume = GM.  Everything per face and per edge
    that does not depend on the field point is computed once here; writing E_e·r_e as
    E_e·v_i − E_e·x (v_i a vertex of the edge, x the point) turns the edge sums into a few
    dot products with the vector of L_e.
    """

    def __init__(self, vertices_m, faces, gm_m3s2: float):
        v = np.asarray(vertices_m, dtype=np.float64)
        f = np.asarray(faces)
        self.gm_m3s2 = _check_gm(gm_m3s2)
        self.volume_m3 = mesh_signed_volume_m3(v, f)  # validates shapes and indices
        if not self.volume_m3 > 0.0:
            raise ValueError(
                f"mesh signed volume is {self.volume_m3:.6g} m³: faces must be "
                "counter-clockwise seen from outside (outward normals)"
            )
        f = f.astype(np.int64)
        self.vertices_m = v.copy()
        self.faces = f.copy()
        self.vertices_m.setflags(write=False)
        self.faces.setflags(write=False)
        self.g_rho_s2 = self.gm_m3s2 / self.volume_m3  # G·ρ, 1/s²
        self.density_kgpm3 = self.g_rho_s2 / G_SI
        self.circumscribing_radius_m = circumscribing_radius_m(v)
        self._mesh = TriangleMesh(v, f)

        p0, p1, p2 = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
        normal = np.cross(p1 - p0, p2 - p0)
        double_area = np.linalg.norm(normal, axis=1)
        if np.any(double_area == 0.0):
            raise ValueError("mesh has degenerate (zero-area) faces")
        normal /= double_area[:, None]

        # Edges: each directed edge i→j of a face must meet its reverse j→i in exactly one
        # other face (closed, consistently oriented, manifold).
        m = len(f)
        tail = np.concatenate([f[:, 0], f[:, 1], f[:, 2]])
        head = np.concatenate([f[:, 1], f[:, 2], f[:, 0]])
        face_of = np.tile(np.arange(m), 3)
        n_vert = len(v)
        directed = tail * n_vert + head
        order = np.argsort(directed)
        if np.any(np.diff(directed[order]) == 0):
            raise ValueError("mesh has a directed edge used twice: not a consistently "
                             "oriented manifold")
        reverse = head * n_vert + tail
        pos = np.searchsorted(directed[order], reverse)
        pos = np.minimum(pos, len(directed) - 1)
        twin = order[pos]
        if not np.array_equal(directed[twin], reverse):
            raise ValueError("mesh is not closed: some edge has no opposite face")
        keep = tail < head  # one record per undirected edge, seen from face A (i→j)
        ei, ej = tail[keep], head[keep]
        face_a, face_b = face_of[keep], face_of[twin[keep]]
        edge_vec = v[ej] - v[ei]
        edge_len = np.linalg.norm(edge_vec, axis=1)
        n_a, n_b = normal[face_a], normal[face_b]
        # In-plane outward edge normals: (edge direction as traversed) × face normal.
        t_a = np.cross(edge_vec, n_a) / edge_len[:, None]
        t_b = np.cross(-edge_vec, n_b) / edge_len[:, None]
        dyad = n_a[:, :, None] * t_a[:, None, :] + n_b[:, :, None] * t_b[:, None, :]
        dyad = 0.5 * (dyad + dyad.transpose(0, 2, 1))  # symmetric in exact arithmetic
        self.edge_count = len(ei)

        self._edge_i, self._edge_j = ei, ej
        self._edge_len = edge_len
        self._edge_dyad = dyad.reshape(-1, 9)  # E_e, flattened
        self._edge_ev = np.einsum("eab,eb->ea", dyad, v[ei])  # E_e·v_i
        self._edge_vev = np.einsum("ea,ea->e", v[ei], self._edge_ev)  # v_iᵀ·E_e·v_i
        self._face_normal = normal
        self._face_double_area = double_area
        self._face_offset = np.einsum("fa,fa->f", normal, p0)  # n_f·v (same for all v of f)
        self._face_dyad = (normal[:, :, None] * normal[:, None, :]).reshape(-1, 9)
        self._face_idx = (f[:, 0], f[:, 1], f[:, 2])
        self._vt = np.ascontiguousarray(v.T)  # (3, N) rows: cheaper arithmetic than (N, 3)
        self._chunk = max(1, _CHUNK_ELEMENTS // m)

    # -- core -------------------------------------------------------------------------------

    def _per_point_sums(self, r: np.ndarray):
        """For points r (P, 3): L_e (P, Ne), ω_f (P, M) and n_f·r_f (P, M).

        Work arrays are laid out (vertex/edge/face, point) so that the gathers by vertex
        index copy whole rows: much cheaper than gathering columns when P > 1.
        """
        vt = self._vt
        rx = vt[0][:, None] - r[:, 0]
        ry = vt[1][:, None] - r[:, 1]
        rz = vt[2][:, None] - r[:, 2]
        rn = np.sqrt(rx * rx + ry * ry + rz * rz)
        s = rn[self._edge_i] + rn[self._edge_j]
        e = self._edge_len[:, None]
        # ln((s + e)/(s − e)) = log1p(2e/(s − e)): keeps full precision far away, where the
        # ratio is close to 1.
        wire = np.log1p(2.0 * e / (s - e))
        # Height of the point below each face plane, n_f·r_f (positive outside the face).
        dist = self._face_offset[:, None] - np.einsum("fa,pa->fp", self._face_normal, r)
        i0, i1, i2 = self._face_idx
        ax, ay, az, an = rx[i0], ry[i0], rz[i0], rn[i0]
        bx, by, bz, bn = rx[i1], ry[i1], rz[i1], rn[i1]
        cx, cy, cz, cn = rx[i2], ry[i2], rz[i2], rn[i2]
        # r_a·(r_b × r_c) = r_a·((v_b − v_a) × (v_c − v_a)) = 2 area_f (n_f·r_f): computed
        # this way it has no cancellation when the point is far away.
        triple = self._face_double_area[:, None] * dist
        denom = (
            an * bn * cn
            + an * (bx * cx + by * cy + bz * cz)
            + bn * (cx * ax + cy * ay + cz * az)
            + cn * (ax * bx + ay * by + az * bz)
        )
        omega = 2.0 * np.arctan2(triple, denom)
        return wire.T, omega.T, dist.T

    def _evaluate(self, r: np.ndarray, potential: bool, acceleration: bool, gradient: bool):
        """Requested fields at points r (P, 3): dict of arrays, plus 'omega_sum' (P,).

        Contractions are einsum, not ``@``: BLAS picks its kernel for the CPU at run
        time and sums in a different order on another machine, and the simulator must
        give the same flight log for the same seed everywhere.
        """
        out: dict[str, list[np.ndarray]] = {
            "potential": [], "acceleration": [], "gradient": [], "omega_sum": []
        }
        g_rho = self.g_rho_s2
        for start in range(0, len(r), self._chunk):
            x = r[start : start + self._chunk]
            wire, omega, dist = self._per_point_sums(x)
            out["omega_sum"].append(omega.sum(axis=1))
            e_sum = np.einsum("pe,ek->pk", wire, self._edge_dyad).reshape(-1, 3, 3)  # Σ L_e E_e
            if acceleration:
                # a = Gρ [ −Σ L_e E_e v_i + (Σ L_e E_e) x + Σ ω_f n_f (n_f·r_f) ]
                acc = (
                    -np.einsum("pe,ea->pa", wire, self._edge_ev)
                    + np.einsum("pab,pb->pa", e_sum, x)
                    + np.einsum("pf,fa->pa", omega * dist, self._face_normal)
                )
                out["acceleration"].append(g_rho * acc)
            if potential:
                # r_eᵀE_e r_e = v_iᵀE_e v_i − 2 x·E_e v_i + xᵀE_e x  (E_e symmetric)
                edge_term = (
                    np.einsum("pe,e->p", wire, self._edge_vev)
                    - 2.0 * np.einsum("pa,pe,ea->p", x, wire, self._edge_ev)
                    + np.einsum("pa,pab,pb->p", x, e_sum, x)
                )
                face_term = np.einsum("pf,pf->p", omega, dist * dist)
                out["potential"].append(0.5 * g_rho * (edge_term - face_term))
            if gradient:
                grad = e_sum - np.einsum("pf,fk->pk", omega, self._face_dyad).reshape(-1, 3, 3)
                out["gradient"].append(g_rho * grad)
        return {k: np.concatenate(vals) for k, vals in out.items() if vals}

    # -- public -----------------------------------------------------------------------------

    def potential(self, r_bf_m):
        """Potential U, m²/s² (positive): float for a (3,) point, (P,) for (P, 3) points."""
        r, single = _check_points(r_bf_m)
        u = self._evaluate(r, True, False, False)["potential"]
        return float(u[0]) if single else u

    def acceleration(self, r_bf_m) -> np.ndarray:
        """Acceleration ∇U, m/s²: (3,) for a (3,) point, (P, 3) for (P, 3) points."""
        r, single = _check_points(r_bf_m)
        a = self._evaluate(r, False, True, False)["acceleration"]
        return a[0] if single else a

    def gradient(self, r_bf_m) -> np.ndarray:
        """Gravity gradient tensor ∇∇U = ∂a/∂r, 1/s²: (3, 3), or (P, 3, 3)."""
        r, single = _check_points(r_bf_m)
        g = self._evaluate(r, False, False, True)["gradient"]
        return g[0] if single else g

    def acceleration_and_gradient(self, r_bf_m) -> tuple[np.ndarray, np.ndarray]:
        """Both, sharing the per-face and per-edge work: ((3,), (3, 3)) or batched."""
        r, single = _check_points(r_bf_m)
        out = self._evaluate(r, False, True, True)
        a, g = out["acceleration"], out["gradient"]
        return (a[0], g[0]) if single else (a, g)

    def laplacian(self, r_bf_m):
        """∇²U = −Gρ Σ ω_f, 1/s²: −4πGρ inside, 0 outside, −2πGρ on a face."""
        r, single = _check_points(r_bf_m)
        lap = -self.g_rho_s2 * self._solid_angle_sum(r)
        return float(lap[0]) if single else lap

    def is_inside(self, r_bf_m):
        """True where the point is inside the body (total solid angle 4π rather than 0)."""
        r, single = _check_points(r_bf_m)
        inside = self._solid_angle_sum(r) > 2.0 * math.pi
        return bool(inside[0]) if single else inside

    def distance_to_surface_m(self, r_bf_m) -> float:
        """Shortest distance from a point (3,) to the surface, metres (unsigned)."""
        return self._mesh.distance_to_surface_m(r_bf_m)

    def _solid_angle_sum(self, r: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                self._per_point_sums(r[s : s + self._chunk])[1].sum(axis=1)
                for s in range(0, len(r), self._chunk)
            ]
        )


class CachedGravity:
    """Fast gravity for the integrator: a first-order Taylor expansion of the exact field,

        a(r) ≈ a(r0) + ∇∇U(r0)·(r − r0),

    re-expanded (one exact acceleration + gradient evaluation) whenever the point leaves a
    ball of radius ρ around r0.  ``acceleration_xyz`` takes and returns plain floats and
    does no numpy work on the hot path (≈ 1 µs).

    Error bound used to choose ρ.  Along the segment r0 → r (|r − r0| ≤ ρ) Taylor's theorem
    gives |a(r) − a(r0) − ∇∇U(r0)(r − r0)| ≤ ½ T ρ², T the largest norm of the third
    derivative tensor of U on the ball.  For a unit point mass at distance s the third
    derivative's norm is at most 6/s⁴ (its largest directional value, along the line of
    sight); summing over the body's mass, every element at distance ≥ s_min:

      * T ≤ 6 GM / (d − ρ − R)⁴   where d = |r0| and R the circumscribing radius (d − ρ > R);
      * T ≤ ∫ 6Gρ_b / s⁴ dV over the shell s_min ≤ s ≤ s_max = 24π Gρ_b (1/s_min − 1/s_max),
        ρ_b the density, s_min = h − ρ with h the distance from r0 to the surface, and s_max
        the outer radius of the shell that holds the body's whole volume packed as close
        to the point as possible (s_max³ = s_min³ + 3V/4π).  Valid close to the body, even
        inside the circumscribing sphere.

    T is the smaller of the two.  The relative error is the bound over a lower bound of
    |a(r)| on the ball, |a(r0)| − ‖∇∇U(r0)‖_F ρ − ½ T ρ², and ρ is shrunk until
    ½ T ρ² ≤ rel_tol · (|a(r0)| − ‖∇∇U(r0)‖_F ρ − ½ T ρ²).  ρ never exceeds h / 2.
    h is a lower bound of the distance to the surface: the larger of d − R and the last
    exact point–mesh distance minus how far the point has moved since (the distance to a
    surface changes no faster than the point moves).  The exact distance is recomputed when
    that bound has lost a tenth of it, so over a low site inside the circumscribing sphere,
    where d − R is far below the true height, the ball is sized by the true height at the
    price of one distance computation per 10 % of altitude.  Inside the body (or within
    1 µm of the surface) no expansion is kept: every call is an exact evaluation.

    The bound is rigorous, and conservative by about (d / (d − R))⁴ far out: at 1 km from
    Bennu with rel_tol = 1e-5 the ball is ≈ 1 m; near the surface it is ≈ √(rel_tol h R)/3
    (≈ 1.4 cm at 1 m altitude).  Measured errors: ≈ 0.2 of rel_tol on a 1 km hover, ≈ 0.01
    of it near the surface.  The default, 5e-5, is half the 1e-4 the simulator is held to
    (the ball is √5 times larger, and a touch-and-go re-expands half as often).

    Counters: ``calls`` (hot-path calls), ``exact_evaluations`` (re-expansions plus exact
    calls inside the body).
    """

    def __init__(self, exact: PolyhedronGravity, rel_tol: float = 5e-5):
        if not isinstance(exact, PolyhedronGravity):
            raise TypeError(f"exact must be a PolyhedronGravity, got {type(exact).__name__}")
        rel_tol = float(rel_tol)
        if not (math.isfinite(rel_tol) and 0.0 < rel_tol < 0.1):
            raise ValueError(f"rel_tol must be in (0, 0.1), got {rel_tol!r}")
        self.exact = exact
        self.rel_tol = rel_tol
        self.calls = 0
        self.exact_evaluations = 0
        self.radius_m = 0.0  # current expansion ball radius (0: none)
        self._r2 = -1.0  # squared radius; negative forces an exact evaluation
        self._x0 = self._y0 = self._z0 = 0.0
        self._ax = self._ay = self._az = 0.0
        self._gxx = self._gxy = self._gxz = 0.0
        self._gyx = self._gyy = self._gyz = 0.0
        self._gzx = self._gzy = self._gzz = 0.0
        self.distance_evaluations = 0
        self._h_ref_m = -1.0  # last exact surface distance (negative: none yet)
        self._h_ref_point = (0.0, 0.0, 0.0)

    def acceleration_xyz(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """Gravity acceleration (m/s², body-fixed) at (x, y, z) m, body-fixed."""
        self.calls += 1
        dx = x - self._x0
        dy = y - self._y0
        dz = z - self._z0
        # `not <=` also sends NaN to the slow path, which rejects it.
        if not dx * dx + dy * dy + dz * dz <= self._r2:
            return self._expand(x, y, z)
        return (
            self._ax + self._gxx * dx + self._gxy * dy + self._gxz * dz,
            self._ay + self._gyx * dx + self._gyy * dy + self._gyz * dz,
            self._az + self._gzx * dx + self._gzy * dy + self._gzz * dz,
        )

    def acceleration(self, r_bf_m) -> np.ndarray:
        """Convenience wrapper: (3,) array in, (3,) array out."""
        x, y, z = (float(c) for c in np.asarray(r_bf_m, dtype=np.float64).reshape(3))
        return np.array(self.acceleration_xyz(x, y, z))

    def _expand(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        x, y, z = float(x), float(y), float(z)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
            raise ValueError(f"position must be finite, got ({x}, {y}, {z})")
        exact = self.exact
        r0 = np.array([x, y, z])
        self.exact_evaluations += 1
        out = exact._evaluate(r0[None, :], False, True, True)
        acc = out["acceleration"][0]
        grad = out["gradient"][0]
        inside = out["omega_sum"][0] > 2.0 * math.pi
        ax, ay, az = (float(c) for c in acc)

        d = math.sqrt(x * x + y * y + z * z)
        big_r = exact.circumscribing_radius_m
        h = 0.0 if inside else self._surface_distance_lower_bound_m(x, y, z, d - big_r)
        rho = self._ball_radius_m(d, h, math.sqrt(ax * ax + ay * ay + az * az),
                                  float(np.linalg.norm(grad)))
        self._x0, self._y0, self._z0 = x, y, z
        self._ax, self._ay, self._az = ax, ay, az
        (
            (self._gxx, self._gxy, self._gxz),
            (self._gyx, self._gyy, self._gyz),
            (self._gzx, self._gzy, self._gzz),
        ) = grad.tolist()
        self.radius_m = rho
        self._r2 = rho * rho if rho > 0.0 else -1.0
        return ax, ay, az

    def _surface_distance_lower_bound_m(self, x: float, y: float, z: float,
                                        outside_sphere_m: float) -> float:
        """A lower bound of the point's distance to the surface (see the class doc)."""
        moved = math.dist((x, y, z), self._h_ref_point)
        if self._h_ref_m < 0.0 or moved > 0.1 * self._h_ref_m:
            self._h_ref_m = self.exact.distance_to_surface_m(np.array([x, y, z]))
            self._h_ref_point = (x, y, z)
            self.distance_evaluations += 1
            moved = 0.0
        return max(outside_sphere_m, self._h_ref_m - moved)

    def _ball_radius_m(self, d: float, h: float, acc_norm: float, grad_norm: float) -> float:
        """Largest ρ (searched geometrically) meeting the error bound in the class doc."""
        if h <= 1e-6 or acc_norm <= 0.0:
            return 0.0
        gm = self.exact.gm_m3s2
        g_rho = self.exact.g_rho_s2
        big_r = self.exact.circumscribing_radius_m
        tol = self.rel_tol

        # Radius beyond which no mass can remain once the body's volume is packed as close
        # to the point as possible, from s = h - rho outward (caps the near-field integral).
        pack_m3 = 3.0 * self.exact.volume_m3 / (4.0 * math.pi)

        def third_derivative_bound(rho: float) -> float:
            s_min = h - rho
            s_max = (s_min**3 + pack_m3) ** (1.0 / 3.0)
            bound = 24.0 * math.pi * g_rho * (1.0 / s_min - 1.0 / s_max)
            gap = d - rho - big_r
            if gap > 0.0:
                bound = min(bound, 6.0 * gm / gap**4)
            return bound

        rho = min(0.5 * h, math.sqrt(2.0 * tol * acc_norm / third_derivative_bound(0.0)))
        for _ in range(200):
            err = 0.5 * third_derivative_bound(rho) * rho * rho
            if err <= tol * (acc_norm - grad_norm * rho - err):
                return rho
            rho *= 0.8
        return 0.0


def point_mass_acceleration_mps2(r_bf_m, gm_m3s2: float) -> np.ndarray:
    """−GM r/|r|³, m/s²: (3,) or (P, 3)."""
    r, single = _check_points(r_bf_m)
    gm = _check_gm(gm_m3s2)
    n = np.linalg.norm(r, axis=1)
    if np.any(n == 0.0):
        raise ValueError("point-mass gravity is undefined at the origin")
    a = -gm * r / n[:, None] ** 3
    return a[0] if single else a


class PointMassGravity:
    """Point mass at the origin with the same methods as ``PolyhedronGravity`` (for
    comparisons and far-field runs)."""

    def __init__(self, gm_m3s2: float):
        self.gm_m3s2 = _check_gm(gm_m3s2)

    def potential(self, r_bf_m):
        """GM/|r|, m²/s²."""
        r, single = _check_points(r_bf_m)
        u = self.gm_m3s2 / np.linalg.norm(r, axis=1)
        return float(u[0]) if single else u

    def acceleration(self, r_bf_m) -> np.ndarray:
        return point_mass_acceleration_mps2(r_bf_m, self.gm_m3s2)

    def gradient(self, r_bf_m) -> np.ndarray:
        """GM (3 r rᵀ − |r|² I) / |r|⁵, 1/s²."""
        r, single = _check_points(r_bf_m)
        n = np.linalg.norm(r, axis=1)
        g = self.gm_m3s2 * (
            3.0 * r[:, :, None] * r[:, None, :] - (n**2)[:, None, None] * np.eye(3)
        ) / (n**5)[:, None, None]
        return g[0] if single else g

    def acceleration_xyz(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        r2 = x * x + y * y + z * z
        k = -self.gm_m3s2 / (r2 * math.sqrt(r2))
        return k * x, k * y, k * z
