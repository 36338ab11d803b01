"""The survey campaign (flightsw/prospect/campaign.py) on its own, through its public API.

A small Bennu-like shape model; the maps the scan would fill are filled directly: lidar
scans of chosen facets made with the shared mesh's single-ray cast (flightsw.geometry.mesh),
one with a boulder in it, and resource values per facet.  The campaign then ends its scan,
ranks, chooses, sends its telemetry and hands over; choose() takes the ground's choice.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import reference_physics as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.config import ProspectConfig
from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.mesh import TriangleMesh
from flightsw.gnc.guidance import HoverGuidance, attitude_with_boresight
from flightsw.hal.bus import BusPort
from flightsw.hal.drivers import Instruments, SpectrumSample
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.prospect.campaign import NO_SITE, SurveyCampaign, SurveyState
from flightsw.prospect.sites import deliverable_mask
from sim.shape import bennu_top_shape

METRE = 1.0
V, F = bennu_top_shape(3)
V = V * (np.array([565.0, 535.0, 508.0]) / (V.max(axis=0) - V.min(axis=0)))
CASTER = TriangleMesh(V, F)
SUN_I = (1.0, 0.0, 0.0)
SCAN_S = 5.0
ARM_M = 3.35
RESOURCE_SIGMA = 0.01  # every spectrum's: the scores then order as the values do
LAMP_SIGNAL_E = 20000.0  # the calibration lamp's design signal per channel (datasheet)


def _centroid(k):
    return V[F[k]].mean(axis=0)


def _normal(k):
    v = V[F[k]]
    n = np.cross(v[1] - v[0], v[2] - v[0])
    n /= np.linalg.norm(n)
    return n if n @ v.mean(axis=0) > 0.0 else -n


DOWN = -np.array([_normal(k) for k in range(len(F))])  # flat ground on every facet
CONFIG = ProspectConfig(tuple(map(tuple, V)), tuple(map(tuple, F)), tuple(map(tuple, DOWN)),
                        SUN_I, 1.1)


class _Bus:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)

    def poll(self):
        return []


def _campaign(**params):
    clock = SimClock()
    table = ParamTable(FLIGHT_PARAMS)
    for name, value in params.items():
        table.set(name, value)
    bus = _Bus()
    sent = []
    events = []
    log = EventLog(clock)
    log.add_sink(lambda e: events.append(e.text))
    body = SpinningBody(90.0, 90.0, 4.296057 * 3600.0)  # pole along inertial z
    camp = SurveyCampaign(CONFIG, body, table, log, sent.append,
                          Instruments(BusPort(bus, clock.now_us)), ARM_M,
                          descent_s_fn=lambda: 1000.0)
    return SimpleNamespace(camp=camp, sent=sent, events=events, bus=bus, body=body,
                           params=table)


# -- the facets the tests scan ----------------------------------------------------------------

def _pool():
    """Low-latitude facets, deliverable under the Sun of CONFIG (the ranking's own rule for
    deliverability: tests/flightsw/prospect/test_site_ranking.py checks it against an
    independent oracle), well apart."""
    rules = SimpleNamespace(lat_max_deg=60.0, home_height_m=1000.0, max_incidence_deg=70.0)
    camp = _campaign().camp
    ok = deliverable_mask(camp.shape, rules, camp.sun_bf(0.0))
    ids = [k for k in np.flatnonzero(ok) if abs(camp.shape.lat_deg[k]) < 40.0]
    return ids[::max(1, len(ids) // 12)][:12]


POOL = _pool()
BOULDER_SITE = POOL[0]


def _scan_ranges(site):
    """A 7 x 7 flash-lidar scan of the facet from 500 m along its normal (ray cast on the
    simulator's mesh), a 2 m boulder in the middle of BOULDER_SITE's."""
    c, n = _centroid(site), _normal(site)
    pos = c + 500.0 * n
    z = -n
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    fov, grid = 0.02, 7
    ranges = []
    for r in range(grid):
        for col in range(grid):
            a_r = (r - 3) * fov / (grid - 1)
            a_c = (col - 3) * fov / (grid - 1)
            d = z + math.tan(a_r) * x + math.tan(a_c) * y
            d /= np.linalg.norm(d)
            dist = CASTER.distance_m(tuple(pos), tuple(d))
            ranges.append(0.0 if dist is None or not math.isfinite(dist) else dist)
    ranges = np.array(ranges)
    if site == BOULDER_SITE:
        ranges[[16, 17, 18, 23, 24, 25, 30, 31, 32]] -= 2.0
    return pos, (x, y, z), fov, grid, ranges


SCANS = {site: _scan_ranges(site) for site in POOL}


def _fill(camp, values):
    """Two spectra of each value on its site, and two lidar scans of every pool site."""
    for pos, axes, fov, grid, ranges in SCANS.values():
        for _ in range(2):
            camp.hazard.add_scan(pos, axes, fov, grid, ranges)
    ids = np.array(list(values), dtype=np.int64)
    vals = np.array([values[k] for k in ids])
    for _ in range(2):
        camp.resource.add(ids, vals, np.full(ids.size, RESOURCE_SIGMA))


def _fly_scan(t, values):
    """Start on station, fill the maps, step the 1 Hz task until the scan is over."""
    camp = t.camp
    camp.start_on_station(0, SCAN_S)
    _fill(camp, values)
    station = camp.reference_fn(0.0).pos_i_m
    homes = []

    def home_ref(c):
        homes.append(c.chosen.site_id)
        return HoverGuidance(t.body, c.safe_home_bf()).reference

    for k in range(int(SCAN_S) + 1):
        q = camp.reference_fn(float(k)).q_i_to_sc
        camp.step(k * 1_000_000, lambda _t, q=q: (station, q), [], [], home_ref)
    return homes


def _candidates_sent(sent):
    return [m for m in sent if m.get_type() == "PROBE_SITE_CANDIDATE"]


# -- tests ----------------------------------------------------------------------------------

def test_the_scan_turns_the_instruments_on_then_off():
    t = _campaign()
    _fly_scan(t, {POOL[1]: 0.2})
    cmds = [(m.instrument, m.enable, m.rate_hz) for m in t.bus.sent
            if m.get_type() == "PROBE_INSTRUMENT_CMD"]
    on = [(mavlink.PROBE_INSTRUMENT_SPECTROMETER, 1, t.params.get("PRS_SPEC_HZ")),
          (mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, 1, t.params.get("PRS_SCAN_HZ"))]
    off = [(mavlink.PROBE_INSTRUMENT_SPECTROMETER, 0, 0.0),
           (mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, 0, 0.0)]
    assert cmds == [(i, e, pytest.approx(r)) for i, e, r in on + off]


def test_a_boulder_makes_the_richest_site_unsafe_and_the_best_safe_one_is_chosen():
    """Rank 1 is handed to guidance at the end of the scan: the best safe site, not the
    richest (it carries a 2 m boulder, PRS_BOULDER_M is 0.5 m)."""
    t = _campaign()
    values = {site: 0.1 + 0.01 * k for k, site in enumerate(POOL)}
    values[BOULDER_SITE] = 0.5
    homes = _fly_scan(t, values)
    camp = t.camp
    assert camp.state == SurveyState.TO_SITE
    assert camp.hazard.roughness_m[BOULDER_SITE] > 1.5 * METRE
    best_safe = max((s for s in POOL if s != BOULDER_SITE), key=values.get)
    assert camp.chosen is camp.candidates[0]
    assert camp.chosen.site_id == best_safe
    assert homes == [best_safe]  # the transfer goes to safe-home above it
    assert BOULDER_SITE not in [c.site_id for c in camp.candidates]
    sent = _candidates_sent(t.sent)
    assert [m.rank for m in sent] == list(range(1, len(camp.candidates) + 1))
    assert [m.chosen for m in sent] == [1] + [0] * (len(sent) - 1)
    assert any(f"site {best_safe} chosen (rank 1)" in e for e in t.events)
    # The whole resource map went down at the end of the scan.
    tiles = [m for m in t.sent if m.get_type() == "PROBE_RESOURCE_MAP"]
    assert sorted({m.first_site for m in tiles}) == list(range(0, len(F), 24))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.floats(0.0, 0.4), min_size=len(POOL), max_size=len(POOL), unique=True))
def test_the_choice_is_the_best_measured_safe_site_by_brute_force(raw):
    """Any resource values: the chosen site is the argmax of the value over the scanned,
    safe sites (every site has the same sigma, so the score orders as the value), and the
    candidates are the next best, in order."""
    values = dict(zip(POOL, raw, strict=True))
    t = _campaign()
    _fly_scan(t, values)
    safe = [s for s in POOL if s != BOULDER_SITE]
    oracle = sorted(safe, key=lambda s: (-values[s], s))[:t.params.get("PRS_N_CAND")]
    assert [c.site_id for c in t.camp.candidates] == oracle
    assert t.camp.chosen.site_id == oracle[0]


def test_no_safe_measured_site_ends_the_survey_without_a_choice():
    t = _campaign()
    homes = _fly_scan(t, {BOULDER_SITE: 0.3})
    assert t.camp.state == SurveyState.DONE and t.camp.chosen is None and t.camp.candidates == []
    assert homes == []
    assert any("no safe site" in e for e in t.events)
    assert t.camp.descent_start_s() is None


def test_choose_takes_any_ranked_candidate_and_nothing_beyond():
    t = _campaign()
    values = {site: 0.1 + 0.01 * k for k, site in enumerate(POOL)}
    _fly_scan(t, values)
    camp = t.camp
    n = len(camp.candidates)
    assert n == t.params.get("PRS_N_CAND") == 5
    first = camp.chosen
    for rank in (0, -1, n + 1, 10):
        before = len(t.sent)
        assert camp.choose(10.0, rank) is False
        assert camp.chosen is first and len(t.sent) == before  # nothing changed or sent
    assert camp.choose(10.0, n) is True
    assert camp.chosen is camp.candidates[n - 1]
    flags = [m.chosen for m in _candidates_sent(t.sent)[-n:]]
    assert flags == [0] * (n - 1) + [1]
    # Safe-home: PRS_HOME_M above the site for the sampler head, along the facet normal.
    site = camp.chosen.site_id
    home = np.asarray(camp.safe_home_bf())
    want = _centroid(site) + (t.params.get("PRS_HOME_M") + ARM_M) * _normal(site)
    assert np.linalg.norm(home - want) < 1e-6 * METRE
    # The contact is timed again for the new site; the descent starts descent_s before.
    assert camp.descent_start_s() == pytest.approx(camp.t_contact_planned_s - 1000.0)


def test_the_transfer_to_safe_home_ends_the_survey():
    t = _campaign()
    _fly_scan(t, {site: 0.1 + 0.01 * k for k, site in enumerate(POOL)})
    camp = t.camp
    ref = camp.reference_fn
    end_s = ref.t0_s + ref.duration_s
    k = int(SCAN_S) + 1
    while camp.state != SurveyState.DONE and k < end_s + 5:
        camp.step(k * 1_000_000, lambda _t: ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0)), [], [],
                  None)
        k += 1
    assert camp.state == SurveyState.DONE
    assert end_s <= k <= end_s + 2.0
    # At the end the reference is safe-home, turning with the body.
    pos = np.asarray(ref(k).pos_i_m)
    want = np.asarray(t.body.bf_to_i(k, camp.safe_home_bf()))
    assert np.linalg.norm(pos - want) < 1e-6 * METRE
    statuses = [m for m in t.sent if m.get_type() == "PROBE_SURVEY_STATUS"]
    assert statuses[-1].state == SurveyState.DONE and statuses[-1].target_site == NO_SITE


def test_geometry_of_a_view_straight_down_a_facet_normal_under_the_sun():
    camp = _campaign().camp
    site = POOL[2]
    n = _normal(site)
    pos = _centroid(site) + 800.0 * n
    got, cos_i, cos_e, phase = camp.geometry(pos, -n, n)
    assert got == site
    assert cos_i == pytest.approx(1.0) and cos_e == pytest.approx(1.0)
    assert phase == pytest.approx(0.0, abs=1e-4)
    # Sun 60 deg off the normal: incidence 60, phase 60.
    tilt = np.cross(n, [0.0, 0.0, 1.0])
    tilt /= np.linalg.norm(tilt)
    sun = math.cos(math.radians(60.0)) * n + math.sin(math.radians(60.0)) * tilt
    _, cos_i, _, phase = camp.geometry(pos, -n, sun)
    assert cos_i == pytest.approx(0.5) and phase == pytest.approx(60.0, abs=1e-4)
    # Looking away from the body: no site.
    assert camp.geometry(pos, n, n)[0] == NO_SITE


def test_a_new_campaign_is_idle_and_steps_do_nothing():
    t = _campaign()
    t.camp.step(0, None, [], [], None)
    assert t.camp.state == SurveyState.IDLE and t.sent == []


def test_start_goes_to_the_station_first():
    t = _campaign()
    camp = t.camp
    hover = HoverGuidance(t.body, (0.0, -1250.0, 200.0)).reference
    camp.start(0.0, hover, 0.0)
    assert camp.state != SurveyState.SCANNING and camp.max_scan_s == t.params.get("PRS_MAX_SCAN_S")
    assert not [m for m in t.bus.sent if m.get_type() == "PROBE_INSTRUMENT_CMD"]
    station = camp.planner.station_position_i(
        np.asarray(SUN_I), np.asarray(t.body.pole_i), t.params.get("PRS_STATION_M"),
        t.params.get("PRS_PHASE_DEG"))
    end = camp.reference_fn.t0_s + camp.reference_fn.duration_s
    assert np.linalg.norm(np.asarray(camp.reference_fn(end + 1.0).pos_i_m) - station) < 1e-6
    assert np.linalg.norm(np.asarray(camp.reference_fn(0.0).pos_i_m) -
                          np.asarray(hover(0.0).pos_i_m)) < 1e-6


def test_a_scan_broken_off_by_safe_resumes_from_where_safe_left_the_probe():
    """resume(): the transfer starts where the probe is (SAFE's orbit), ends on the station,
    the instruments are off meanwhile, and the scan time already spent is carried on."""
    t = _campaign()
    camp = t.camp
    hover = HoverGuidance(t.body, (0.0, -1250.0, 200.0)).reference
    camp.start(0.0, hover, 0.0)
    end = camp.reference_fn.t0_s + camp.reference_fn.duration_s
    there = camp.reference_fn(end + 1.0)
    camp.step(round((end + 1.0) * 1e6), lambda _t: (there.pos_i_m, there.q_i_to_sc),
              [], [], lambda c: hover)
    assert camp.state == SurveyState.SCANNING
    t_safe_s = end + 400.0  # 399 s of scan, then SAFE
    orbit = HoverGuidance(t.body, (1000.0, 0.0, 0.0)).reference
    camp.interrupt(t_safe_s)  # Survey calls it when SAFE is forced
    assert camp.resume(t_safe_s + 600.0, orbit, SurveyState.SCANNING, lambda c: hover)
    assert camp.state == SurveyState.TO_STATION
    station = camp.reference_fn(1e9).pos_i_m
    assert np.linalg.norm(np.asarray(camp.reference_fn(t_safe_s + 600.0).pos_i_m) -
                          np.asarray(orbit(t_safe_s + 600.0).pos_i_m)) < 1e-6 * METRE
    assert np.linalg.norm(np.asarray(station) - np.asarray(camp._station_i)) < 1e-6 * METRE
    off = [(m.instrument, m.enable) for m in t.bus.sent
           if m.get_type() == "PROBE_INSTRUMENT_CMD"][-2:]
    assert off == [(mavlink.PROBE_INSTRUMENT_SPECTROMETER, 0),
                   (mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, 0)]
    assert camp.scanned_s == pytest.approx(t_safe_s - (end + 1.0))
    assert any("resumed after SAFE" in e for e in t.events)
    # Nothing to resume: an idle campaign, or a site transfer without a chosen site.
    assert not _campaign().camp.resume(0.0, orbit, SurveyState.TO_SITE, lambda c: hover)


# -- spectra through the pipeline into the map -----------------------------------------------

def _science_counts(refl, cos_i, cos_e, phase_deg, temp_k, rng, saturate=False):
    """One science spectrum of a surface of standard reflectance refl, from the datasheet
    instrument of reference_physics.py (nominal gain)."""
    i_over_f = refl * ref.reflectance_to_i_over_f(cos_i, cos_e, phase_deg, ref.WAVELENGTH_UM)[0]
    radiance = i_over_f * ref.sun(ref.WAVELENGTH_UM, 1.1) / math.pi + 0.9 * ref.planck(
        ref.WAVELENGTH_UM, temp_k)
    return _frame(radiance, rng, saturate)


def _frame(radiance, rng, saturate=False):
    electrons = ref.responsivity() * radiance * ref.INTEGRATION_S + ref.dark_e_per_s(20.0)
    e = rng.poisson(electrons) + rng.normal(0.0, ref.READ_NOISE_E, electrons.shape)
    counts = np.clip(np.round(ref.BIAS_DN + e / ref.E_PER_DN), 0, ref.FULL_SCALE_DN)
    if saturate:
        counts[100] = ref.FULL_SCALE_DN
    return tuple(int(c) for c in counts)


def test_spectra_go_through_the_pipeline_into_the_map_and_the_telemetry():
    """Dark and lamp frames calibrate; science spectra of the site under the boresight are
    placed with the pose of their own time, processed every PRS_BATCH_S, mapped and
    reported (PROBE_SPECTRUM_RESULT); a saturated one is rejected, reported with no site
    and taken back from the planner's count."""
    t = _campaign()
    camp = t.camp
    sun0 = camp.sun_bf(0.0)
    site = max(POOL, key=lambda k: _normal(k) @ sun0)  # the best lit of the pool at t = 0
    n = _normal(site)
    pos_bf = _centroid(site) + 700.0 * n
    camp.start_on_station(0, 60.0)

    def pose_at(t_us):  # hovering 700 m above the site, looking straight down at it
        t_s = t_us * 1e-6
        down_i = t.body.bf_to_i(t_s, tuple(-n))
        return (t.body.bf_to_i(t_s, tuple(pos_bf)),
                attitude_with_boresight(down_i, t.body.pole_i))

    rng = np.random.default_rng(5)
    lamp = LAMP_SIGNAL_E / (ref.responsivity() * ref.INTEGRATION_S)
    frames = [SpectrumSample(0, k, 1.0, mavlink.PROBE_SPECTRUM_KIND_DARK, 20.0,
                             _frame(np.zeros(ref.N_CHANNELS), rng)) for k in range(4)]
    frames += [SpectrumSample(0, 4 + k, 1.0, mavlink.PROBE_SPECTRUM_KIND_CALIBRATION, 20.0,
                              _frame(lamp, rng)) for k in range(4)]
    oh = np.exp(-0.5 * ((ref.WAVELENGTH_UM - 2.74) / 0.04) ** 2)
    refl = 0.045 * (1.0 + 0.05 * (ref.WAVELENGTH_UM - 0.55)) * (1.0 - 0.1 * oh)
    sent_science = []
    for k in range(8):
        t_us = (k + 1) * 1_000_000
        got, cos_i, cos_e, phase = camp.geometry(pos_bf, -n, camp.sun_bf(t_us * 1e-6))
        assert got == site and cos_i > 0.5
        temp = 390.0 * cos_i ** 0.25
        frames.append(SpectrumSample(t_us, 100 + k, 1.0, mavlink.PROBE_SPECTRUM_KIND_SCIENCE,
                                     20.0, _science_counts(refl, cos_i, cos_e, phase, temp, rng,
                                                           saturate=(k == 3))))
        sent_science.append(100 + k)
    for k in range(13):
        batch = [f for f in frames if f.t_us // 1_000_000 == k]
        camp.step(k * 1_000_000, pose_at, batch, [], None)
    results = [m for m in t.sent if m.get_type() == "PROBE_SPECTRUM_RESULT"]
    assert [m.spectrum_id for m in results] == sent_science
    assert [m.reject_reason for m in results] == [0, 0, 0, 2, 0, 0, 0, 0]  # 2: saturated
    assert [m.site_id for m in results] == [site] * 3 + [NO_SITE] + [site] * 4
    assert camp.spectra_processed == 8
    assert camp.resource.n_spectra[site] == 7
    # The hydration index is the OH band depth: 0.1 here, within the map's sigma.
    assert abs(camp.resource.value[site] - 0.1) <= 3.0 * camp.resource.sigma[site] + 0.005
    assert camp.planner.good_spectra[site] == 7  # the rejected one taken back
    statuses = [m for m in t.sent if m.get_type() == "PROBE_SURVEY_STATUS"]
    assert len(statuses) == 13 and all(m.state == SurveyState.SCANNING for m in statuses)
    assert statuses[-1].spectra_processed == 8 and statuses[-1].rejected[2] == 1
    # A tile of the resource map every 10 s while scanning, the next tile each time.
    tiles = [m.first_site for m in t.sent if m.get_type() == "PROBE_RESOURCE_MAP"]
    assert tiles == [0, 24]


def test_survey_states_are_the_icds_probe_survey_state():
    """SurveyState's values travel as PROBE_SURVEY_STATE: the same names, the same numbers,
    no member on one side only."""
    icd = {entry.name.removeprefix("PROBE_SURVEY_STATE_"): value
           for value, entry in mavlink.enums["PROBE_SURVEY_STATE"].items()
           if not entry.name.endswith("_ENUM_END")}
    assert {s.name: s.value for s in SurveyState} == icd
