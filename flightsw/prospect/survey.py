"""Survey planning: where to point next, and how much of the lit surface is covered.

A site counts toward the coverage denominator once it has been lit (incidence
below PRS_MAX_INC_DEG) and observable (emission below PRS_MAX_EMI_DEG) at the
same time during the survey; it is covered when it has PRS_SPEC_SITE good
spectra.  The next target is the uncovered, currently visible site with the
lowest cost: the slew from the current boresight in degrees, minus a bonus for
sites about to leave view (small angular margin to the incidence or emission
limit), so nothing rotates away unobserved.  The top shape is nearly convex,
so facing the Sun and facing the probe are taken as lit and visible.
"""

import math

import numpy as np

URGENCY_DEG = 8.0  # slew degrees a site at the edge of view is worth


class SurveyPlanner:
    def __init__(self, shape, max_incidence_deg: float, max_emission_deg: float,
                 spectra_per_site: int):
        self.shape = shape
        self.cos_inc = math.cos(math.radians(max_incidence_deg))
        self.cos_emi = math.cos(math.radians(max_emission_deg))
        self.spectra_per_site = int(spectra_per_site)
        n = shape.n_sites
        self.good_spectra = np.zeros(n, dtype=np.int64)
        self.seen_lit = np.zeros(n, dtype=bool)
        self.visible_now = np.zeros(n, dtype=bool)
        self._margin = np.zeros(n)
        self.current = None

    def update(self, pos_bf, sun_bf) -> None:
        ci = self.shape.cos_incidence(sun_bf)
        ce = self.shape.cos_emission(pos_bf)
        self.visible_now = (ci >= self.cos_inc) & (ce >= self.cos_emi)
        self.seen_lit |= self.visible_now
        self._margin = np.minimum(ci - self.cos_inc, ce - self.cos_emi)

    def record(self, site_id: int) -> None:
        if 0 <= site_id < self.good_spectra.size:
            self.good_spectra[site_id] += 1

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
        n = self.n_illuminated
        return self.n_covered / n if n else 0.0

    def next_target(self, pos_bf, boresight_bf, sun_bf):
        cur = self.current
        if cur is not None and self.visible_now[cur] and not self.covered[cur]:
            return cur
        todo = np.flatnonzero(self.visible_now & ~self.covered)
        if todo.size == 0:
            self.current = None
            return None
        aim = self.shape.centroids[todo] - np.asarray(pos_bf, dtype=float)
        aim /= np.linalg.norm(aim, axis=1)[:, None]
        slew = np.degrees(np.arccos(np.clip(aim @ np.asarray(boresight_bf, dtype=float),
                                            -1.0, 1.0)))
        urgency = URGENCY_DEG * np.clip(1.0 - self._margin[todo] / 0.15, 0.0, 1.0)
        self.current = int(todo[np.argmin(slew - urgency)])
        return self.current

    @staticmethod
    def station_position_i(sun_i, pole_i, range_m: float, phase_deg: float) -> np.ndarray:
        """Inertial station: the sun direction turned by phase_deg toward the pole, at range."""
        s = np.asarray(sun_i, dtype=float)
        s /= np.linalg.norm(s)
        p = np.asarray(pole_i, dtype=float)
        toward_pole = p - (p @ s) * s
        if np.linalg.norm(toward_pole) < 1e-9:
            toward_pole = np.cross(s, [1.0, 0.0, 0.0])
        toward_pole /= np.linalg.norm(toward_pole)
        a = math.radians(phase_deg)
        return range_m * (math.cos(a) * s + math.sin(a) * toward_pole)
