"""Record the golden logs again: `make golden` (or `python tests/golden/record.py`).

Run it when a change of flight behaviour is intended: the golden-log test
(tests/test_golden_logs.py) replays every log here and fails, with the
divergence report, as soon as the flight software sends anything else.  After
re-recording, commit the new logs with the change that explains them.

Each golden is a short simulator run (under 1 MB): its flight.tlog and the
flight_config.json replay needs.  `--only NAME` re-records one of them.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from anywhere, without installing

KEPT = ("flight.tlog", "flight_config.json", "events.log")

# name: (scenario, overrides, what it exercises)
GOLDENS = {
    "hover-60s": ("bennu-hover", {"scenario.seed": 1, "scenario.duration_s": 60.0},
                  "mode commands, navigation start-up, hover control"),
    "hover-commands-90s": ("bennu-hover", {
        "scenario.seed": 2, "scenario.duration_s": 90.0,
        "params.HOV_BW_RADPS": 0.04,
        "commands": [
            {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
            {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
            {"t_s": 30.0, "name": "SET_HOVER_POINT", "args": [1082.5, 5.0, 625.0]},
            {"t_s": 60.0, "name": "SET_PARAM", "args": ["ATT_BW_RADPS", 0.25]},
            {"t_s": 75.0, "name": "SET_PARAM", "args": ["NO_SUCH_PARAM", 1.0]},
        ]}, "parameter uplink at t = 0 and later, a refused parameter, a new hover point"),
    "tag-descent-start": ("bennu-tag", {
        "scenario.seed": 1, "scenario.duration_s": 240.0,
        "commands": [
            {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
            {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
            {"t_s": 150.0, "name": "START_TAG", "args": []},
        ]}, "landmark navigation, the first 90 s of a touch-and-go descent"),
    "survey-slice": ("bennu", {
        "scenario.seed": 1, "scenario.duration_s": 170.0,
        # The probe starts where the survey station is at t = 0 (bf) and a generous
        # acceleration budget makes the hop short, so the scan starts near t = 100 s;
        # sparse landmarks keep the flight configuration small.
        "initial.hover_point_bf_m": [-1079.4, 415.5, 319.9],
        "prospect.landmark_spacing_m": 40.0,
        "params.PRS_XFER_S": 30.0,
        "params.PRS_XFER_ACC": 0.01,
        "commands": [
            {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
            {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
            {"t_s": 20.0, "name": "START_SURVEY", "args": []},
        ]}, "survey: transfer, instruments on, spectra through the pipeline, lidar scans, "
            "the resource map and survey status"),
}


def record(name: str, out_root: Path = HERE) -> Path:
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    scenario, overrides, _ = GOLDENS[name]
    sc = load_scenario(scenario, overrides)
    target = out_root / name
    with tempfile.TemporaryDirectory() as tmp:
        run_scenario(sc, Path(tmp) / "run", write_report=False, progress=False)
        target.mkdir(parents=True, exist_ok=True)
        for kept in KEPT:
            shutil.copyfile(Path(tmp) / "run" / kept, target / kept)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(GOLDENS), help="re-record just this one")
    args = parser.parse_args(argv)
    for name in [args.only] if args.only else GOLDENS:
        path = record(name)
        size = (path / "flight.tlog").stat().st_size
        print(f"golden {name}: {size} bytes -> {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
