"""The SIL runner: world and flight software stepped together on a simulated clock.

One minor frame (the flight software's base rate, 10 Hz by default):
  1. the world emits the sensor messages due now  -> SimBus;
  2. ground commands of the scenario due now       -> SimBus;
  3. the flight software runs the tasks due now (it reads the bus, sends
     actuator commands); every message is recorded to flight.tlog;
  4. the world applies the commands and integrates to the next frame.
A run leaves a run directory: flight.tlog, events.log, summary.json, history.npz
and report.html.
"""

import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from flightsw.app import FlightSoftware
from flightsw.config import (
    BodyModel,
    FlightConfig,
    TagSite,
    VehicleConfig,
    flight_config_to_dict,
)
from flightsw.core.clock import SimClock
from flightsw.core.params import ParamFileError, ParamTable
from flightsw.core.recorder import FlightRecorder
from flightsw.icd import icd_fingerprint
from flightsw.params_table import FLIGHT_PARAMS
from sim.run_dir import RunDirError, prepare_out_dir  # noqa: F401 (re-exported)
from sim.simbus import SimBus
from sim.site import SiteError
from sim.uplink import PARAM_SPECS, time_tagged_uplink
from sim.world import World

RUN_FILES = ("flight.tlog", "events.log", "summary.json", "history.npz", "report.html",
             "params.txt", "flight_config.json")
SETTLE_S = 600.0  # hover figures are taken after the initial transient


class RunConfigError(Exception):
    """A parameter override the flight software would refuse (one-line message)."""


def flight_config_from_scenario(sc, timing_telemetry: bool = False,
                                world: World | None = None) -> FlightConfig:
    """What the probe is told before flight: its vehicle, nominal body model, landmark
    catalogue and, for a touch-and-go, the target and the mapped hazards."""
    craft = sc.spacecraft
    tag_site = None
    landmarks = ()
    hover_point = tuple(sc.initial.hover_point_bf_m)
    if world is not None:
        landmarks = tuple(tuple(float(x) for x in p) for p in world.landmarks_onboard_bf_m)
        hover_point = world.hover_point_bf_m
        if world.site is not None:
            site = world.site
            tag_site = TagSite(site.point_bf_m, site.normal_bf,
                               tuple((h.center_bf_m, h.radius_m) for h in site.hazards
                                     if h.mapped))
    return FlightConfig(
        vehicle=VehicleConfig(
            mass_kg=craft.mass_kg,
            inertia_kgm2=tuple(craft.inertia_kgm2),
            wheel_count=craft.wheels.count,
            wheel_inertia_kgm2=craft.wheels.inertia_kgm2,
            wheel_max_torque_nm=craft.wheels.max_torque_nm,
            thrust_n=craft.thrusters.force_n,
            min_impulse_bit_ns=craft.thrusters.min_impulse_bit_ns,
            backaway_force_n=craft.thrusters.backaway_force_n,
            arm_length_m=craft.arm_length_m,
        ),
        body=BodyModel(
            gm_m3s2=sc.body.gm_m3s2,
            pole_ra_deg=sc.body.pole_ra_deg,
            pole_dec_deg=sc.body.pole_dec_deg,
            rotation_period_s=sc.body.rotation_period_h * 3600.0,
        ),
        hover_point_bf_m=hover_point,
        base_rate_hz=int(round(sc.scenario.sim_rate_hz)),
        timing_telemetry=timing_telemetry,
        landmarks_bf_m=landmarks,
        tag=tag_site,
        prospect=None if world is None else world.prospect_config(),
    )


def prepare_run_dir(out_dir: Path, force: bool, kind: str = "run") -> None:
    """Create out_dir (marked as ours); refuse one holding a previous run unless force, and
    any other non-empty directory whatever force says (sim/run_dir.py)."""
    prepare_out_dir(Path(out_dir), force, kind)


