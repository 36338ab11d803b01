"""The run's 1 Hz history (history.npz): the world's truth, and the downlinked
estimates sampled with it, never a flight object.

The columns that compare an estimate with the truth (hover error, navigation error
and sigma, mode) come from the latest telemetry at the sample time: the same
decoder fed from flight.tlog rebuilds them exactly (`telemetry_columns`).
"""

import math

import numpy as np

from flightsw.instrument_config import WAVELENGTH_UM
from sim.minerals import BANDS

NAN = math.nan


def telemetry_columns(tele, pos_bf: tuple, pos_i: tuple) -> tuple:
    """(hover error, its 3 body-fixed components, navigation error, navigation sigma,
    mode, the flight's own pointing error in degrees) from the downlink's latest hover
    target, estimate, heartbeat and guidance status."""
    target = tele.hover_target_bf_m
    if target is None:
        err = (NAN, NAN, NAN)
        hover = NAN
    else:
        err = (pos_bf[0] - target[0], pos_bf[1] - target[1], pos_bf[2] - target[2])
        hover = math.sqrt(err[0] ** 2 + err[1] ** 2 + err[2] ** 2)
    nav_err = nav_sigma = NAN
    if tele.nav_pos_i_m is not None:
        nav_err = math.dist(tele.nav_pos_i_m, pos_i)
        nav_sigma = math.sqrt(sum(s * s for s in tele.nav_pos_sigma_m))
    mode = -1 if tele.mode is None else tele.mode
    flight_att = NAN if tele.flight_att_err_rad is None else math.degrees(tele.flight_att_err_rad)
    return hover, err, nav_err, nav_sigma, mode, flight_att


class History:
    """1 Hz samples of truth and downlinked estimates, preallocated: memory flat in run
    length.

    One float row per sample, written with a single assignment (a dozen separate
    numpy stores cost more than the quantities they store); trimmed() hands out the
    named columns.
    """

    def __init__(self, n: int, n_wheels: int):
        self.n = 0
        # (name, width): scalars are 1 wide; trimmed() gives them as 1-d arrays.
        self.layout = [
            ("t_s", 1), ("hover_err_m", 1), ("pos_err_bf_m", 3), ("nav_err_m", 1),
            ("nav_sigma_m", 1), ("att_err_deg", 1), ("thruster_on_s", 8), ("dv_cum_mps", 1),
            ("wheel_speed_radps", n_wheels), ("mode", 1), ("altitude_m", 1), ("pos_bf_m", 3),
            # Touch-and-go: sampler-head height above the target plane and the
            # spacecraft's speed along the plane's normal (NaN without a target).
            ("head_height_m", 1), ("vert_speed_mps", 1), ("pos_i_m", 3),
            # What the flight said its pointing error was (from its own attitude
            # reference, PROBE_GUIDANCE_STATUS): tells a planned slew from a failure.
            ("flight_att_err_deg", 1),
        ]
        self._rows = np.zeros((n, sum(w for _, w in self.layout)))
        self._last_on = [0.0] * 8

    def sample(self, t_s: float, world, tele) -> None:
        i = self.n
        if i >= len(self._rows):
            return
        pos_bf = world.position_bf()
        pos_i = world.state.pos_i_m
        hover, err, nav_err, nav_sigma, mode, flight_att = telemetry_columns(tele, pos_bf,
                                                                             pos_i)
        on = world.thruster_on_s_total
        on_step = [on[k] - self._last_on[k] for k in range(8)]
        self._last_on = list(on)
        head_h = vert_speed = NAN
        if world.site is not None:
            site = world.site
            head_h = site.plane_height_m(world.head_position_bf())
            st = world.state
            rel_i = world.body.relative_velocity_i(st.pos_i_m, st.vel_i_mps)
            rel_bf = world.body.i_to_bf(st.t_s, rel_i)
            n = site.normal_bf
            vert_speed = rel_bf[0] * n[0] + rel_bf[1] * n[1] + rel_bf[2] * n[2]
        self._rows[i] = [
            t_s, hover, *err, nav_err, nav_sigma,
            math.degrees(world.pointing_error_rad()), *on_step,
            world.impulse_ns_total / world.mass_kg, *world.wheel_speeds_radps(),
            mode, world.altitude_m(), *pos_bf, head_h, vert_speed, *pos_i, flight_att,
        ]
        self.n += 1

    def trimmed(self) -> dict:
        out = {}
        col = 0
        for name, width in self.layout:
            block = self._rows[: self.n, col: col + width]
            out[name] = block[:, 0].copy() if width == 1 else block.copy()
            col += width
        out["mode"] = out["mode"].astype(np.int8)
        return out


