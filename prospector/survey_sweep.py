"""Site-choice sweeps: the survey alone, on many seeds, in minutes.

A closed-loop run of a survey costs about three minutes (24,000 s of flight at
~130x real time), so 50 seeds of three scenarios would take most of a day on
two cores.  This harness flies the same flight-software campaign
(flightsw.prospect.campaign: planner, pipeline, hazard map, ranking, the
drivers that reassemble spectra and scans) against the same simulated
instruments (sim.prospect_world: spectral surface, spectrometer, flash lidar,
boulders), with the spacecraft's motion replaced by kinematics:

* the probe sits on the campaign's survey station (inertial, as in flight);
* its attitude follows the campaign's pointing reference at the attitude
  controller's slew limit (ATT_SLEW_RADPS), as the closed loop does;
* navigation is the truth: the closed loop's errors at the station are a few
  centimetres and 5 arcsec, far below a lidar cell or a site.

Left out: the transfers, the thrusters, wheels and navigation filter, and the
descent.  Closed-loop runs of the same scenarios (`prospector run`) check that
the choice they make matches; `bench/RESULTS.md` has both.

It is a rig, not the simulator: it hosts one flight component outside the flight
software's entry point (flightsw.app), reads the campaign's attitude reference to
move the probe, so it sits above both, beside the command line, and sim/ keeps to
the entry point, the ICD and configuration.  The judge is still the simulator's:
the campaign's downlink is framed, decoded by sim.telemetry and scored with the
world's truth, and the survey's end is read from the downlinked PROBE_SURVEY_STATUS.

Per seed the figures are those of summary.json (sim.scoring.prospect_summary);
the aggregate counts how often the choice is the best safe site by truth, the
worst rank, unsafe choices, and the spread of coverage and band errors.
"""

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.events import EventLog
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import q_from_rotvec, q_mul, q_rotate, q_to_rotvec
from flightsw.hal.bus import BusPort
from flightsw.hal.drivers import Instruments, ScanLidar, Spectrometer
from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID, mavlink, new_codec
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.prospect.campaign import SurveyCampaign
from sim.runner import flight_config_from_scenario, parameter_overrides
from sim.scenario import load_scenario
from sim.scoring import percentile, prospect_summary
from sim.simbus import SimBus
from sim.telemetry import FlightTelemetry
from sim.truth_record import TruthRecord
from sim.world import SUN_DIR_I, World

STEP_US = 1_000_000  # kinematic step: the instruments run at <= 1 Hz, the slew at 0.01 rad/s
# Downlinked survey states that end the sweep: a site is chosen (or none could be).
SCAN_OVER = (mavlink.PROBE_SURVEY_STATE_TO_SITE, mavlink.PROBE_SURVEY_STATE_DONE)


def _conj(q):
    return (q[0], -q[1], -q[2], -q[3])


