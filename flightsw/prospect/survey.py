"""Survey planning: where to point next, and how much of the lit surface is covered.

Coverage.  A site (facet) joins the coverage denominator, the "illuminated
surface", the first time it is lit (incidence <= max_incidence_deg, centroid
not in another facet's shadow) and observable (emission <= max_emission_deg,
centroid not hidden by another facet) at the same time.  It is covered once it
has `spectra_per_site` good spectra.  coverage = covered / illuminated.

Next target: a greedy cost over the sites that are lit-and-observable now and
not yet covered,

    cost_deg = slew_deg - urgency_weight_deg * urgency,
    urgency  = clip(1 - exit_deg / urgency_window_deg, 0, 1),

slew_deg the angle from the current boresight to the site's centroid, exit_deg
the body rotation left before the site leaves the lit-and-observable set (its
incidence or emission margin divided by the margin's rate of decrease per
degree of spin; linear prediction).  A site about to rotate out of the light or
out of view is thus worth up to urgency_weight_deg of slew.  The current target
is kept until it is covered or leaves the set (no dithering between sites).

The spin is about +z_bf (the IAU body-fixed convention of geometry.frames), so an
inertial direction seen in bf turns by -omega about z: d(v_bf)/d(phi) = v_bf x z.
"""

import math

import numpy as np

_Z = np.array([0.0, 0.0, 1.0])


class SurveyError(ValueError):
    """A survey planner argument that cannot be used (one-line message)."""


