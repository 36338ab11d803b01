"""The HIL rig: the simulator on the board's stimulus link, the flight software
on its flight link, one process, one thread.

    simulator -> StimulusLink -> USART2 | board | USART1 -> SerialBus -> flight software
    simulator <- actuator cmds <- USART2 | board | USART1 <- actuator cmds <-

Two time modes:

- lockstep: the flight software runs on a simulated clock, the same as SIL.
  Each frame the simulator sends the frame's sensor messages, the ground
  uplink due and a time mark; the flight software's frame runs once the board
  has passed that mark on (so every message of the frame has arrived); then
  the rig sends a mark back, and the simulator applies the actuator commands
  and steps once the board has passed that one on.  Nothing depends on how
  long anything took, so a lockstep run is reproducible and, without faults,
  flies exactly the SIL flight.  If a mark does not come within
  `stall_timeout_s` (board gone), frames go on paced at real time, without
  waiting, until the board answers again.
- realtime: the flight software runs on the wall clock and its scheduler
  sleeps to each frame; the simulator sends each frame's sensors `lead_us`
  before the frame (60 % of a frame, at most 10 ms) and applies the commands that
  have come back by then.

A run leaves the run directory of `prospector run` (flight.tlog, events.log,
summary.json with a "hil" section, history.npz, report.html, params.txt,
flight_config.json) plus link_stats.json, and always leaves it complete:
whatever stops the run, what was flown is written out.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from flightsw.app import FlightSoftware
from flightsw.config import flight_config_to_dict
from flightsw.core.clock import SimClock, WallClock
from flightsw.core.events import Severity
from flightsw.core.recorder import FlightRecorder
from flightsw.hal.link_health import LinkMonitor
from flightsw.hal.serial_bus import SerialBus, SerialLinkError
from flightsw.icd import FLIGHT_SYSTEM_ID, icd_fingerprint, mavlink
from hil.board import BoardError, EmulatedBoard
from hil.cpu_latency import CpuLatencyHold
from hil.firmware_build import FirmwareBuildError, build_firmware
from hil.ground import GroundStation
from hil.ground_links import RigGround
from hil.link_summary import link_summary
from hil.options import (  # noqa: F401
    FAULT_KINDS,
    MODES,
    Fault,
    HilOptions,
    HilRunError,
    scenario_board_faults,
)
from hil.stimulus import CMD_LINE_NOISE, CMD_START_RUN, SIM_SYSTEM_ID, StimulusLink
from hil.warm_up import warm_up_flight_software
from sim.faults import install_task_faults, task_fault_record
from sim.history import History
from sim.history_dataset import write_data_products
from sim.runner import (
    RunConfigError,
    contact_speed_mps,
    event_writer,
    flight_config_from_scenario,
    host_figures,
    parameter_overrides,
    prepare_run_dir,
    save_flown_parameters,
)
from sim.scoring import mission_figures
from sim.site import SiteError
from sim.telemetry import FlightTelemetry
from sim.truth_record import TruthRecord
from sim.uplink import ground_message, time_tagged_uplink
from sim.world import World

TIMESYNC_EVERY_FRAMES = 10  # real time: a round-trip probe on the flight link
IDLE_MARGIN_US = 1000  # real time: stop receiving this long before a deadline


DEFAULT_OPTIONS = HilOptions()


def run_hil(sc, out_dir: Path, options: HilOptions = DEFAULT_OPTIONS, *, force: bool = False,
            params_file: Path | None = None, progress: bool | None = None,
            signing_key: bytes | None = None) -> dict:
    """Fly scenario `sc` over the (emulated) board; return the summary (also in out_dir)."""
    overrides = parameter_overrides(sc, params_file)
    try:
        options = replace(options, faults=options.faults + scenario_board_faults(sc))
    except ValueError as exc:  # e.g. a kill_board with a real board
        raise HilRunError(f"{sc.source}: faults: {exc}") from None
    try:
        world = World(sc)  # checks the scenario's site before anything starts
    except SiteError as exc:
        raise RunConfigError(str(exc)) from None
    rig = _Rig(sc, world, Path(out_dir), options, overrides, progress, signing_key)
    try:
        rig.connect()
        prepare_run_dir(Path(out_dir), force)
        return rig.fly()
    finally:
        rig.disconnect()


class _Rig:
    def __init__(self, sc, world, out_dir: Path, opts: HilOptions, overrides: dict, progress,
                 signing_key: bytes | None = None):
        self.sc, self.world, self.out_dir, self.opts = sc, world, out_dir, opts
        self._signing_key, self.ground_side = signing_key, None
        self.overrides = overrides
        self.progress = progress
        self.lockstep = opts.mode == "lockstep"
        self.board: EmulatedBoard | None = None
        self.workdir: Path | None = None
        self.flight_bus: SerialBus | None = None
        self.stim_bus: SerialBus | None = None
        self.rig_events: list[dict] = []
        self._event_file = None
        self._board_down_since: float | None = None
        self._board_restarting = False
        self._reconnects_at_restart = (0, 0)
        self.stalls = 0
        self.degraded_frames = 0
        self._emulator_priority = 0

    # -- set-up and tear-down -------------------------------------------------------------------
    def connect(self) -> None:
        opts = self.opts
        self.ground_side = RigGround(opts.ground, self._signing_key)  # before any board
        if opts.emulate:
            try:
                elf = build_firmware()
            except FirmwareBuildError as exc:
                raise HilRunError(str(exc)) from None
            self.workdir = Path(tempfile.mkdtemp(prefix="prospector-hil-"))
            self.board = EmulatedBoard(elf, self.workdir, transport=opts.transport)
            try:
                self.board.start()
            except BoardError as exc:
                raise HilRunError(f"emulated board: {exc}") from None
            flight_port, stim_port = self.board.flight_port, self.board.stim_port
        else:
            flight_port, stim_port = opts.flight_port, opts.stim_port
        try:
            self.flight_bus = SerialBus(flight_port, system_id=FLIGHT_SYSTEM_ID,
                                        baudrate=opts.baudrate, release_on_mark=self.lockstep)
            self.stim_bus = SerialBus(stim_port, system_id=SIM_SYSTEM_ID, baudrate=opts.baudrate)
        except SerialLinkError as exc:
            raise HilRunError(str(exc)) from None
        if self.board is not None:
            self.board.resume()
        self.stim = StimulusLink(self.stim_bus)
        if not self.stim.wait_board_up():
            raise HilRunError(f"{stim_port}: no heartbeat from the board on the stimulus link")
        result = self.stim.call_board(CMD_START_RUN, 1.0 if self.lockstep else 0.0)
        if result != mavlink.MAV_RESULT_ACCEPTED:
            raise HilRunError(f"{stim_port}: no answer from the board on the stimulus link")
        if not self.flight_bus.await_answer():
            raise HilRunError(f"{flight_port}: no answer from the board on the flight link")
        self.flight_bus.discard_received()  # what the board said before the run started
        self.flight_bus.rtt_ns.clear()
        self.flight_bus.reset_sources()
        self.stim_bus.reset_sources()

    def disconnect(self) -> None:
        for bus in (self.flight_bus, self.stim_bus, self.ground_side):
            if bus is not None:
                bus.close()
        if self.board is not None:
            self.board.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- events of the rig itself ---------------------------------------------------------------
    def rig_event(self, t_us: int, severity: Severity, text: str) -> None:
        self.rig_events.append({"time_s": t_us / 1e6, "severity": severity.name, "text": text})
        if self._event_file is not None:
            self._event_file.write(f"{t_us / 1e6:12.3f} {severity.name:<9} rig: {text}\n")

    # -- the board's life -----------------------------------------------------------------------
    def supervise_board(self, t_us: int) -> None:
        board = self.board
        if board is None:
            return
        now = time.monotonic()
        if self._board_restarting:
            reopened = all(bus.connected and bus.counters["reconnects"] > before
                           for bus, before in zip((self.flight_bus, self.stim_bus),
                                                  self._reconnects_at_restart, strict=True))
            if reopened:
                board.resume()
                if self._emulator_priority:
                    board.set_realtime_priority(self._emulator_priority)
                self._board_restarting = False
                self.rig_event(t_us, Severity.NOTICE,
                               "emulated board restarted, both ports re-opened")
            return
        if self._board_down_since is None:
            if not board.alive:
                self._board_down_since = now
                board.unpublish()
                self.ground.arm_recovery()
                self.rig_event(t_us, Severity.CRITICAL, f"emulated board exited (pid {board.pid})")
            return
        if self.opts.restart_board and now - self._board_down_since >= self.opts.restart_delay_s:
            self._board_down_since = None
            self._reconnects_at_restart = (self.flight_bus.counters["reconnects"],
                                           self.stim_bus.counters["reconnects"])
            try:
                board.restart()
            except BoardError as exc:
                self.rig_event(t_us, Severity.ERROR, f"emulated board restart failed: {exc}")
                self._board_down_since = now
                return
            self._board_restarting = True

    def inject_faults(self, t_us: int) -> None:
        while self._faults and self._faults[0].t_s * 1e6 <= t_us:
            fault = self._faults.pop(0)
            self.rig_event(t_us, Severity.WARNING, f"fault injected: {fault.kind}"
                           + (f" {fault.arg:g} bytes/10 ms" if fault.kind == "noise" else ""))
            try:
                if fault.kind == "kill-board":
                    self.board.kill()
                elif fault.kind == "reset-board":
                    self.ground.arm_recovery()
                    if self.board is not None:
                        self.board.reset()
                    else:
                        self.stim.command_board(mavlink.MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN, 1.0)
                elif fault.kind == "noise":
                    self.stim.command_board(CMD_LINE_NOISE, fault.arg, 10.0, 1.0)
            except BoardError as exc:  # e.g. a reset while the board is down
                self.rig_event(t_us, Severity.ERROR, f"fault {fault.kind} not injected: {exc}")

    # -- flying ---------------------------------------------------------------------------------
    def fly(self) -> dict:
        sc, opts, out_dir = self.sc, self.opts, self.out_dir
        wall_start = time.perf_counter()
        timing = opts.timing_telemetry if opts.timing_telemetry is not None else not self.lockstep
        self.config = config = flight_config_from_scenario(sc, timing, self.world)
        self.base_hz = config.base_rate_hz
        self.frame_us = 1_000_000 // self.base_hz
        self.n_frames = int(round(sc.scenario.duration_s * self.base_hz))
        self.epoch_us = int(round(sc.scenario.epoch_unix_s * 1e6))
        uplink = time_tagged_uplink(self.overrides, sc.commands)
        self.ground = GroundStation(uplink, sc.commands, ground_message, opts.ground_recovery)
        self._faults = sorted(opts.faults, key=lambda f: f.t_s)
        self.events_lines: list[dict] = []
        self.lateness_us: list[int] = []
        self.stale_frames = 0
        self.late_command_frames = 0
        self.history = History(int(sc.scenario.duration_s) + 2, len(self.world.wheel_axes))
        self._write_flight_config(None)
        if not self.lockstep:
            warm_up_flight_software(self.sc)
        self.bar = self._progress()
        restore = None if self.lockstep else self._raise_priority()
        latency_hold = CpuLatencyHold(0)
        if not self.lockstep and self.opts.rt_priority:
            self.priority = f"{self.priority}; {latency_hold.open()}"
        aborted = None
        with open(out_dir / "flight.tlog", "xb", buffering=1 << 16) as tlog, \
                open(out_dir / "events.log", "x", encoding="utf-8", buffering=1 << 14) as ev:
            self._event_file = ev
            self.recorder = FlightRecorder(tlog, self.epoch_us)
            # Everything above is done before the clock starts: in real time the
            # scheduler's first frame is released when the flight software is built.
            self.clock = SimClock() if self.lockstep else WallClock()
            n_sites = len(self.world.prospect.faces) if self.world.prospect is not None else 0
            self.tele = FlightTelemetry(n_sites)
            record, tap = self.recorder.record, self.tele.on_record

            def record_and_decode(t_us: int, raw: bytes) -> None:
                record(t_us, raw)
                tap(t_us, raw)

            # Flight events reach events.log as the ground receives them (downlink).
            self.events_lines = event_writer(self.tele, ev)
            ground = self.ground_side
            self.fsw = FlightSoftware(config, ground.flight_bus(self.flight_bus), self.clock,
                                      record_and_decode,
                                      **ground.flight_software_options(self.lockstep,
                                                                       self.epoch_us))
            ground.follow_key_changes(self.fsw)
            install_task_faults(self.fsw.scheduler, sc.faults)
            self.monitor = LinkMonitor(self.fsw.port, self.fsw.events, self.fsw.modes.force_safe)
            self.fsw.scheduler.add_task(_fastest_group(self.fsw.scheduler), self.monitor.task())
            try:
                if self.lockstep:
                    self._fly_lockstep()
                else:
                    self._fly_realtime()
            except KeyboardInterrupt:
                aborted = "interrupted"
                self.rig_event(self.clock.now_us(), Severity.WARNING, "run interrupted")
                raise
            finally:
                latency_hold.close()
                if restore is not None:
                    os.sched_setscheduler(0, *restore)
                if self.bar is not None:
                    self.bar.close()
                self._event_file = None
                self.recorder.flush()
                self._write_flight_config(self.fsw.scheduler.release_us(0))
                self._finish(wall_start, aborted)
        return self.summary

    def _write_flight_config(self, scheduler_start_us: int | None) -> None:
        """What the flight software was built with, as `prospector run` writes it, and what
        the rig added: a replay needs the monitor task, and in real time the scheduler's
        first release (the wall clock's frames do not start at 0)."""
        (self.out_dir / "flight_config.json").write_text(json.dumps(
            {"flight_config": flight_config_to_dict(self.config),
             "icd_fingerprint": f"{icd_fingerprint():08x}", "epoch_unix_us": self.epoch_us,
             "hil": {"mode": self.opts.mode,
                     "link_monitor": "flightsw.hal.link_health.LinkMonitor (fastest group)",
                     "scheduler_start_us": scheduler_start_us}}
            | task_fault_record(self.sc.faults), indent=2) + "\n")

    def _progress(self):
        import sys
        show = sys.stderr.isatty() if self.progress is None else self.progress
        if not show:
            return None
        from tqdm import tqdm
        return tqdm(total=self.n_frames, unit="frame", unit_scale=True,
                    desc=f"hil {self.opts.mode}", file=sys.stderr)

    def _send_frame_stimulus(self, frame: int, t_us: int) -> None:
        for msg in self.world.sensor_messages(frame, t_us):
            self.stim.send_device(msg)
        for msg in self.ground.due(t_us):
            self.ground_side.send_uplink(self.stim, msg, t_us)

    def _take_commands(self) -> list:
        msgs = self.stim.receive()
        self.ground.observe(msgs)
        self.world.apply_commands(msgs)
        return msgs

    def _fly_lockstep(self) -> None:
        world, fsw, flight, stim = self.world, self.fsw, self.flight_bus, self.stim
        period_s = self.frame_us / 1e6
        degraded = False
        bar = self.bar
        for frame in range(self.n_frames + 1):
            t_us = frame * self.frame_us
            mark = self.epoch_us + t_us
            self.inject_faults(t_us)
            self.supervise_board(t_us)
            self._send_frame_stimulus(frame, t_us)
            stim.send_time_mark(mark)
            paced_until = time.monotonic() + period_s
            wait = period_s / 2 if degraded else self.opts.stall_timeout_s
            flight.release_on_mark = not degraded  # no marks while degraded: release as they come
            arrived = flight.wait_time_mark(mark, wait)
            self.clock.advance_to_us(t_us)
            fsw.run_frame()
            flight.send_time_mark(mark)
            back = stim.bus.wait_time_mark(mark, period_s / 2 if degraded else wait)
            self._take_commands()
            if not (arrived and back):
                self.degraded_frames += 1
                if not degraded:
                    degraded = True
                    self.stalls += 1
                    self.ground.arm_recovery()
                    self.rig_event(t_us, Severity.WARNING, "lockstep stalled: no time mark from "
                                   "the board; frames go on at real time until it answers")
                left = paced_until - time.monotonic()
                if left > 0:
                    time.sleep(left)
            elif degraded:
                degraded = False
                self.rig_event(t_us, Severity.NOTICE, "lockstep resumed")
            if frame % self.base_hz == 0:
                self.history.sample(t_us * 1e-6, world, self.tele)
            if frame == self.n_frames:
                break
            world.step(self.frame_us * 1e-6)
            if bar is not None and frame % 100 == 0:
                bar.update(100)

    def _raise_priority(self):
        """A real-time scheduling class, so that other programs on the machine do not
        make the flight software's frames late; returns what to restore, or None."""
        prio = self.opts.rt_priority
        if not prio or not hasattr(os, "sched_setscheduler"):
            self.priority = "off"
            return None
        before = (os.sched_getscheduler(0), os.sched_getparam(0))
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(prio))
        except OSError as exc:
            self.priority = f"SCHED_FIFO refused ({exc.strerror})"
            return None
        self.priority = f"SCHED_FIFO {prio}"
        if self.board is not None:  # the board's CPU, below the flight software's
            self._emulator_priority = max(1, prio - 1)
            self.priority += f"; emulator {self.board.set_realtime_priority(prio - 1 or 1)}"
        return before

    def _fly_realtime(self) -> None:
        world, fsw, clock = self.world, self.fsw, self.clock
        sched = fsw.scheduler
        lead_us = self.opts.lead_us
        if lead_us is None:
            lead_us = min(10_000, int(self.frame_us * 0.6))
        dt_s = self.frame_us * 1e-6
        bar = self.bar
        for frame in range(self.n_frames + 1):
            # The world's frames follow the scheduler's releases (mission time of the flight
            # software's clock), so sensor time stamps and flight frames agree.
            t_us = sched.release_us(frame)
            self._idle_until(t_us - lead_us)
            self.inject_faults(t_us)
            self.supervise_board(t_us)
            if frame > 0:
                msgs = self._take_commands()
                # The wheel command of the previous flight frame should be here by now.
                want = sched.release_us(frame - 1)
                if not any(m.get_type() == "PROBE_WHEEL_CMD" and m.time_usec == want
                           for m in msgs):
                    self.late_command_frames += 1
                world.step(dt_s)
            self._send_frame_stimulus(frame, t_us)
            if frame % TIMESYNC_EVERY_FRAMES == 0:
                self.flight_bus.request_timesync()
            while sched.next_release_us <= t_us:
                release = sched.next_release_us
                self._idle_until(release)
                self.lateness_us.append(clock.sleep_until_us(release))
                fsw.run_frame()
                latest = fsw.devices.imu.latest
                if release == t_us and (latest is None or latest.t_us != t_us):
                    self.stale_frames += 1
            if frame % self.base_hz == 0:
                self.history.sample(world.state.t_s, world, self.tele)
            if bar is not None and frame % 100 == 0:
                bar.update(100)

    def _idle_until(self, t_us: int) -> None:
        """Wait, receiving on the flight link meanwhile (as a UART driver does in the
        background), until IDLE_MARGIN_US before t_us; the clock's spin does the rest."""
        clock, bus = self.clock, self.flight_bus
        while True:
            left_us = t_us - IDLE_MARGIN_US - clock.now_us()
            if left_us <= 0:
                return
            bus.service(min(left_us, 5000) / 1e6)

    # -- the run directory ------------------------------------------------------------------------
    def _finish(self, wall_start: float, aborted: str | None) -> None:
        out_dir, fsw = self.out_dir, self.fsw
        wall_s = time.perf_counter() - wall_start
        hist = self.history.trimmed()
        sim_s = self.clock.now_us() / 1e6
        truth = TruthRecord.from_world(self.world)
        truth.save(out_dir)
        summary = mission_figures(self.sc, hist, self.tele, truth, self.world,
                                  contact_speed_mps(self.overrides), sim_s)
        summary |= host_figures(sim_s, wall_s, self.recorder, fsw.scheduler.stats())
        summary["events"] = self.events_lines
        hil = link_summary(self, aborted)
        summary["hil"] = hil
        if self.ground_side.links:
            summary["ground_link"] = self.ground_side.stats()
        np.savez_compressed(out_dir / "history.npz", **hist)
        save_flown_parameters(self.tele, out_dir)
        (out_dir / "link_stats.json").write_text(json.dumps(hil, indent=2, sort_keys=True) + "\n")
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        write_data_products(out_dir, hist, summary)  # history.nc, summary.csv (sim)
        if self.opts.write_report and len(hist["t_s"]) >= 2:
            from sim.report import write_report
            write_report(out_dir, hist, summary)
        self.summary = summary

def _fastest_group(scheduler) -> str:
    groups = scheduler.stats()["groups"]
    return max(groups, key=lambda name: groups[name]["rate_hz"])
