"""Warm-up before a real-time HIL run: first-call costs kept out of its first frames."""

import gc
import tempfile
from pathlib import Path


def warm_up_flight_software(sc) -> None:
    """Fly a few seconds of SIL with a throwaway flight software first, so that
    first-call costs (lazy imports, numpy's first calls, first HOVER control) do not
    land in the first real-time frames; then freeze what exists out of the garbage
    collector's way."""
    import sim.runner
    from sim.scenario import load_scenario

    short = load_scenario(sc.source, {"scenario.duration_s": 7.0,
                                      "scenario.sim_rate_hz": sc.scenario.sim_rate_hz,
                                      "sensors.imu.rate_hz": sc.sensors.imu.rate_hz})
    with tempfile.TemporaryDirectory(prefix="prospector-hil-warmup-") as tmp:
        sim.runner.run_scenario(short, Path(tmp) / "run", write_report=False, progress=False)
    gc.collect()
    gc.freeze()
