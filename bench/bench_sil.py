"""SIL speed: real-time factor of the default scenario and where the time goes.

Prints figures, never pass/fail.  Three measurements in one process:
  1. the default scenario as `prospector run` flies it (recorder on, report off);
  2. the same run instrumented, split into dynamics, gravity, sensors, SimBus,
     flight tasks, recorder and truth history (instrumentation costs a few %);
  3. a peer: the same scenario with exact polyhedron gravity at every RK4
     stage instead of the cached expansion, i.e. what the cache buys.
Usage: python bench/bench_sil.py [--duration S]
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sim.runner import run_scenario
from sim.scenario import load_scenario


class _Timed:
    """Wraps a callable and accumulates its wall time."""

    def __init__(self, fn):
        self.fn = fn
        self.ns = 0
        self.calls = 0

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter_ns()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.ns += time.perf_counter_ns() - t0
            self.calls += 1


def _instrumented_run(sc, out: Path) -> dict:
    import sim.runner as runner_mod

    timers = {}
    real_world_cls = runner_mod.World
    real_fsw_cls = runner_mod.FlightSoftware
    real_recorder_cls = runner_mod.FlightRecorder
    real_bus_cls = runner_mod.SimBus
    real_history_cls = runner_mod.History

    class World(real_world_cls):
        def __init__(self, scenario):
            super().__init__(scenario)
            timers["gravity"] = self.dynamics.gravity_bf = _Timed(self.dynamics.gravity_bf)
            timers["dynamics"] = self.step = _Timed(self.step)
            timers["sensors"] = self.sensor_messages = _Timed(self.sensor_messages)
            timers["actuators"] = self.apply_commands = _Timed(self.apply_commands)

    class FlightSoftware(real_fsw_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            timers["flight"] = self.run_frame = _Timed(self.run_frame)

    class FlightRecorder(real_recorder_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            timers["recorder"] = self.record = _Timed(self.record)

    class SimBus(real_bus_cls):
        def __init__(self):
            super().__init__()
            timers["simbus"] = self.deliver = _Timed(self.deliver)

    class History(real_history_cls):
        def __init__(self, *args):
            super().__init__(*args)
            timers["history"] = self.sample = _Timed(self.sample)

    runner_mod.World, runner_mod.FlightSoftware = World, FlightSoftware
    runner_mod.FlightRecorder = FlightRecorder
    runner_mod.SimBus, runner_mod.History = SimBus, History
    try:
        t0 = time.perf_counter()
        summary = run_scenario(sc, out, write_report=False, progress=False)
        total_s = time.perf_counter() - t0
    finally:
        runner_mod.World, runner_mod.FlightSoftware = real_world_cls, real_fsw_cls
        runner_mod.FlightRecorder = real_recorder_cls
        runner_mod.SimBus, runner_mod.History = real_bus_cls, real_history_cls
    return {"total_s": total_s, "timers": timers, "summary": summary}


def _exact_gravity_run(sc, out: Path) -> float:
    import sim.world as world_mod

    real = world_mod.CachedGravity

    class ExactOnly:
        def __init__(self, exact, rel_tol=0.0):
            self.exact = exact
            self.exact_evaluations = 0

        def acceleration_xyz(self, x, y, z):
            self.exact_evaluations += 1
            a = self.exact.acceleration((x, y, z))
            return (float(a[0]), float(a[1]), float(a[2]))

    world_mod.CachedGravity = ExactOnly
    try:
        summary = run_scenario(sc, out, write_report=False, progress=False)
    finally:
        world_mod.CachedGravity = real
    return summary["realtime_factor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="bennu-hover",
                        help="scenario to time (default bennu-hover; bennu-tag for issue 3)")
    parser.add_argument("--duration", type=float, default=None,
                        help="simulated seconds (default: the scenario's own)")
    parser.add_argument("--peer-duration", type=float, default=600.0,
                        help="simulated seconds of the exact-gravity peer run")
    args = parser.parse_args()
    overrides = {} if args.duration is None else {"scenario.duration_s": args.duration}
    sc = load_scenario(args.scenario, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain = run_scenario(sc, tmp / "plain", write_report=False, progress=False)
        sim_s = plain["sim_duration_s"]
        print(f"scenario {plain['scenario']}: {sim_s:.0f} s simulated, "
              f"{plain['messages_logged']} messages logged")
        print(f"realtime_factor {plain['realtime_factor']:.1f}x  "
              f"(wall {plain['wall_duration_s']:.1f} s, recorder on, report off)")
        if plain.get("outcome"):
            print(f"outcome {plain['outcome']}  touchdown_miss_m {plain['touchdown_miss_m']}")
        else:
            hover, att = plain["hover_error_m_p99"], plain["attitude_error_deg_p99"]
            # None: a run too short for a settled hover is not judged (sim/phase_windows.py).
            print("hover_error_m_p99 " + ("not judged" if hover is None else f"{hover:.3f}")
                  + "  attitude_error_deg_p99 "
                  + ("not judged" if att is None else f"{att:.4f}"))
        inst = _instrumented_run(sc, tmp / "inst")
        t = {name: timer.ns * 1e-9 for name, timer in inst["timers"].items()}
        total = inst["total_s"]
        parts = {
            "dynamics (RK4, excl. gravity)": t["dynamics"] - t["gravity"],
            "gravity (cached polyhedron)": t["gravity"],
            "sensor models": t["sensors"],
            "SimBus pack + decode (to flight)": t["simbus"],
            "actuator commands": t["actuators"],
            "flight tasks (excl. recorder)": t["flight"] - t["recorder"],
            "recorder (tlog writes)": t["recorder"],
            "truth history for the report (1 Hz)": t["history"],
        }
        parts["runner loop, set-up, summary"] = total - sum(parts.values())
        print(f"where the time goes (instrumented run, {total:.2f} s wall):")
        for name, seconds in parts.items():
            print(f"  {name:<32} {seconds:7.2f} s  {100 * seconds / total:5.1f} %  "
                  f"{1e6 * seconds / sim_s:7.1f} us per simulated s")
        g = inst["timers"]["gravity"]
        print(f"  gravity calls {g.calls}, exact expansions "
              f"{inst['summary']['gravity_exact_evaluations']}")
        peer_sc = load_scenario(args.scenario, {"scenario.duration_s": args.peer_duration})
        cached = run_scenario(peer_sc, tmp / "peer-cached", write_report=False,
                              progress=False)["realtime_factor"]
        exact = _exact_gravity_run(peer_sc, tmp / "peer-exact")
        print(f"peer ({args.peer_duration:.0f} s): cached gravity {cached:.1f}x vs exact "
              f"polyhedron every RK4 stage {exact:.1f}x real time: ratio {cached / exact:.1f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak RSS of this process {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