def parameter_overrides(sc, params_file: Path | None) -> dict:
    """The scenario's [params] then the file's, checked as the flight software would.

    Checked before the run so that a typo fails at once with one line, instead
    of a PARAM_SET refused on board and a flight with the wrong tuning.
    """
    table = ParamTable(FLIGHT_PARAMS)
    merged = {}
    for name, value in sc.params.items():
        if name not in table:
            raise RunConfigError(f"{sc.source}: params.{name}: unknown flight-software "
                                 f"parameter (known: {', '.join(table.names)})")
        if PARAM_SPECS[name].kind is int and float(value).is_integer():
            value = int(value)  # the scenario loader reads every number as a float
        reason = table.check(name, value)
        if reason is not None:
            raise RunConfigError(f"{sc.source}: params.{name}: {reason}")
        merged[name] = value
    if params_file is not None:
        try:
            table.load(params_file)
        except ParamFileError as exc:
            raise RunConfigError(str(exc)) from None
        for spec in FLIGHT_PARAMS:
            if table.get(spec.name) != spec.default:
                merged[spec.name] = table.get(spec.name)
    return merged


class History:
    """1 Hz samples of truth and estimates, preallocated: memory flat in run length.

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
            ("head_height_m", 1), ("vert_speed_mps", 1),
        ]
        self._rows = np.zeros((n, sum(w for _, w in self.layout)))
        self._last_on = [0.0] * 8

    def sample(self, t_s: float, world: World, fsw: FlightSoftware) -> None:
        i = self.n
        if i >= len(self._rows):
            return
        nan = math.nan
        target = fsw.control.guidance.target_bf_m
        pos_bf = world.position_bf()
        err = (pos_bf[0] - target[0], pos_bf[1] - target[1], pos_bf[2] - target[2])
        tr = fsw.navigation.nav.translation
        nav_err = nav_sigma = nan
        if tr.initialised:
            nav_err = math.dist(tr.position_i(), world.state.pos_i_m)
            nav_sigma = math.sqrt(sum(s * s for s in tr.pos_sigma_m()))
        on = world.thruster_on_s_total
        on_step = [on[k] - self._last_on[k] for k in range(8)]
        self._last_on = list(on)
        head_h = vert_speed = nan
        if world.site is not None:
            site = world.site
            head_h = site.plane_height_m(world.head_position_bf())
            st = world.state
            rel_i = world.body.relative_velocity_i(st.pos_i_m, st.vel_i_mps)
            rel_bf = world.body.i_to_bf(st.t_s, rel_i)
            n = site.normal_bf
            vert_speed = rel_bf[0] * n[0] + rel_bf[1] * n[1] + rel_bf[2] * n[2]
        self._rows[i] = [
            t_s, math.sqrt(err[0] ** 2 + err[1] ** 2 + err[2] ** 2), *err, nav_err, nav_sigma,
            math.degrees(world.pointing_error_rad()), *on_step,
            world.impulse_ns_total / world.mass_kg, *world.wheel_speeds_radps(),
            int(fsw.modes.current), world.altitude_m(), *pos_bf, head_h, vert_speed,
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


def run_scenario(sc, out_dir: Path, force: bool = False, progress: bool | None = None,
                 timing_telemetry: bool = False, write_report: bool = True,
                 params_file: Path | None = None) -> dict:
    out_dir = Path(out_dir)
    overrides = parameter_overrides(sc, params_file)
    wall_start = time.perf_counter()
    try:
        world = World(sc)  # checks the site before anything is written
    except SiteError as exc:
        raise RunConfigError(str(exc)) from None
    prepare_run_dir(out_dir, force)
    bus = SimBus()
    clock = SimClock()
    config = flight_config_from_scenario(sc, timing_telemetry, world)
    base_hz = config.base_rate_hz
    frame_us = 1_000_000 // base_hz
    n_frames = int(round(sc.scenario.duration_s * base_hz))
    epoch_us = int(round(sc.scenario.epoch_unix_s * 1e6))
    # What the flight software was built with: replay rebuilds it from this file.
    (out_dir / "flight_config.json").write_text(
        json.dumps({"flight_config": flight_config_to_dict(config),
                    "icd_fingerprint": f"{icd_fingerprint():08x}",
                    "epoch_unix_us": epoch_us}, indent=2) + "\n")
    events_lines = []

    with open(out_dir / "flight.tlog", "xb", buffering=1 << 16) as tlog, \
            open(out_dir / "events.log", "x", encoding="utf-8", buffering=1 << 14) as ev_file:
        recorder = FlightRecorder(tlog, epoch_us)
        fsw = FlightSoftware(config, bus, clock, recorder.record)

        def write_event(event) -> None:
            line = f"{event.time_us / 1e6:12.3f} {event.severity.name:<9} {event.source}: " \
                   f"{event.text}"
            ev_file.write(line + "\n")
            if event.severity <= 4 and len(events_lines) < 200:  # WARNING or worse
                events_lines.append({"time_s": event.time_us / 1e6,
                                     "severity": event.severity.name,
                                     "source": event.source, "text": event.text})

        fsw.events.add_sink(write_event)
        # Ground uplink: parameter overrides at t=0, then the command sequence.
        uplink = time_tagged_uplink(overrides, sc.commands)
        uplink.sort(key=lambda item: item[0])
        history = History(int(sc.scenario.duration_s) + 2, len(world.wheel_axes))
        frames_per_sample = base_hz
        show = sys.stderr.isatty() if progress is None else progress
        bar = _progress_bar(n_frames, show)
        next_uplink = 0
        deliver, take = bus.deliver, bus.take_from_flight
        dt_s = frame_us * 1e-6
        for frame in range(n_frames + 1):
            t_us = frame * frame_us
            for msg in world.sensor_messages(frame, t_us):
                deliver(msg)
            while next_uplink < len(uplink) and uplink[next_uplink][0] <= t_us:
                bus.deliver_from_ground(uplink[next_uplink][1])
                next_uplink += 1
            clock.advance_to_us(t_us)
            fsw.run_frame()
            world.apply_commands(take())
            if frame % frames_per_sample == 0:
                history.sample(t_us * 1e-6, world, fsw)
            if frame == n_frames:
                break
            world.step(dt_s)
            if bar is not None and frame % 1000 == 0:
                bar.update(1000)
        if bar is not None:
            bar.close()
        recorder.flush()
    wall_s = time.perf_counter() - wall_start
    hist = history.trimmed()
    if world.prospect is not None and fsw.survey.campaign is not None:
        hist.update(_prospect_history(world, fsw))
    if world.site is not None:
        hist.update(_surface_map_history(world))
    summary = _summary(sc, hist, fsw, recorder, wall_s, n_frames / base_hz, events_lines, world)
    np.savez_compressed(out_dir / "history.npz", **hist)
    # The table as flown, loadable again with --params.
    fsw.params.save(out_dir / "params.txt")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if write_report:
        from sim.report import write_report as _write_report
        _write_report(out_dir, hist, summary)
    return summary


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="frame", unit_scale=True, desc="sim", file=sys.stderr)


def _percentile(x: np.ndarray, q: float) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")


def _summary(sc, hist, fsw, recorder, wall_s, sim_s, events_lines, world) -> dict:
    t = hist["t_s"]
    settled = t >= min(SETTLE_S, 0.5 * sim_s)
    sched = fsw.scheduler.stats()
    tasks = sched.get("tasks", sched)
    tag = _tag_summary(world, fsw) if world.site is not None else {}
    if world.prospect is not None:
        tag = tag | _prospect_summary(world, fsw)
    return tag | {
        "scenario": sc.scenario.name,
        "scenario_file": sc.source,
        "seed": sc.scenario.seed,
        "icd_fingerprint": f"{icd_fingerprint():08x}",
        "sim_duration_s": sim_s,
        "wall_duration_s": round(wall_s, 3),
        "realtime_factor": round(sim_s / wall_s, 1) if wall_s > 0 else None,
        "metrics_from_s": float(t[settled][0]) if settled.any() else 0.0,
        # Hover figures mean something only for a hover; a touch-and-go leaves them null.
        "hover_error_m_p50": None if tag else _percentile(hist["hover_err_m"][settled], 50),
        "hover_error_m_p99": None if tag else _percentile(hist["hover_err_m"][settled], 99),
        "hover_error_m_max": None if tag else _percentile(hist["hover_err_m"][settled], 100),
        "attitude_error_deg_p99": None if tag else _percentile(hist["att_err_deg"][settled],
                                                                99),
        "nav_error_m_p99": _percentile(hist["nav_err_m"][settled], 99),
        "delta_v_mps": float(hist["dv_cum_mps"][-1]) if len(t) else 0.0,
        "final_mode": fsw.modes.current.name,
        "scheduler": tasks,
        "scheduler_groups": sched.get("groups", {}),
        "messages_logged": recorder.frames_written,
        "events_total": fsw.events.total,
        "events": events_lines,
        "gravity_exact_evaluations": getattr(world.gravity, "exact_evaluations", None),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "pid": os.getpid(),
    }


OUTCOMES = ("sampled", "waved_off", "failed")
BAND_PRESENT_DEPTH = 0.03  # truth depth above which a band counts as present
BAND_ABSENT_DEPTH = 0.01  # below which it counts as absent (between: not scored)


SURFACE_MAP_STEP_DEG = 2.0


def _surface_map_history(world: World) -> dict:
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


def _prospect_history(world: World, fsw: FlightSoftware) -> dict:
    """Per-site map arrays and example spectra for the report (history.npz 'prospect_*')."""
    from flightsw.prospect.instrument import WAVELENGTH_UM

    camp, shape = fsw.survey.campaign, fsw.survey.campaign.shape
    examples = camp.examples or []
    out = {"prospect_lat_deg": shape.lat_deg, "prospect_lon_deg": shape.lon_deg,
           "prospect_value": camp.resource.value, "prospect_sigma": camp.resource.sigma,
           "prospect_truth": world.prospect.surface.resource_truth,
           "prospect_safe_truth": world.prospect.safe.astype(np.int8),
           "prospect_deliverable_truth": world.prospect.deliverable_truth().astype(np.int8),
           "prospect_wavelength_um": WAVELENGTH_UM,
           "prospect_example_refl": np.array([e[2] for e in examples]) if examples
           else np.zeros((0, WAVELENGTH_UM.size)),
           "prospect_example_site": np.array([e[1] for e in examples], dtype=np.int64)}
    out["prospect_candidates"] = np.array([c.site_id for c in camp.candidates], dtype=np.int64)
    # Co-added spectra of the candidates (chosen first) and their band analysis.
    ids = [camp.chosen.site_id] if camp.chosen else []
    ids += [c.site_id for c in camp.candidates if c.site_id not in ids]
    sites = np.array(ids, dtype=np.int64)
    refl, sigma = camp.site_spectra.mean(sites)
    bands = camp.site_spectra.analyse(sites)
    out.update(prospect_site_ids=sites, prospect_site_refl=refl, prospect_site_sigma=sigma,
               prospect_site_n=camp.site_spectra.n_spectra[sites],
               prospect_site_depth=bands["depth"], prospect_site_centre_um=bands["centre_um"],
               prospect_site_detected=bands["detected"].astype(np.int8),
               # the facet's own truth
               prospect_site_truth_refl=world.prospect.surface.reflectance_std[sites])
    out["prospect_chosen"] = np.array([camp.chosen.site_id if camp.chosen else -1])
    return out


def _prospect_summary(world: World, fsw: FlightSoftware) -> dict:
    """Survey, pipeline and site-choice figures against the simulator's truth."""
    from flightsw.prospect.band_catalogue import BANDS

    pw, camp = world.prospect, fsw.survey.campaign
    out = {"survey_coverage": None, "spectra_processed": 0, "site_chosen": None,
           "site_truth_rank": None, "resource_name": pw.surface.resource_name}
    if camp is None:
        return out
    planner = camp.planner
    out["survey_coverage"] = None if planner is None else round(planner.coverage, 4)
    out["sites_covered"] = None if planner is None else planner.n_covered
    out["sites_illuminated"] = None if planner is None else planner.n_illuminated
    out["spectra_processed"] = camp.spectra_processed
    out["spectra_rejected"] = {str(k): v for k, v in sorted(camp.pipeline.rejected.items())}
    # Per-spectrum band results against the truth of the footprint.
    est, tru, sites, weights = [], [], [], []
    for sid, site_id, reject, bits, depth, centre, weight in camp.result_log:
        truth = pw.spectrum_truth.get(sid)
        if reject == 0 and truth is not None:
            est.append((bits, depth, centre))
            tru.append(truth)
            sites.append(site_id)
            weights.append(weight)
    bands = {}
    tp = fp = fn = 0
    for k, band in enumerate(BANDS):
        d_err, c_err = [], []
        for (bits, depth, centre), (t_depth, t_centre, *_) in zip(est, tru, strict=True):
            det = bool(bits >> k & 1)
            if t_depth[k] >= BAND_PRESENT_DEPTH:
                tp += det
                fn += not det
                d_err.append(abs(depth[k] - t_depth[k]))
                c_err.append(abs(centre[k] - t_centre[k]) * 1000.0)
            elif t_depth[k] < BAND_ABSENT_DEPTH:
                fp += det
        bands[band.name] = {
            "scored_spectra": len(d_err),
            "depth_error_p95": _percentile(np.asarray(d_err), 95) if d_err else None,
            "centre_error_nm_p95": _percentile(np.asarray(c_err), 95) if c_err else None}
    out["band_detection_precision"] = round(tp / (tp + fp), 4) if tp + fp else None
    out["band_detection_recall"] = round(tp / (tp + fn), 4) if tp + fn else None
    out["band_errors"] = bands
    site_scores = _site_band_scores(camp, pw, tru, sites, weights)
    out["band_errors_per_site"] = site_scores.pop("bands")
    out.update(site_scores)
    chosen = camp.chosen
    if chosen is not None:
        site = chosen.site_id
        shape = camp.shape
        out["site_chosen"] = {"id": site, "lat_deg": round(float(shape.lat_deg[site]), 3),
                              "lon_deg": round(float(shape.lon_deg[site]), 3),
                              "point_bf_m": [round(x, 3) for x in chosen.point_bf_m]}
        out["site_truth_rank"] = pw.site_truth_rank(site)
        out["site_choice_top3"] = int(1 <= out["site_truth_rank"] <= 3)
        out["contact_planned_t_s"] = camp.t_contact_planned_s
        out["site_chosen_safe_truth"] = bool(pw.safe[site])
        out["resource_estimate"] = {"value": chosen.resource, "sigma": chosen.resource_sigma}
        out["resource_truth"] = float(pw.surface.resource_truth[site])
        out["candidates"] = [{"rank": c.rank, "site": c.site_id, "resource": c.resource,
                              "sigma": c.resource_sigma,
                              "truth": float(pw.surface.resource_truth[c.site_id]),
                              "safe_truth": bool(pw.safe[c.site_id])}
                             for c in camp.candidates]
    return out