class SurveyPlanner:
    def __init__(self, shape, max_incidence_deg: float, max_emission_deg: float,
                 spectra_per_site: int, urgency_window_deg: float = 10.0,
                 urgency_weight_deg: float = 15.0):
        for name, val in (("max_incidence_deg", max_incidence_deg),
                          ("max_emission_deg", max_emission_deg)):
            if not 0.0 < val < 90.0:
                raise SurveyError(f"{name} must be in (0, 90) deg, got {val}")
        if int(spectra_per_site) < 1:
            raise SurveyError(f"spectra_per_site must be >= 1, got {spectra_per_site}")
        if urgency_window_deg <= 0.0 or urgency_weight_deg < 0.0:
            raise SurveyError("urgency_window_deg must be > 0 and urgency_weight_deg >= 0")
        self.shape = shape
        self.max_incidence_deg = float(max_incidence_deg)
        self.max_emission_deg = float(max_emission_deg)
        self.cos_inc = math.cos(math.radians(max_incidence_deg))
        self.cos_emi = math.cos(math.radians(max_emission_deg))
        self.spectra_per_site = int(spectra_per_site)
        self.urgency_window_deg = float(urgency_window_deg)
        self.urgency_weight_deg = float(urgency_weight_deg)
        n = shape.n_sites
        self.good_spectra = np.zeros(n, dtype=np.int64)
        self.seen_lit = np.zeros(n, dtype=bool)  # the coverage denominator
        self.visible_now = np.zeros(n, dtype=bool)
        self.exit_deg = np.full(n, np.inf)  # body rotation before each site leaves the set
        self.current = None

    # -- state -------------------------------------------------------------------------------
    def update(self, pos_bf, sun_bf) -> None:
        """Refresh the lit-and-observable set from the spacecraft position and Sun (bf).

        Cheap: facet cosines each call; the occlusion and shadow passes are cached by the
        shape model and recomputed after ~0.5 deg of spin.
        """
        shape = self.shape
        p = np.asarray(pos_bf, dtype=float)
        s = np.asarray(sun_bf, dtype=float)
        s = s / np.linalg.norm(s)
        lit = shape.lit(s, self.max_incidence_deg)
        obs = shape.observable(p, self.max_emission_deg)
        self.visible_now = lit & obs
        self.seen_lit |= self.visible_now
        # Margins to the limits and their rates per radian of spin.
        n = shape.normals
        m_inc = n @ s - self.cos_inc
        r_inc = n @ np.cross(s, _Z)
        view = p - shape.centroids
        dist = np.linalg.norm(view, axis=1)
        u = view / dist[:, None]
        m_emi = (n * u).sum(axis=1) - self.cos_emi
        dv = np.cross(p, _Z)  # d(pos_bf)/d(phi); the centroids do not move in bf
        du = (dv[None, :] - u * (u @ dv)[:, None]) / dist[:, None]
        r_emi = (n * du).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_inc = np.where(r_inc < 0.0, m_inc / -r_inc, np.inf)
            t_emi = np.where(r_emi < 0.0, m_emi / -r_emi, np.inf)
        self.exit_deg = np.degrees(np.maximum(np.minimum(t_inc, t_emi), 0.0))

    def record(self, site_id: int) -> None:
        """Count one good spectrum of a site (ids outside the model are ignored)."""
        if 0 <= site_id < self.good_spectra.size:
            self.good_spectra[site_id] += 1

    def unrecord(self, site_id: int) -> None:
        """Take back a spectrum counted on arrival that the pipeline then rejected."""
        if 0 <= site_id < self.good_spectra.size and self.good_spectra[site_id] > 0:
            self.good_spectra[site_id] -= 1

    @property
    def covered(self) -> np.ndarray:
        return self.good_spectra >= self.spectra_per_site

    @property
    def n_covered(self) -> int:
        return int(np.count_nonzero(self.covered & self.seen_lit))

    @property
    def n_illuminated(self) -> int:
        return int(np.count_nonzero(self.seen_lit))

    @property
    def coverage(self) -> float:
        """Covered share of the illuminated surface (0 before anything was seen)."""
        n = self.n_illuminated
        return self.n_covered / n if n else 0.0

    # -- planning ----------------------------------------------------------------------------
    def next_target(self, pos_bf, boresight_bf, sun_bf):
        """The site to point at next (facet index), or None when nothing is left to observe.

        Uses the set from the last update(); sun_bf is accepted for symmetry with update.
        """
        del sun_bf  # the exit prediction was made in update()
        cur = self.current
        covered = self.covered
        if cur is not None and self.visible_now[cur] and not covered[cur]:
            return cur
        todo = np.flatnonzero(self.visible_now & ~covered)
        if todo.size == 0:
            self.current = None
            return None
        b = np.asarray(boresight_bf, dtype=float)
        b = b / np.linalg.norm(b)
        aim = self.shape.centroids[todo] - np.asarray(pos_bf, dtype=float)
        aim /= np.linalg.norm(aim, axis=1)[:, None]
        slew_deg = np.degrees(np.arccos(np.clip(aim @ b, -1.0, 1.0)))
        urgency = np.clip(1.0 - self.exit_deg[todo] / self.urgency_window_deg, 0.0, 1.0)
        cost = slew_deg - self.urgency_weight_deg * urgency
        self.current = int(todo[np.argmin(cost)])  # ties: the lowest site id
        return self.current

    @staticmethod
    def station_position_i(sun_i, pole_i, range_m: float, phase_deg: float) -> np.ndarray:
        """Inertial survey station, m from the body centre: the unit Sun direction turned by
        phase_deg toward the spin pole (so the probe sees the lit hemisphere at low phase and
        sits off the exact opposition, where its own shadow would fall on the target)."""
        s = np.asarray(sun_i, dtype=float)
        s = s / np.linalg.norm(s)
        p = np.asarray(pole_i, dtype=float)
        toward_pole = p - (p @ s) * s
        if np.linalg.norm(toward_pole) < 1e-9:  # Sun along the pole: any perpendicular
            toward_pole = np.cross(s, [1.0, 0.0, 0.0])
            if np.linalg.norm(toward_pole) < 1e-9:
                toward_pole = np.cross(s, [0.0, 1.0, 0.0])
        toward_pole /= np.linalg.norm(toward_pole)
        a = math.radians(phase_deg)
        return range_m * (math.cos(a) * s + math.sin(a) * toward_pole)
