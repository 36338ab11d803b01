"""The "hil" section of a HIL run's summary: links, board, faults and timing."""

import numpy as np


def percentiles(values, scale: float = 1.0) -> dict:
    a = np.asarray(values, dtype=float) * scale
    if a.size == 0:
        return {"n": 0}
    return {"n": int(a.size), "p50": round(float(np.percentile(a, 50)), 3),
            "p99": round(float(np.percentile(a, 99)), 3), "max": round(float(a.max()), 3)}


def link_summary(rig, aborted: str | None) -> dict:
    """The run's "hil" section of summary.json and link_stats.json: the links, the
    board, the faults, the lockstep stalls or the real-time lateness."""
    sched = rig.fsw.scheduler.stats()
    flight = rig.flight_bus.stats()
    hil = {
        "mode": rig.opts.mode,
        "emulated_board": rig.board is not None,
        "transport": rig.opts.transport if rig.board is not None else "serial",
        "flight_port": rig.flight_bus.port,
        "stim_port": rig.stim_bus.port,
        "rate_hz": rig.base_hz,
        "aborted": aborted,
        "cycle_slips": sum(g["slips"] for g in sched.get("groups", {}).values()),
        "frames_skipped": sched.get("frames_skipped", 0),
        "link_monitor": rig.monitor.summary(),
        "flight_link": flight,
        "stim_link": rig.stim_bus.stats(),
        "round_trip_ms": percentiles(rig.flight_bus.rtt_ns, 1e-6),
        "rig_events": rig.rig_events,
        "ground_recovery_commands": rig.ground.commands_sent,
        "faults": [f"{f.kind}@{f.t_s:g}" + (f":{f.arg:g}" if f.kind == "noise" else "")
                   for f in rig.opts.faults],
    }
    if rig.lockstep:
        hil["lockstep_stalls"] = rig.stalls
        hil["degraded_frames"] = rig.degraded_frames
    else:
        hil["wakeup_lateness_us"] = percentiles(rig.lateness_us)
        hil["scheduling"] = getattr(rig, "priority", "off")
        hil["stale_sensor_frames"] = rig.stale_frames
        hil["late_command_frames"] = rig.late_command_frames
    if rig.board is not None:
        hil["board_starts"] = rig.board.starts
        hil["board_pids"] = list(rig.board.pids)
    return hil