SITE_MIN_SPECTRA = 3  # a site's band figures are scored from this many accepted spectra


def _site_band_scores(camp, pw, tru, sites, weights) -> dict:
    """The flight's band analysis of each site's co-added spectrum (camp.site_bands)
    against the truth of the same mixture: the weighted mean of the footprints'
    abundances with the flight's own co-add weights (the surface is an areal mixture,
    so that is exactly what the co-added spectrum saw).  Sites with fewer than
    SITE_MIN_SPECTRA spectra, or with a spectrum whose truth was not kept, are not
    scored.  Returns per-band depth and centre error p95 ("bands") and the detection
    precision and recall over sites."""
    from flightsw.prospect.band_catalogue import BANDS

    sb = camp.site_bands
    out = {"bands": {}, "site_band_detection_precision": None,
           "site_band_detection_recall": None}
    if sb is None or not len(sb["site"]):
        return out
    site = np.asarray(sites, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    ab = np.array([t[4] for t in tru], dtype=float).reshape(len(tru), -1)
    order = np.argsort(site, kind="stable")
    ids, first, counts = np.unique(site[order], return_index=True, return_counts=True)
    where = {int(i): (int(f), int(c)) for i, f, c in zip(ids, first, counts, strict=True)}
    nb = len(BANDS)
    d_err = [[] for _ in range(nb)]
    c_err = [[] for _ in range(nb)]
    tp = fp = fn = 0
    for j, s in enumerate(sb["site"].tolist()):
        n_flight = int(sb["n_spectra"][j])
        f, c = where.get(s, (0, 0))
        if n_flight < SITE_MIN_SPECTRA or c != n_flight:
            continue
        rows = order[f:f + c]
        mix = (w[rows, None] * ab[rows]).sum(axis=0) / w[rows].sum()
        truth = pw.surface.mixture_truth(mix)
        for k in range(nb):
            t_depth = float(truth["band_depth"][k])
            det = bool(sb["detected"][j, k])
            if t_depth >= BAND_PRESENT_DEPTH:
                tp += det
                fn += not det
                if np.isfinite(sb["depth"][j, k]) and np.isfinite(sb["centre_um"][j, k]):
                    d_err[k].append(abs(sb["depth"][j, k] - t_depth))
                    c_err[k].append(abs(sb["centre_um"][j, k]
                                        - truth["band_centre_um"][k]) * 1000.0)
            elif t_depth < BAND_ABSENT_DEPTH:
                fp += det
    for k, band in enumerate(BANDS):
        out["bands"][band.name] = {
            "scored_sites": len(d_err[k]),
            "depth_error_p95": _percentile(np.asarray(d_err[k]), 95) if d_err[k] else None,
            "centre_error_nm_p95": _percentile(np.asarray(c_err[k]), 95) if c_err[k] else None}
    out["site_band_detection_precision"] = round(tp / (tp + fp), 4) if tp + fp else None
    out["site_band_detection_recall"] = round(tp / (tp + fn), 4) if tp + fn else None
    return out


def _tag_summary(world: World, fsw: FlightSoftware) -> dict:
    """Touch-and-go figures, from the simulator's truth and the probe's own estimates."""
    truth = world.tag_truth
    site = world.site
    contact = truth["first_contact_t_s"] is not None
    mass_true = world.sampler.collected_kg
    est = fsw.mass.sample_mass_estimate
    waveoffs = fsw.tag_sequence.waveoffs
    mass_est, mass_sigma = (est if est is not None else (None, None))
    if truth["crash"] is not None:
        outcome, why = "failed", truth["crash"]
    elif contact and mass_true > 0.0:
        outcome, why = "sampled", "contact with sample collected"
    elif waveoffs:
        # Safe either way: a touch the probe never sensed, then left, took nothing.
        outcome, why = "waved_off", waveoffs[0] + (" (after an unsensed touch)"
                                                   if contact else "")
    elif contact:
        outcome, why = "failed", "contact without a sample"
    else:
        outcome, why = "failed", "the sequence did not reach contact or a wave-off"
    miss = math.dist(truth["touchdown_point_bf_m"], site.point_bf_m) if contact else None
    speed = truth["contact_speed_mps"]
    out = {
        "outcome": outcome,
        "outcome_reason": why,
        "target_bf_m": list(site.point_bf_m),
        "target_slope_deg": site.slope_deg,
        "touchdown_bf_m": list(truth["touchdown_point_bf_m"]) if contact else None,
        "touchdown_miss_m": miss,
        "contact_speed_mps": speed,
        "contact_speed_error_mps": abs(speed - fsw.params.get("TAG_CONTACT_MPS"))
        if speed is not None else None,
        "contact_duration_s": truth["contact_duration_s"] if contact else None,
        "contact_t_s": truth["first_contact_t_s"],
        "max_penetration_m": truth["max_penetration_m"] if contact else None,
        "backaway_dv_mps": world.backaway_impulse_ns / world.mass_kg,
        "waveoffs": {"count": len(waveoffs), "reasons": list(waveoffs)},
        "sample_mass_true_kg": mass_true,
        "sample_mass_est_kg": mass_est,
        "sample_mass_sigma_kg": mass_sigma,
        "sample_mass_3sigma_kg": 3.0 * mass_sigma if mass_sigma is not None else None,
        "sample_mass_error_kg": (mass_est - mass_true) if mass_est is not None else None,
        # |error| / 3 sigma: <= 1 means the estimate is within its reported 3-sigma.
        "sample_mass_error_in_3sigma": abs(mass_est - mass_true) / (3.0 * mass_sigma)
        if mass_sigma else None,
        "regolith_density_kgm3": world.regolith["density_kgm3"],
        "gm_true_m3s2": world.gm_true_m3s2,
        "tag_events_s": dict(fsw.tag_sequence.event_times),
    }
    return out
