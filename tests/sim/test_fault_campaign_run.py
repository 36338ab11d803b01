"""A tiny real fault campaign (sim/fault_campaign_run.py): a short nominal reference, the
hover phase found in it, two runs in spawned processes, their records, campaign.json and
campaign.md; --resume flies nothing twice; a run that raises is an error and no more."""

import dataclasses
import json

import pytest

from sim import fault_campaign as fc
from sim.fault_campaign_run import fly, run_campaign

pytestmark = pytest.mark.slow


@pytest.fixture
def short_reference(monkeypatch):
    """The touch-and-go reference only as far as the descent's start (the hover phase)."""
    plan = dataclasses.replace(fc.SCENARIOS["bennu-tag"], reference_s=1300.0)
    monkeypatch.setitem(fc.SCENARIOS, "bennu-tag", plan)


def test_a_tiny_campaign_flies_judges_and_resumes(tmp_path, short_reference):
    out = tmp_path / "campaign"
    kw = dict(kinds=["star_tracker_loss", "imu_loss"], phases=["hover"], seeds=[1],
              persistence="permanent", post_s=60.0, jobs=2, progress=False)
    data = run_campaign(out, **kw)
    ref = out / "reference" / "bennu-tag-seed-0001"
    assert (ref / "events.log").exists() and (ref / "reference.json").exists()
    runs = {r["kind"]: r for r in data["runs"]}
    assert set(runs) == {"star_tracker_loss", "imu_loss"} and data["finished"]
    for kind, r in runs.items():
        lo, hi = r["window_s"]
        assert 700.0 < lo < hi == 1200.0 and lo < r["t_fault_s"] < hi
        assert r["error"] is None and r["detected"] and r["latency_s"] <= 2.0, r
        assert r["monitor"] == fc.FAULT_KINDS[kind].monitor
        assert r["surface_impacts"] == 0 and r["escaped"] is False
        assert r["duration_s"] == round(r["t_fault_s"] + 60.0)
        assert r["reproduce"].startswith("prospector run --scenario bennu-tag --seed 1")
        run_dir = out / "runs" / r["name"]
        assert json.loads((run_dir / "record.json").read_text()) == r
        assert not (run_dir / "flight.tlog").exists()  # pruned: nothing wrong with it
        assert (run_dir / "summary.json").exists() and (run_dir / "history.npz").exists()
    assert runs["star_tracker_loss"]["response"] == "BACKUP"
    assert data["counts"]["runs"] == 2
    assert json.loads((out / "campaign.json").read_text())["counts"] == data["counts"]
    md = (out / "campaign.md").read_text()
    assert "| star_tracker_loss | " in md and "## The issue's numbers" in md
    # Again with --resume: nothing to fly, the same records; a record of an older judge is
    # judged again from the run's files (not flown again: same wall time).
    stale = out / "runs" / runs["imu_loss"]["name"] / "record.json"
    old = json.loads(stale.read_text())
    stale.write_text(json.dumps(old | {"judge": 1, "detected": False}))
    again = run_campaign(out, resume=True, **kw)
    assert again["runs"] == data["runs"]
    assert json.loads(stale.read_text()) == old


def test_a_run_that_raises_is_recorded_as_an_error(tmp_path):
    """Whatever goes wrong inside one run is its record's error; the case stays named."""
    job = {"name": "hover/imu_loss-permanent-seed-0001", "dir": str(tmp_path / "run"),
           "scenario": "bennu-tag", "overrides": {"scenario.duration_s": -1.0},
           "case": {"kind": "imu_loss", "phase": "hover", "seed": 1,
                    "persistence": "permanent", "hold": False, "scenario": "bennu-tag"},
           "fault": {"t_s": 900.0, "kind": "imu_loss"}, "t_fault_s": 900.0,
           "duration_s": 1000.0, "resume_class": None, "window_s": [773.7, 1200.0]}
    rec = fly(job)
    assert rec["error"].startswith("ScenarioError: ") and "scenario.duration_s" in rec["error"]
    assert rec["kind"] == "imu_loss" and rec["problems"] == ["error"]


def test_a_campaign_directory_of_someone_else_is_refused_untouched(tmp_path):
    from flightsw.run_dir import RunDirError

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not written by prospector"):
        run_campaign(out, kinds=["imu_loss"], phases=["hover"], seeds=[1], progress=False)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_run_whose_worker_died_twice_is_an_error_of_its_case():
    """The executor seam retries a run once after its worker dies; a second death comes
    back as worker_died_record, which the campaign records as the case's error."""
    from sim.executors import worker_died_record
    from sim.fault_campaign_run import campaign_result

    job = {"name": "hover/imu_loss-permanent-seed-0001", "reproduce": "prospector run ...",
           "case": {"kind": "imu_loss", "phase": "hover", "seed": 1,
                    "persistence": "permanent", "hold": False, "scenario": "bennu-tag"},
           "fault": {"t_s": 900.0, "kind": "imu_loss"}, "t_fault_s": 900.0,
           "duration_s": 1000.0, "resume_class": None, "window_s": [773.7, 1200.0]}
    rec = campaign_result(job, worker_died_record(job, "BrokenProcessPool"))
    assert rec["error"].startswith("worker: worker died twice") and rec["kind"] == "imu_loss"
    assert rec["problems"] == ["error"] and rec["name"] == job["name"]
    ref = campaign_result({"name": "reference bennu-tag seed 1", "reference": True},
                  worker_died_record({}, "KilledWorker"))
    assert set(ref) == {"name", "error"}
    ok = {"name": job["name"], "error": None}
    assert campaign_result(job, ok) is ok