SURFACE_MAP_STEP_DEG = 2.0


def surface_map_history(world) -> dict:
    """The map under the ground track: surface radius on a lat/lon grid, and hazards.

    History keys 'surface_*' (a grid, not 1 Hz samples) and 'hazards_*'.  The grid is
    cast row by row so that surface_radius_m's last-face shortcut makes it cheap.
    """
    step = SURFACE_MAP_STEP_DEG
    lat = np.arange(-90.0 + step / 2, 90.0, step)
    lon = np.arange(-180.0 + step / 2, 180.0, step)
    radius = np.empty((lat.size, lon.size))
    caster = world.ray_caster
    for i, la in enumerate(np.radians(lat)):
        c, z = math.cos(la), math.sin(la)
        for j, lo in enumerate(np.radians(lon)):
            radius[i, j] = caster.surface_radius_m((c * math.cos(lo), c * math.sin(lo), z))
    hz = world.site.hazards
    return {"surface_lat_deg": lat, "surface_lon_deg": lon, "surface_radius_m": radius,
            "hazards_center_bf_m": np.array([h.center_bf_m for h in hz]).reshape(-1, 3),
            "hazards_radius_m": np.array([h.radius_m for h in hz]),
            "hazards_mapped": np.array([h.mapped for h in hz], dtype=bool)}


def prospect_history(world, tele) -> dict:
    """Per-site map arrays and example spectra for the report (history.npz 'prospect_*'):
    the downlinked map, candidates, band analysis and spectra beside the truth."""
    from sim.scoring import facet_lat_lon_deg

    pw = world.prospect
    examples = sorted(tele.examples, key=lambda e: e[0])
    lat, lon = facet_lat_lon_deg(pw.vertices_m, pw.faces)
    out = {"prospect_lat_deg": lat, "prospect_lon_deg": lon,
           "prospect_value": tele.resource_value.copy(),
           "prospect_sigma": tele.resource_sigma.copy(),
           "prospect_truth": pw.surface.resource_truth,
           "prospect_safe_truth": pw.safe.astype(np.int8),
           "prospect_deliverable_truth": pw.deliverable_truth().astype(np.int8),
           "prospect_wavelength_um": WAVELENGTH_UM,
           "prospect_example_refl": np.array([e[2] for e in examples]) if examples
           else np.zeros((0, WAVELENGTH_UM.size)),
           "prospect_example_site": np.array([e[1] for e in examples], dtype=np.int64)}
    candidates = [int(c.site_id) for c in tele.candidates]
    out["prospect_candidates"] = np.array(candidates, dtype=np.int64)
    # Co-added spectra of the candidates (chosen first) and their band analysis.
    chosen = tele.chosen
    ids = [int(chosen.site_id)] if chosen is not None else []
    ids += [s for s in candidates if s not in ids]
    ids = [s for s in ids if s in tele.site_bands]
    sites = np.array(ids, dtype=np.int64)
    refl, sigma = tele.site_coadds(sites, WAVELENGTH_UM.size)
    rows = [tele.site_bands[s] for s in ids]
    nb = len(BANDS)
    bits = np.array([r.detected for r in rows], dtype=np.int64).reshape(-1)
    out.update(prospect_site_ids=sites, prospect_site_refl=refl, prospect_site_sigma=sigma,
               prospect_site_n=np.array([r.n_spectra for r in rows], dtype=np.int64),
               prospect_site_depth=np.array([r.depth for r in rows], dtype=float).reshape(-1, nb),
               prospect_site_centre_um=np.array([r.centre_um for r in rows],
                                                dtype=float).reshape(-1, nb),
               prospect_site_detected=((bits[:, None] >> np.arange(nb)) & 1).astype(np.int8),
               # the facet's own truth
               prospect_site_truth_refl=pw.surface.reflectance_std[sites])
    out["prospect_chosen"] = np.array([int(chosen.site_id) if chosen is not None else -1])
    return out
