"""The SIL runner: world and flight software stepped together on a simulated clock.

One minor frame (the flight software's base rate, 10 Hz by default):
  1. the world emits the sensor messages due now  -> SimBus;
  2. ground commands of the scenario due now       -> SimBus;
  3. the flight software runs the tasks due now (it reads the bus, sends
     actuator commands); every message is recorded to flight.tlog;
  4. the world applies the commands and integrates to the next frame.
A run leaves a run directory: flight.tlog, events.log, summary.json (and as one row,
summary.csv), history.npz (and as a netCDF Dataset, history.nc) and report.html.

Live runs: with ground links (`ground_links=`, open_ground_links) the
flight software's Bus is a MultiBus of the SimBus and the links, so a ground
station sees the whole downlink and its uplink is recorded in flight.tlog like
any Bus traffic; `speedup=` paces the simulated clock to the wall clock
(sim/pacing.py).  A run with neither builds none of this and flies exactly as
before.
"""

import json
import os
import resource
import signal
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
from flightsw.core.events import Severity
from flightsw.core.param_formats import write_ground_param_files
from flightsw.core.params import ParamFileError, ParamTable
from flightsw.core.recorder import FlightRecorder
from flightsw.icd import icd_fingerprint
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.run_dir import RunDirError, prepare_out_dir  # noqa: F401 (re-exported)
from sim.faults import install_task_faults, task_fault_record
from sim.history import History, prospect_history, surface_map_history
from sim.history_dataset import HISTORY_NC, SUMMARY_CSV, write_data_products
from sim.pacing import Pacer
from sim.scenario_faults import sil_refusal
from sim.scoring import mission_figures
from sim.simbus import SimBus, UplinkSigner
from sim.site import SiteError
from sim.telemetry import FlightTelemetry
from sim.truth_record import TRUTH_FILE, TruthRecord
from sim.uplink import PARAM_SPECS, time_tagged_uplink
from sim.world import World

