"""The spectral world: what each facet of the asteroid is made of, and what a spectrometer
pointed at it receives.

Three layers, each usable on its own:

* **Endmembers** -- the minerals' laboratory spectra and their band truth: sim.minerals.
* **Surface** -- ``SpectralSurface(kind, vertices_m, faces, seed, peak_face=None)`` for
  ``kind`` in ``KINDS``: per-facet abundances (rows sum to 1) varying in smooth patches,
  linear (areal) mixing, and the ground truth per facet (band depths and centres, hydration
  and metal indices, ``resource_truth``) computed here from the noise-free spectra on a 1 nm
  grid.  Each surface has one best site, ``peak_face``, standing out by ``PEAK_MARGINS``.
* **Observation** -- ``SpectralObserver(surface, mesh, distance_au)``
  and its ``observe(sc_pos_bf_m, boresight_bf, sun_bf)`` return the at-sensor radiance on
  the instrument's ``WAVELENGTH_UM`` (W m^-2 sr^-1 um^-1) and an ``ObservationTruth``: the
  Sun, the photometric law and the thermal emission are the simulator's own
  (sim.radiometry), the wavelength grid and field of view the instrument's configuration
  (flightsw.instrument_config).

All randomness comes from ``sim.noise.NoiseStream`` (seeded), so one seed gives one world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from flightsw.instrument_config import FOV_FULL_RAD, WAVELENGTH_UM
from sim.minerals import (
    BAND_INDEX,
    BANDS,
    ENDMEMBERS,
    FINE_WAVELENGTH_UM,
    METAL,
    PHYLLO,
    band_truth,
    endmember_reflectance,
    metal_index,
)
from sim.noise import NoiseStream
from sim.radiometry import (
    black_body_radiance,
    i_over_f_per_reflectance,
    subsolar_temperature_k,
    sun_irradiance,
)

__all__ = [
    "KINDS",
    "NIGHT_FLOOR_K",
    "PEAK_MARGINS",
    "ObservationTruth",
    "SpectralObserver",
    "SpectralSurface",
]

KINDS = ("bennu", "ryugu", "psyche")

#: (margin over every facet that is not a neighbour, margin over the neighbours) of the
#: best facet's resource_truth.  Hydration index is an OH band depth (~0.15-0.20 on Bennu);
#: the metal index is ~0.02-0.03 on Psyche, so its margins are scaled by that ratio.
PEAK_MARGINS = {"hydration_index": (0.02, 0.01), "metal_index": (0.0025, 0.00125)}


# ----------------------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class _KindSpec:
    base: tuple[float, ...]  # mean abundances, ENDMEMBERS order
    resource_endmember: int
    resource_name: str
    patch_amp: float  # +- amplitude of the patchy resource-endmember fraction
    resource_range: tuple[float, float]  # clip of the background resource fraction
    oh_centre_um: float
    dark_albedo: float
    bond_albedo: float
    emissivity: float


_KIND_SPECS = {
    # B-type: OH band everywhere, patchy strength (Bennu ~15-20 %).
    "bennu": _KindSpec((0.52, 0.43, 0.015, 0.015, 0.02), PHYLLO, "hydration_index",
                       0.09, (0.25, 0.60), 2.74, 0.037, 0.016, 0.90),
    # Cb-type: darker, weak 2.72 um OH band (~7-10 %).
    "ryugu": _KindSpec((0.86, 0.12, 0.005, 0.005, 0.01), PHYLLO, "hydration_index",
                       0.04, (0.05, 0.25), 2.72, 0.024, 0.014, 0.90),
    # M-type on the same shape: metal-rich patches, some pyroxene, almost no phyllosilicate.
    "psyche": _KindSpec((0.22, 0.01, 0.02, 0.10, 0.65), METAL, "metal_index",
                        0.10, (0.40, 0.85), 2.74, 0.037, 0.05, 0.92),
}


def _face_directions(vertices_m: np.ndarray, faces: np.ndarray) -> np.ndarray:
    c = vertices_m[faces].mean(axis=1)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def _random_unit(noise: NoiseStream) -> np.ndarray:
    v = np.array(noise.gauss3(1.0))
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else np.array([0.0, 0.0, 1.0])


def _bump_field(dirs: np.ndarray, noise: NoiseStream, n_bumps: int, amp: float,
                width_rad: tuple[float, float]) -> np.ndarray:
    """Sum of seeded Gaussian bumps (angle on the unit sphere of facet directions)."""
    out = np.zeros(len(dirs))
    for _ in range(n_bumps):
        centre = _random_unit(noise)
        width = width_rad[0] + (width_rad[1] - width_rad[0]) * noise.uniform()
        a = amp * (2.0 * noise.uniform() - 1.0)
        ang = np.arccos(np.clip(dirs @ centre, -1.0, 1.0))
        out += a * np.exp(-0.5 * (ang / width) ** 2)
    return out


def _vertex_neighbours(faces: np.ndarray, n_vertices: int) -> list[np.ndarray]:
    """For each face, the other faces sharing at least one vertex with it."""
    by_vertex: list[list[int]] = [[] for _ in range(n_vertices)]
    for fi, tri in enumerate(faces.tolist()):
        for v in tri:
            by_vertex[v].append(fi)
    out = []
    for fi, tri in enumerate(faces.tolist()):
        s = set(by_vertex[tri[0]]) | set(by_vertex[tri[1]]) | set(by_vertex[tri[2]])
        s.discard(fi)
        out.append(np.array(sorted(s), dtype=np.int64))
    return out


class SpectralSurface:
    """Per-facet composition and ground truth of one asteroid.

    Attributes (n = number of faces):
      kind, resource_name ('hydration_index' or 'metal_index'), peak_face (int),
      abundances (n, 5) rows summing to 1 (``ENDMEMBERS`` order),
      reflectance_std (n, 256): noise-free standard-geometry reflectance on
      ``WAVELENGTH_UM``,
      band_depth, band_centre_um (n, 5) in ``BANDS`` order, hydration_index (n,),
      metal_index (n,), resource_truth (n,) (the index named by resource_name),
      bond_albedo, emissivity, beaming (thermal model constants of this surface).

    ``peak_face`` holds the highest resource_truth; it exceeds every face that shares no
    vertex with it by ``PEAK_MARGINS[resource_name][0]`` and its vertex neighbours by
    ``[1]``.  Pass ``peak_face=`` to put the best site on a face of your choosing (a safe
    one); otherwise it is drawn from the seed.
    """

    def __init__(self, kind: str, vertices_m, faces, seed: int, *, peak_face: int | None = None,
                 n_patches: int = 14, draw: int = 0):
        if kind not in _KIND_SPECS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        v = np.asarray(vertices_m, dtype=float)
        f = np.asarray(faces, dtype=np.int64)
        if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3 or len(f) < 4:
            raise ValueError("vertices_m must be (N, 3) and faces (M>=4, 3)")
        if peak_face is not None and not 0 <= int(peak_face) < len(f):
            raise ValueError(f"peak_face must be in 0..{len(f) - 1}, got {peak_face}")
        if isinstance(n_patches, bool) or not 0 <= int(n_patches) <= 200:
            raise ValueError(f"n_patches must be in 0..200, got {n_patches}")
        spec = _KIND_SPECS[kind]
        self.kind = kind
        self.resource_name = spec.resource_name
        self.bond_albedo = spec.bond_albedo
        self.emissivity = spec.emissivity
        self.beaming = 1.0
        self.oh_centre_um = spec.oh_centre_um
        self._spec = spec
        self._em_fine = endmember_reflectance(FINE_WAVELENGTH_UM, spec.oh_centre_um,
                                              spec.dark_albedo)
        self._em_inst = endmember_reflectance(WAVELENGTH_UM, spec.oh_centre_um,
                                              spec.dark_albedo)
        self.neighbours = _vertex_neighbours(f, len(v))
        dirs = _face_directions(v, f)
        # draw > 0: another patch field for the same seed (a draw with no possible best site).
        noise = NoiseStream(seed, f"spectral-surface-{kind}" + (f"-draw{draw}" if draw else ""))
        abund = self._background(dirs, noise, int(n_patches))
        if peak_face is None:
            peak_face = int(noise.uniform() * len(f)) % len(f)
        self.peak_face = int(peak_face)
        self.abundances = self._add_peak(abund, dirs, self.peak_face)
        self.reflectance_std = self.abundances @ self._em_inst
        self._set_truth(self.abundances)

    # -- construction

    def _background(self, dirs, noise, n_patches) -> np.ndarray:
        spec = self._spec
        base = np.asarray(spec.base, dtype=float)
        res = spec.resource_endmember
        frac = base[res] + _bump_field(dirs, noise, n_patches, spec.patch_amp, (0.25, 0.7))
        frac = np.clip(frac, *spec.resource_range)
        # The other endmembers share the rest, in proportions that also vary in patches
        # (e.g. more pyroxene here, more matrix there).
        others = [k for k in range(len(ENDMEMBERS)) if k != res]
        w = np.empty((len(dirs), len(others)))
        for j, k in enumerate(others):
            mod = 1.0 + _bump_field(dirs, noise, max(1, n_patches // 3), 0.4, (0.3, 0.8))
            w[:, j] = base[k] * np.clip(mod, 0.2, None)
        w /= w.sum(axis=1, keepdims=True)
        abund = np.empty((len(dirs), len(ENDMEMBERS)))
        abund[:, res] = frac
        abund[:, others] = w * (1.0 - frac)[:, None]
        return abund

    def _truth_of(self, abund: np.ndarray) -> np.ndarray:
        refl = abund @ self._em_fine
        if self.resource_name == "metal_index":
            return metal_index(FINE_WAVELENGTH_UM, refl)
        return band_truth(FINE_WAVELENGTH_UM, refl)[0][..., BAND_INDEX["OH_27"]]

    def _add_peak(self, abund: np.ndarray, dirs: np.ndarray, peak: int) -> np.ndarray:
        """Blend a narrow patch rich in the resource endmember onto ``peak`` until it stands
        out by the margins; the patch is a Gaussian about one facet spacing wide, so the
        vertex neighbours get part of it and the faces beyond almost none."""
        res = self._spec.resource_endmember
        margin_far, margin_near = PEAK_MARGINS[self.resource_name]
        spacing = float(np.median(np.arccos(np.clip(dirs[self.neighbours[peak]] @ dirs[peak],
                                                    -1.0, 1.0))))
        ang = np.arccos(np.clip(dirs @ dirs[peak], -1.0, 1.0))
        w = np.exp(-0.5 * (ang / (0.55 * spacing)) ** 2)
        touched = np.flatnonzero(w > 1e-6)
        near = self.neighbours[peak]
        far_mask = np.ones(len(dirs), dtype=bool)
        far_mask[near] = False
        far_mask[peak] = False
        base_truth = self._truth_of(abund)
        cap = 0.95
        target = np.zeros((len(touched), len(ENDMEMBERS)))
        target[:, res] = 1.0
        for step in range(1, 41):
            a = 0.025 * step  # blend fraction toward the pure resource endmember at the peak
            blend = (a * w[touched])[:, None]
            mixed = abund[touched] * (1.0 - blend) + target * blend
            if mixed[:, res].max() > cap:
                break
            truth = base_truth.copy()
            truth[touched] = self._truth_of(mixed)
            top = truth[peak]
            # 1.5x the required margins: the search stops with room to spare.
            if (top - truth[far_mask].max() >= 1.5 * margin_far
                    and top - truth[near].max() >= 1.5 * margin_near):
                out = abund.copy()
                out[touched] = mixed
                return out
        raise RuntimeError(f"could not make face {peak} the best {self.resource_name} "
                           f"site by the required margin ({self.kind})")

    def _set_truth(self, abund: np.ndarray) -> None:
        refl = abund @ self._em_fine
        self.band_depth, self.band_centre_um = band_truth(FINE_WAVELENGTH_UM, refl)
        self.hydration_index = self.band_depth[:, BAND_INDEX["OH_27"]].copy()
        self.metal_index = metal_index(FINE_WAVELENGTH_UM, refl)
        self.resource_truth = (self.metal_index if self.resource_name == "metal_index"
                               else self.hydration_index)

    # -- queries

    @property
    def n_faces(self) -> int:
        return len(self.abundances)

    def reflectance(self, wavelength_um, abundances=None) -> np.ndarray:
        """Standard-geometry reflectance of given abundances (default: every face) on any
        wavelength grid; (..., 5) -> (..., n_wl)."""
        ab = self.abundances if abundances is None else np.asarray(abundances, dtype=float)
        em = endmember_reflectance(wavelength_um, self._spec.oh_centre_um,
                                   self._spec.dark_albedo)
        return ab @ em

    def mixture_truth(self, abundances) -> dict:
        """Ground truth of an areal mixture: band_depth, band_centre_um (5,),
        hydration_index, metal_index, resource_index."""
        refl = np.asarray(abundances, dtype=float) @ self._em_fine
        depth, centre = band_truth(FINE_WAVELENGTH_UM, refl)
        hyd = float(depth[BAND_INDEX["OH_27"]])
        met = float(metal_index(FINE_WAVELENGTH_UM, refl))
        return {"band_depth": depth, "band_centre_um": centre, "hydration_index": hyd,
                "metal_index": met,
                "resource_index": met if self.resource_name == "metal_index" else hyd}

    def subsolar_temp_k(self, distance_au: float) -> float:
        """Equilibrium subsolar temperature: (1-A) S = eta eps sigma T^4."""
        return subsolar_temperature_k(self.bond_albedo, self.emissivity, self.beaming,
                                      distance_au)


# ----------------------------------------------------------------------------- observation

NIGHT_FLOOR_K = 150.0
_SHADOW_OFFSET_M = 0.01  # start shadow rays off the surface so they do not hit their own face
# Footprint sampling: a degree-3 cubature of the uniform disc (centre 1/4, six points at
# sqrt(2/3) of the radius, 1/8 each), exact for the mean of any quadratic over the disc.
_RING_FRACTION = math.sqrt(2.0 / 3.0)
_RAY_WEIGHTS = np.array([0.25] + [0.125] * 6)


@dataclass
class ObservationTruth:
    """What the spectrometer looked at (truth, never sent to the flight software).

    Angles are means over the on-body rays weighted by the footprint weights; nan when the
    footprint is off the body.  Composition truth (band depths ...) is computed on demand.
    """

    on_body: bool
    lit: bool
    lit_fraction: float  # footprint area fraction that is on the body and lit
    faces: np.ndarray  # faces hit (unique)
    face_weights: np.ndarray  # their footprint weights, summing to 1 over the body part
    incidence_deg: float
    emission_deg: float
    phase_deg: float
    surface_temp_k: float
    range_m: float  # along the boresight to the surface (inf on a miss)
    abundances: np.ndarray  # (5,) of the footprint's mixture
    _surface: SpectralSurface = field(repr=False)

    @cached_property
    def _truth(self) -> dict:
        if not self.on_body:
            nan5 = np.full(len(BANDS), np.nan)
            return {"band_depth": nan5, "band_centre_um": nan5.copy(), "hydration_index":
                    math.nan, "metal_index": math.nan, "resource_index": math.nan}
        return self._surface.mixture_truth(self.abundances)

    @property
    def band_depth(self) -> np.ndarray:
        return self._truth["band_depth"]

    @property
    def band_centre_um(self) -> np.ndarray:
        return self._truth["band_centre_um"]

    @property
    def hydration_index(self) -> float:
        return self._truth["hydration_index"]

    @property
    def metal_index(self) -> float:
        return self._truth["metal_index"]

    @property
    def resource_index(self) -> float:
        return self._truth["resource_index"]


def _unit(name: str, v) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a finite 3-vector, got {v!r}")
    n = float(np.linalg.norm(a))
    if n == 0.0:
        raise ValueError(f"{name} must be non-zero")
    return a / n


class SpectralObserver:
    """At-sensor radiance of a footprint on a ``SpectralSurface``.

    ``mesh``: the world's ``flightsw.geometry.mesh.TriangleMesh`` of the surface's faces;
    the footprint rays are cast on it in one batch.
    """

    def __init__(self, surface: SpectralSurface, mesh, distance_au: float,
                 fov_full_rad: float = FOV_FULL_RAD):
        if not 0.1 <= distance_au <= 10.0:
            raise ValueError(f"distance_au must be in [0.1, 10], got {distance_au}")
        if not 0.0 < fov_full_rad < 0.5:
            raise ValueError(f"fov_full_rad must be in (0, 0.5), got {fov_full_rad}")
        if mesh.n_faces != surface.n_faces:
            raise ValueError(f"faces ({mesh.n_faces}) do not match the surface "
                             f"({surface.n_faces})")
        self.surface = surface
        self.distance_au = float(distance_au)
        self.fov_full_rad = float(fov_full_rad)
        self._mesh = mesh
        self._normals = mesh.normals
        self._wl = WAVELENGTH_UM
        self._sun_over_pi = sun_irradiance(self._wl, distance_au) / np.pi
        self.subsolar_temp_k = surface.subsolar_temp_k(distance_au)

    def _ray_directions(self, boresight: np.ndarray) -> np.ndarray:
        # Two axes orthogonal to the boresight, then the centre and a ring of six.
        helper = np.array([1.0, 0.0, 0.0]) if abs(boresight[0]) < 0.9 else np.array([0, 1.0, 0])
        x = np.cross(boresight, helper)
        x /= np.linalg.norm(x)
        y = np.cross(boresight, x)
        r = math.tan(0.5 * self.fov_full_rad) * _RING_FRACTION
        ang = np.arange(6) * (math.pi / 3.0)
        ring = boresight + r * (np.cos(ang)[:, None] * x + np.sin(ang)[:, None] * y)
        dirs = np.vstack([boresight, ring])
        return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)

    def observe(self, sc_pos_bf_m, boresight_bf, sun_bf) -> tuple[np.ndarray, ObservationTruth]:
        """Radiance (256,) W m^-2 sr^-1 um^-1 on ``WAVELENGTH_UM`` and its truth.

        ``sc_pos_bf_m``: spacecraft position, body-fixed, metres; ``boresight_bf`` and
        ``sun_bf``: directions (normalised here), body-fixed.  Space is black.
        """
        pos = np.asarray(sc_pos_bf_m, dtype=float)
        if pos.shape != (3,) or not np.all(np.isfinite(pos)):
            raise ValueError(f"sc_pos_bf_m must be a finite 3-vector, got {sc_pos_bf_m!r}")
        bore = _unit("boresight_bf", boresight_bf)
        sun = _unit("sun_bf", sun_bf)
        dirs = self._ray_directions(bore)
        k = len(dirs)
        face, dist = self._mesh.cast_unit(np.broadcast_to(pos, (k, 3)), dirs)
        hit = face >= 0
        radiance = np.zeros_like(self._wl)
        if not hit.any():
            return radiance, self._truth_off_body()
        fh = face[hit]
        wts = _RAY_WEIGHTS[hit]
        normals = self._normals[fh]
        points = pos + dirs[hit] * dist[hit, None]
        cos_i = normals @ sun
        cos_e = np.clip(-(normals * dirs[hit]).sum(axis=1), 1e-6, 1.0)
        cos_g = np.clip(-(dirs[hit] @ sun), -1.0, 1.0)
        lit = cos_i > 0.0
        if lit.any():
            li = np.flatnonzero(lit)
            origins = points[li] + normals[li] * _SHADOW_OFFSET_M
            blocker, _ = self._mesh.cast_unit(origins, np.broadcast_to(sun, (len(li), 3)))
            lit[li[blocker >= 0]] = False
        phase_deg = np.degrees(np.arccos(cos_g))
        temp_k = np.where(lit, self.subsolar_temp_k * np.clip(cos_i, 0.0, 1.0) ** 0.25, 0.0)
        temp_k = np.maximum(temp_k, NIGHT_FLOOR_K)
        thermal = self.surface.emissivity * black_body_radiance(self._wl, temp_k[:, None])
        per_ray = thermal
        if lit.any():
            refl = self.surface.reflectance_std[fh[lit]]
            phot = i_over_f_per_reflectance(cos_i[lit], cos_e[lit], phase_deg[lit], self._wl)
            per_ray = per_ray.copy()
            per_ray[lit] += refl * phot * self._sun_over_pi
        radiance = wts @ per_ray
        wn = wts / wts.sum()
        uniq, inv = np.unique(fh, return_inverse=True)
        face_w = np.bincount(inv, weights=wn)
        truth = ObservationTruth(
            on_body=True, lit=bool(lit.any()), lit_fraction=float(wts[lit].sum()),
            faces=uniq, face_weights=face_w,
            incidence_deg=float(wn @ np.degrees(np.arccos(np.clip(cos_i, -1.0, 1.0)))),
            emission_deg=float(wn @ np.degrees(np.arccos(cos_e))),
            phase_deg=float(wn @ phase_deg), surface_temp_k=float(wn @ temp_k),
            range_m=float(dist[0]), abundances=face_w @ self.surface.abundances[uniq],
            _surface=self.surface)
        return radiance, truth

    def _truth_off_body(self) -> ObservationTruth:
        nan = math.nan
        return ObservationTruth(
            on_body=False, lit=False, lit_fraction=0.0, faces=np.zeros(0, dtype=np.int64),
            face_weights=np.zeros(0), incidence_deg=nan, emission_deg=nan, phase_deg=nan,
            surface_temp_k=nan, range_m=math.inf, abundances=np.full(len(ENDMEMBERS), nan),
            _surface=self.surface)
