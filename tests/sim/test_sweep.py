"""A Monte Carlo sweep end to end (sim/sweep.py): seeds in spawned worker processes, each
in its own run directory, the aggregate and the sweep page; and what it refuses before any
process starts.  The runs are hover runs of two simulated seconds to keep this fast.
"""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.run_dir import RunDirError
from sim.runner import RunConfigError
from sim.scenario import ScenarioError
from sim.sweep import fly_seed, numeric_leaves, parse_seeds, run_sweep

SHORT = {"scenario.duration_s": 2.0}


def test_a_sweep_runs_each_seed_in_its_own_directory_and_aggregates_them(tmp_path, capsys):
    """Each seed is a complete run of its own (its summary carries its seed), the aggregate
    counts every run and every figure over the seeds, the sweep page is written, and the
    progress bar asked for counts the runs on stderr."""
    out = tmp_path / "sweep"
    agg = run_sweep("bennu-hover", [3, 4], out, jobs=2, progress=True, overrides=SHORT)
    err = capsys.readouterr().err
    assert "sweep: 100%" in err and "2/2" in err
    assert agg["runs"] == 2 and agg["seeds"] == [3, 4] and agg["errors"] == {}
    assert agg["overrides"] == SHORT and agg["jobs"] == 2
    for seed in (3, 4):
        run = out / f"seed-{seed:04d}"
        assert json.loads((run / "summary.json").read_text())["seed"] == seed
        assert (run / "flight.tlog").stat().st_size > 0
    assert json.loads((out / "aggregate.json").read_text()) == agg
    duration = agg["figures"]["sim_duration_s"]
    assert (duration["n"], duration["min"], duration["max"]) == (2, 2.0, 2.0)
    assert "2 runs" in (out / "sweep.html").read_text(encoding="utf-8")


def test_a_sweep_over_its_own_earlier_sweep_needs_force_and_then_replaces_its_runs(tmp_path):
    """An earlier sweep is not overwritten without force (one line naming the directory);
    with force each seed is run again: its summary replaced, a file of the user's that was
    put in the seed's directory left alone."""
    out = tmp_path / "sweep"
    run_sweep("bennu-hover", [1], out, jobs=1, progress=False, overrides=SHORT)
    summary = out / "seed-0001" / "summary.json"
    summary.write_text("{}")
    kept = out / "seed-0001" / "notes.txt"
    kept.write_text("mine")
    with pytest.raises(RunDirError, match=r"sweep: already holds a sweep; choose another "
                                          r"--out or pass --force"):
        run_sweep("bennu-hover", [1], out, jobs=1, progress=False, overrides=SHORT)
    assert summary.read_text() == "{}"
    agg = run_sweep("bennu-hover", [1], out, jobs=1, force=True, progress=False,
                    overrides=SHORT)
    assert agg["runs"] == 1 and json.loads(summary.read_text())["seed"] == 1
    assert kept.read_text() == "mine"


def test_a_target_the_simulator_refuses_stops_the_sweep_before_any_process(tmp_path):
    """A touch-and-go target steeper than the scenario's slope limit is a configuration
    error of the whole sweep, said once, with nothing written."""
    out = tmp_path / "sweep"
    with pytest.raises(RunConfigError, match=r"tag.target_latlon_deg: expected a site with "
                                             r"slope <= 0.01 deg"):
        run_sweep("bennu-tag", [1, 2], out, progress=False,
                  overrides={"tag.slope_limit_deg": 0.01})
    assert not out.exists()


def test_a_seed_that_fails_is_reported_and_does_not_end_the_sweep(tmp_path):
    """One broken seed comes back as an 'error' outcome with a one-line reason; the other
    seeds' results stand (aggregate counts it under errors)."""
    result = fly_seed({"scenario": "no-such-scenario", "seed": 5, "overrides": {},
                       "run_dir": str(tmp_path / "seed-0005")})
    assert result["seed"] == 5 and result["outcome"] == "error"
    assert result["error"].startswith(f"{ScenarioError.__name__}: ")
    assert "no-such-scenario" in result["error"] and "\n" not in result["error"]


def test_only_finite_numbers_are_aggregated():
    """Flags (booleans), the seed and the process id, texts and non-finite values are not
    figures; the wave-off record counts as its number of wave-offs."""
    leaves = numeric_leaves({"seed": 3, "pid": 77, "sampled": True, "outcome": "sampled",
                              "miss_m": 0.25, "nan_m": float("nan"), "n": 4,
                              "waveoffs": {"count": 2, "reasons": ["hazard"]}})
    assert leaves == {"miss_m": 0.25, "n": 4.0, "waveoffs_count": 2.0}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 6)), min_size=1, max_size=6))
def test_seed_spec_is_the_union_of_its_parts(parts):
    """'a-b' is every seed from a to b, 'a' is a; the parts' union, sorted, duplicates once."""
    text = ",".join(f"{lo}-{lo + span}" if span else f"{lo}" for lo, span in parts)
    expected = sorted({s for lo, span in parts for s in range(lo, lo + span + 1)})
    assert parse_seeds(text) == expected


def test_a_sweep_into_a_folder_prospector_did_not_write_is_refused(tmp_path):
    """The sweep directory itself is checked like a run directory: a user's folder is
    never filled (or, with force, emptied)."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    with pytest.raises(RunDirError, match="not written by prospector"):
        run_sweep("bennu-hover", [1], out, force=True, progress=False, overrides=SHORT)
    assert (out / "notes.txt").read_text() == "keep"