def fly_survey(scenario: str, seed: int, overrides: dict | None = None) -> dict:
    """One survey of `scenario` with `seed`, from station to site choice; the summary."""
    sc = load_scenario(scenario, {**(overrides or {}), "scenario.seed": seed})
    if sc.prospect is None:
        raise ValueError(f"{scenario}: no [prospect] table, nothing to survey")
    wall0 = time.perf_counter()
    world = World(sc)
    cfg = flight_config_from_scenario(sc, False, world)
    b = cfg.body
    body = SpinningBody(b.pole_ra_deg, b.pole_dec_deg, b.rotation_period_s, b.w0_deg)
    clock = SimClock()
    params = ParamTable(FLIGHT_PARAMS)
    # Batches of a minute: the pipeline's cost is per call, and the batch size changes
    # nothing else (the planner counts spectra on arrival).
    params.set("PRS_BATCH_S", 60.0)
    # The scenario's [params], checked and typed as a run does (the scenario loader reads
    # every number as a float; an int parameter given as 1.0 would be refused).
    for name, value in parameter_overrides(sc, None).items():
        result = params.set(name, value)
        if result != CommandResult.ACCEPTED:
            raise ValueError(f"{sc.source}: params.{name}: refused ({result.name})")
    bus = SimBus()
    port = BusPort(bus, clock.now_us)
    spectrometer, scan_lidar = Spectrometer(port), ScanLidar(port)
    pw = world.prospect
    # The campaign's downlink, framed as the flight software frames it and decoded by
    # the judge: the sweep is scored from telemetry, as a run is.
    tele = FlightTelemetry(len(pw.faces))
    codec = new_codec(FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID)

    def downlink(msg) -> None:
        tele.on_record(clock.now_us(), bytes(msg.pack(codec)))

    camp = SurveyCampaign(cfg.prospect, body, params, EventLog(clock, downlink), downlink,
                          Instruments(port), cfg.vehicle.arm_length_m)
    station_i = camp.start_on_station(0, params.get("PRS_MAX_SCAN_S"))
    slew = params.get("ATT_SLEW_RADPS")
    q = camp.reference_fn(0.0).q_i_to_sc
    t_us = 0
    step_s = STEP_US * 1e-6
    limit_us = int((params.get("PRS_MAX_SCAN_S") + 60.0) * 1e6)
    while not _scan_over(tele) and t_us <= limit_us:
        clock.advance_to_us(t_us)
        t_s = t_us * 1e-6
        for m in bus.take_from_flight():
            if m.get_type() == "PROBE_INSTRUMENT_CMD":
                pw.apply_command(m)
        if pw.active:
            pos_bf = body.i_to_bf(t_s, station_i)
            axes_bf = tuple(body.i_to_bf(t_s, q_rotate(q, e))
                            for e in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
            for msg in pw.sensor_messages(t_us, pos_bf, axes_bf,
                                          body.i_to_bf(t_s, SUN_DIR_I)):
                bus.deliver(msg)
            port.pump()
        if t_us % 1_000_000 == 0:  # the flight's 1 Hz prospect task
            pose = (station_i, q)
            camp.step(t_us, lambda _t, pose=pose: pose, spectrometer.take_all(),
                      scan_lidar.take_all(), lambda c: camp.reference_fn)
        # Attitude: toward the reference at no more than the slew limit.
        q_ref = camp.reference_fn(t_s + step_s).q_i_to_sc
        err = q_to_rotvec(q_mul(_conj(q), q_ref))
        size = math.sqrt(sum(e * e for e in err))
        if size > slew * step_s:
            err = tuple(e * slew * step_s / size for e in err)
        q = q_mul(q, q_from_rotvec(err))
        t_us += STEP_US
    summary = prospect_summary(pw, tele, TruthRecord.from_world(world))
    summary.update(seed=seed, scenario=sc.scenario.name, scan_s=t_us * 1e-6,
                   wall_s=round(time.perf_counter() - wall0, 2),
                   site_resource_error_p95=_site_resource_error(
                       tele, pw, params.get("PRS_MIN_SPEC")))
    return summary


def _scan_over(tele) -> bool:
    """The last PROBE_SURVEY_STATUS (sent at the end of every 1 Hz step) says the scan is
    over."""
    status = tele.survey_status
    return status is not None and status.state in SCAN_OVER


def _site_resource_error(tele, pw, min_spectra: int) -> float | None:
    """p95 over mapped sites of |downlinked resource estimate - truth| (the map's own
    accuracy)."""
    v = tele.resource_value
    ok = np.isfinite(v) & (tele.resource_n >= min_spectra)
    if not ok.any():
        return None
    return percentile(np.abs(v[ok] - pw.surface.resource_truth[ok]), 95)


def fly_survey_seed(task: dict) -> dict:
    """One seed of a survey sweep, anywhere (a local process or a Dask worker; the run
    function of the executor seam, sim.executors): the summary of fly_survey, or
    {"seed", "error"} for a seed that raised (the sweep goes on)."""
    seed = task["seed"]
    try:
        return fly_survey(task["scenario"], seed, task["overrides"])
    except Exception as exc:  # a broken seed is reported, the sweep goes on
        return {"seed": seed, "error": f"{type(exc).__name__}: {exc}"}


def aggregate(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    ranks = [r.get("site_truth_rank") for r in ok]
    chosen = [k for k in ranks if k is not None]
    coverage = np.array([r["survey_coverage"] for r in ok if r.get("survey_coverage") is not None])
    out = {
        "runs": len(runs),
        "errors": {str(r["seed"]): r["error"] for r in runs if "error" in r},
        "no_choice": sum(1 for k in ranks if k is None),
        "best_site_fraction": (sum(1 for k in chosen if k == 1) / len(chosen)) if chosen else None,
        "top3_fraction": (sum(1 for k in chosen if 1 <= k <= 3) / len(chosen)) if chosen else None,
        "unsafe_choices": sum(1 for k in chosen if k == -1),
        "worst_rank": max(chosen) if chosen and min(chosen) > 0 else (-1 if chosen else None),
        "rank_counts": {str(k): chosen.count(k) for k in sorted(set(chosen))},
        "coverage_min": float(coverage.min()) if coverage.size else None,
        "coverage_p50": float(np.median(coverage)) if coverage.size else None,
    }
    for key in ("band_detection_precision", "band_detection_recall", "site_resource_error_p95",
                "site_band_detection_precision", "site_band_detection_recall"):
        vals = np.array([r[key] for r in ok if r.get(key) is not None])
        out[key + "_worst"] = (float(vals.min()) if "precision" in key or "recall" in key
                               else float(vals.max())) if vals.size else None
    bands: dict[str, dict] = {}
    for r in ok:
        for name, fig in (r.get("band_errors") or {}).items():
            b = bands.setdefault(name, {"depth": [], "centre": [], "spectra": 0})
            b["spectra"] += fig["scored_spectra"]
            if fig["depth_error_p95"] is not None:
                b["depth"].append(fig["depth_error_p95"])
                b["centre"].append(fig["centre_error_nm_p95"])
    per_site: dict[str, dict] = {}
    for r in ok:
        for name, fig in (r.get("band_errors_per_site") or {}).items():
            b = per_site.setdefault(name, {"depth": [], "centre": [], "sites": 0})
            b["sites"] += fig["scored_sites"]
            if fig["depth_error_p95"] is not None:
                b["depth"].append(fig["depth_error_p95"])
                b["centre"].append(fig["centre_error_nm_p95"])
    out["band_errors_per_site_median_of_p95"] = {
        name: {"scored_sites": b["sites"],
               "depth_error_p95": float(np.median(b["depth"])) if b["depth"] else None,
               "centre_error_nm_p95": float(np.median(b["centre"])) if b["centre"] else None,
               "depth_error_p95_worst_seed": float(np.max(b["depth"])) if b["depth"] else None,
               "centre_error_nm_p95_worst_seed": float(np.max(b["centre"])) if b["centre"]
               else None}
        for name, b in per_site.items()}
    out["band_errors_median_of_p95"] = {
        name: {"scored_spectra": b["spectra"],
               "depth_error_p95": float(np.median(b["depth"])) if b["depth"] else None,
               "centre_error_nm_p95": float(np.median(b["centre"])) if b["centre"] else None}
        for name, b in bands.items()}
    return out


def run_survey_sweep(scenario: str, seeds: list[int], out_path: Path, jobs: int | None = None,
                     overrides: dict | None = None, cluster: str | None = None,
                     executor=None) -> dict:
    """Every seed's survey on an executor (sim.executors: `jobs` local processes, or
    `cluster` 'local:N' / 'tcp://HOST:PORT' on Dask, or an `executor` object); the
    per-seed summaries and the aggregate go to out_path (JSON; never overwritten: the
    caller checks).  A seed's summary is the same whichever executor flew it (but its
    wall_s).  Ctrl-C abandons the runs in flight: nothing is written before the end."""
    from sim.executors import ABANDON, make_executor

    sc = load_scenario(scenario, overrides or {})  # a bad scenario fails here, once
    if sc.prospect is None:
        raise ValueError(f"{sc.source}: [prospect]: missing; survey-sweep needs a scenario "
                         f"that surveys (bennu, ryugu, psyche)")
    if executor is None:
        jobs = min(jobs or os.cpu_count() or 1, len(seeds)) if cluster is None else None
        executor = make_executor(cluster, jobs)
    start = time.perf_counter()
    tasks = [{"scenario": scenario, "seed": s, "overrides": dict(overrides or {})}
             for s in seeds]
    with executor as ex:  # a cluster that cannot be reached fails here
        runs = [_survey_record(result) for _task, result
                in ex.run(fly_survey_seed, tasks, on_interrupt=ABANDON)]
        slots, where = ex.slots(), ex.describe()
    runs.sort(key=lambda r: r["seed"])
    agg = aggregate(runs)
    agg.update(scenario=scenario, seeds=seeds, jobs=slots, executor=where,
               wall_s=round(time.perf_counter() - start, 1))
    with open(out_path, "x") as f:
        json.dump({"aggregate": agg, "runs": runs}, f, indent=1, sort_keys=True, default=float)
    return agg


def _survey_record(result: dict) -> dict:
    """A seed's result as the sweep keeps it; a worker that died twice is the seed's error."""
    if result.get("worker_died"):
        return {"seed": result["seed"], "error": result["error"]}
    return result