RUN_FILES = ("flight.tlog", "events.log", "summary.json", "history.npz", "report.html",
             "params.txt", "params.parm", "params.params", "flight_config.json", TRUTH_FILE,
             HISTORY_NC, SUMMARY_CSV)


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
            wheel_max_speed_radps=craft.wheels.max_speed_radps,
            acs_torque_nm=2.0 * craft.thrusters.force_n * craft.thrusters.acs_arm_m,
            thruster_branches=craft.thrusters.branches,
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
    any other non-empty directory whatever force says (flightsw/run_dir.py)."""
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
        kind = PARAM_SPECS[name].kind
        if kind is int and float(value).is_integer():
            value = int(value)  # the scenario loader reads every number as a float
        elif kind is bool and value in (0.0, 1.0):
            value = bool(value)  # a flag is written 0 or 1, as on the wire (PARAM_SET)
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


def open_ground_links(connections, signing_key: bytes | None = None) -> list:
    """The ground links of a run, open (each listening, or connected, before the flight
    starts); RunConfigError naming the first that cannot be opened (the others closed).
    Link i signs the downlink as link id i + 1."""
    from flightsw.hal.ground_link import GroundLink, GroundLinkError

    links: list = []
    try:
        for i, text in enumerate(connections):
            links.append(GroundLink(text, signing_key, i + 1))
    except GroundLinkError as exc:
        close_ground_links(links)
        raise RunConfigError(f"--ground {exc}") from None
    return links


def scenario_uplink_signer(sc, signing_key: bytes | None, live: bool) -> UplinkSigner | None:
    """How the scenario's own uplink is signed (sim/simbus.py): stamped with mission time
    from the scenario's epoch (the same run, the same bytes), or with the wall clock when
    a live ground station also signs (a stream far behind its stamps would be refused)."""
    if signing_key is None:
        return None
    if live:
        return UplinkSigner(signing_key, lambda t_us: time.time())
    epoch_s = sc.scenario.epoch_unix_s
    return UplinkSigner(signing_key, lambda t_us: epoch_s + t_us * 1e-6)


def close_ground_links(links) -> None:
    for link in links:
        link.close()


def run_scenario(sc, out_dir: Path, force: bool = False, progress: bool | None = None,
                 timing_telemetry: bool = False, write_report: bool = True,
                 params_file: Path | None = None, ground_links=(),
                 signing_key: bytes | None = None, speedup: float | None = None,
                 finish_on_interrupt: bool = False) -> dict:
    """Fly `sc` and leave its run directory in out_dir; returns summary.json's figures.

    `finish_on_interrupt` (main thread only): SIGINT or SIGTERM ends the flight at the
    end of the frame under way and the run directory is completed for the time flown,
    summary.json saying so ("interrupted").  Off, the signals act as usual (a sweep's
    worker must not record a cut run as a finished seed).

    `ground_links`: open ground links (open_ground_links; the caller closes them);
    `signing_key`: the 32-byte MAVLink signing key the flight software requires of its
    uplink (the scenario's uplink is signed with it); `speedup`: None as fast as
    possible, else times real time.
    """
    out_dir = Path(out_dir)
    overrides = parameter_overrides(sc, params_file)
    refused = sil_refusal(sc)
    if refused is not None:
        raise RunConfigError(refused)
    wall_start = time.perf_counter()
    try:
        world = World(sc)  # checks the site before anything is written
    except SiteError as exc:
        raise RunConfigError(str(exc)) from None
    prepare_run_dir(out_dir, force)
    return _fly(sc, out_dir, world, overrides, wall_start, tuple(ground_links), signing_key,
                speedup, progress, timing_telemetry, write_report, finish_on_interrupt)


def _fly(sc, out_dir: Path, world: World, overrides: dict, wall_start: float, links,
         signing_key: bytes | None, speedup: float | None, progress: bool | None,
         timing_telemetry: bool, write_report: bool, finish_on_interrupt: bool) -> dict:
    sim_bus = SimBus(scenario_uplink_signer(sc, signing_key, live=bool(links)))
    bus = sim_bus
    if links:
        from flightsw.hal.multi_bus import MultiBus
        bus = MultiBus(sim_bus, links)
    pacer = Pacer(speedup) if speedup is not None else None
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
                    "epoch_unix_us": epoch_us} | task_fault_record(sc.faults),
                   indent=2) + "\n")
    n_sites = len(world.prospect.faces) if world.prospect is not None else 0
    tele = FlightTelemetry(n_sites)

    with open(out_dir / "flight.tlog", "xb", buffering=1 << 16) as tlog, \
            open(out_dir / "events.log", "x", encoding="utf-8", buffering=1 << 14) as ev_file:
        recorder = FlightRecorder(tlog, epoch_us)
        record, tap = recorder.record, tele.on_record

        def record_and_decode(t_us: int, raw: bytes) -> None:
            record(t_us, raw)
            tap(t_us, raw)

        events_lines = event_writer(tele, ev_file)
        # Only a signed run names the key: the flight software's uplink guard requires it.
        keyed = {} if signing_key is None else {"signing_key": signing_key}
        fsw = FlightSoftware(config, bus, clock, record_and_decode, **keyed)
        for link in links:  # a key changed over the air signs the downlink from then on
            fsw.uplink.key_listeners.append(link.set_signing_key)
        install_task_faults(fsw.scheduler, sc.faults)
        # Ground uplink: parameter overrides at t=0, then the command sequence.
        uplink = time_tagged_uplink(overrides, sc.commands)
        uplink.sort(key=lambda item: item[0])
        history = History(int(sc.scenario.duration_s) + 2, len(world.wheel_axes))
        frames_per_sample = base_hz
        show = sys.stderr.isatty() if progress is None else progress
        bar = _progress_bar(n_frames, show)
        next_uplink = 0
        deliver, take = sim_bus.deliver, sim_bus.take_from_flight
        pace = pacer.wait_for if pacer is not None else None
        dt_s = frame_us * 1e-6
        flown_s, stopped_us = n_frames / base_hz, None
        # Ctrl-C or SIGTERM asks the flight to stop at the end of a frame, so that the log
        # holds whole frames (replay compares them) and the run directory is completed
        # for the time flown, as a HIL rig's is: nothing flown is lost.
        stop: list[int] = []
        handlers = _stop_handlers(stop) if finish_on_interrupt else {}
        try:
            for frame in range(n_frames + 1):
                t_us = frame * frame_us
                if pace is not None:
                    pace(t_us)
                for msg in world.sensor_messages(frame, t_us):
                    deliver(msg)
                while next_uplink < len(uplink) and uplink[next_uplink][0] <= t_us:
                    sim_bus.deliver_from_ground(uplink[next_uplink][1], t_us)
                    next_uplink += 1
                clock.advance_to_us(t_us)
                fsw.run_frame()
                world.apply_commands(take())
                if frame % frames_per_sample == 0:
                    history.sample(t_us * 1e-6, world, tele)
                if frame == n_frames:
                    break
                if stop:
                    stopped_us = t_us
                    flown_s = t_us / 1e6
                    break
                world.step(dt_s)
                if bar is not None and frame % 1000 == 0:
                    bar.update(1000)
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        if bar is not None:
            bar.close()
        recorder.flush()
    wall_s = time.perf_counter() - wall_start
    truth = TruthRecord.from_world(world)
    truth.save(out_dir)
    hist = history.trimmed()
    if world.prospect is not None and tele.survey_status is not None:
        hist.update(prospect_history(world, tele))
    if world.site is not None:
        hist.update(surface_map_history(world))
    summary = mission_figures(sc, hist, tele, truth, world, contact_speed_mps(overrides),
                              flown_s)
    summary |= host_figures(flown_s, wall_s, recorder, fsw.scheduler.stats())
    summary["events"] = events_lines
    if stopped_us is not None:
        summary["interrupted"] = {"at_s": flown_s, "planned_s": n_frames / base_hz}
    if sc.dispersed:  # the declared dispersions' draws of this seed (sim.scenario_dispersions)
        summary["dispersed"] = dict(sc.dispersed)
    if links:
        summary["ground_link"] = [link.stats() for link in links]
    if pacer is not None:
        summary["pacing"] = pacer.stats()
    np.savez_compressed(out_dir / "history.npz", **hist)
    save_flown_parameters(tele, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_data_products(out_dir, hist, summary)  # history.nc, summary.csv
    if write_report:
        from sim.report import write_report as write_run_report
        write_run_report(out_dir, hist, summary)
    return summary


def _stop_handlers(stop: list) -> dict:
    """SIGINT and SIGTERM append to `stop` instead of interrupting; the old handlers."""
    def request_stop(signum, frame):
        stop.append(signum)
    return {signum: signal.signal(signum, request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)}


def event_writer(tele: FlightTelemetry, ev_file) -> list:
    """Write each downlinked event to events.log; returns the list that collects the
    first 200 warnings or worse for summary.json."""
    lines: list = []

    def write_event(event) -> None:
        severity = Severity(event.severity).name
        ev_file.write(f"{event.time_us / 1e6:12.3f} {severity:<9} {event.source}: "
                      f"{event.text}\n")
        if event.severity <= Severity.WARNING and len(lines) < 200:
            lines.append({"time_s": event.time_us / 1e6, "severity": severity,
                          "source": event.source, "text": event.text})

    tele.event_sinks.append(write_event)
    return lines


def flown_parameters(tele: FlightTelemetry) -> ParamTable:
    """The parameter table as the probe reported it in PARAM_VALUE: defaults, then every
    value it confirmed (overrides at t = 0 and later PARAM_SETs)."""
    table = ParamTable(FLIGHT_PARAMS)
    for name, value in tele.param_values.items():
        if name in table:
            # As the probe reads a PARAM_SET's float: a bool's 0.0/1.0 becomes False/True
            # (set() refuses a float for a bool, and the flown value was lost).
            table.set(name, value, wire=True)
    return table


def save_flown_parameters(tele: FlightTelemetry, out_dir: Path) -> None:
    """The table as flown (as the probe reported it) in params.txt, loadable again with
    --params, and in the formats MAVProxy (params.parm) and QGroundControl
    (params.params) load."""
    flown = flown_parameters(tele)
    flown.save(out_dir / "params.txt")
    write_ground_param_files(flown, out_dir)


def contact_speed_mps(overrides: dict) -> float:
    """The contact speed the probe was told to fly (configuration: default or override)."""
    return float(overrides.get("TAG_CONTACT_MPS", PARAM_SPECS["TAG_CONTACT_MPS"].default))


def host_figures(sim_s: float, wall_s: float, recorder, host_profile: dict) -> dict:
    """What the run cost on this host: time, memory, log size, and the scheduler's
    execution-time profile (host Python times, not flight-processor times)."""
    return {
        "icd_fingerprint": f"{icd_fingerprint():08x}",
        "sim_duration_s": sim_s,
        "wall_duration_s": round(wall_s, 3),
        "realtime_factor": round(sim_s / wall_s, 1) if wall_s > 0 else None,
        "scheduler": host_profile.get("tasks", host_profile),
        "scheduler_groups": host_profile.get("groups", {}),
        "messages_logged": recorder.frames_written,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "pid": os.getpid(),
    }


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="frame", unit_scale=True, desc="sim", file=sys.stderr)
