"""Every sweep goes through the executor seam (issue 17): the survey sweep and the fault
campaign give each seed / case the same result on local processes and on a Dask
LocalCluster of two workers (127.0.0.1 only); and a worker of another project version or
ICD is refused with one line naming it and what differs, before any run or, when it
changes after the start-up check, by the run itself."""

import dataclasses
import json

import pytest
import sweep_helpers

from sim import fault_campaign as fc
from sim.executors import DaskExecutor, EnvironmentMismatch
from sim.fault_campaign_run import run_campaign

pytestmark = pytest.mark.slow


def _computed(runs: list[dict], out_dir=None) -> str:
    """The runs as JSON text (NaN compares equal to itself), without what a run costs on its
    host (wall_s) and with the output directory named alike."""
    text = json.dumps([{k: v for k, v in r.items() if k != "wall_s"} for r in runs],
                      sort_keys=True, default=float)
    return text if out_dir is None else text.replace(str(out_dir), "DIR")


def test_the_survey_sweep_gives_each_seed_the_same_summary_on_two_dask_workers(tmp_path):
    from prospector.survey_sweep import run_survey_sweep

    kw = {"overrides": {"params.PRS_MAX_SCAN_S": 600.0}}  # the shortest scan allowed
    local = run_survey_sweep("bennu", [1, 2], tmp_path / "local.json", jobs=2, **kw)
    dask = run_survey_sweep("bennu", [1, 2], tmp_path / "dask.json", cluster="local:2", **kw)
    a = json.loads((tmp_path / "local.json").read_text())["runs"]
    b = json.loads((tmp_path / "dask.json").read_text())["runs"]
    assert [r["seed"] for r in a] == [1, 2] and not any("error" in r for r in a + b)
    assert a[0]["spectra_processed"] > 300 and a[0] != a[1]
    assert _computed(a) == _computed(b)
    assert local["executor"] == "2 local processes" and local["jobs"] == 2
    assert dask["executor"] == "Dask LocalCluster of 2 processes" and dask["jobs"] == 2
    host = ("wall_s", "executor")
    assert {k: v for k, v in local.items() if k not in host} == \
        {k: v for k, v in dask.items() if k not in host}


@pytest.fixture
def short_reference(monkeypatch):
    """The touch-and-go reference only as far as the descent's start (the hover phase)."""
    plan = dataclasses.replace(fc.SCENARIOS["bennu-tag"], reference_s=1300.0)
    monkeypatch.setitem(fc.SCENARIOS, "bennu-tag", plan)


def test_a_tiny_fault_campaign_gives_each_run_the_same_record_on_two_dask_workers(
        tmp_path, short_reference):
    kw = dict(kinds=["star_tracker_loss", "imu_loss"], phases=["hover"], seeds=[1],
              persistence="permanent", post_s=60.0, progress=False)
    local = run_campaign(tmp_path / "local", jobs=2, **kw)
    dask = run_campaign(tmp_path / "dask", cluster="local:2", **kw)
    assert local["finished"] and dask["finished"]
    assert [r["kind"] for r in local["runs"]] == ["star_tracker_loss", "imu_loss"]
    assert all(r["error"] is None and r["detected"] for r in local["runs"])
    assert _computed(local["runs"], tmp_path / "local") == \
        _computed(dask["runs"], tmp_path / "dask")
    assert local["counts"] == dask["counts"] and local["numbers"] == dask["numbers"]
    assert dask["executor"] == "Dask LocalCluster of 2 processes" and dask["jobs"] == 2
    # Each record is also in its run's directory, written there by the worker.
    name = dask["runs"][1]["name"]
    assert json.loads((tmp_path / "dask" / "runs" / name / "record.json").read_text()) == \
        dask["runs"][1]


@pytest.fixture
def dask_client():
    """A LocalCluster of two workers on 127.0.0.1 (closed after the test), its client and
    the workers' addresses."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client, sorted(client.scheduler_info()["workers"])


def test_a_worker_of_another_icd_or_version_is_refused_before_any_run(dask_client):
    client, (first, second) = dask_client
    with DaskExecutor(client=client) as ex:  # the same everywhere: accepted
        assert ex.slots() == 2
    client.run(sweep_helpers.pretend_icd_fingerprint, 0x1234ABCD, workers=[second])
    with pytest.raises(EnvironmentMismatch) as caught:
        DaskExecutor(client=client).__enter__()
    line = str(caught.value)
    assert "\n" not in line and f"worker {second} differs" in line
    assert "ICD fingerprint 1234abcd, here " in line and "version" not in line
    client.run(sweep_helpers.pretend_icd_fingerprint, None, workers=[second])
    client.run(sweep_helpers.pretend_version, "0.0.0-other", workers=[first])
    with pytest.raises(EnvironmentMismatch, match=rf"worker {first} differs from this "
                                                  rf"machine: project version 0.0.0-other, "
                                                  rf"here "):
        DaskExecutor(client=client).__enter__()


def test_a_worker_that_changes_after_the_check_refuses_its_run(dask_client, tmp_path):
    """A worker replaced after the start-up check: the run checks again on the worker."""
    client, workers = dask_client
    with DaskExecutor(client=client) as ex:
        client.run(sweep_helpers.pretend_icd_fingerprint, 0x1234ABCD, workers=workers)
        with pytest.raises(EnvironmentMismatch, match=r"a worker differs from this machine: "
                                                      r"ICD fingerprint 1234abcd"):
            list(ex.run(sweep_helpers.sleeps, [{"name": "a"}, {"name": "b"}]))
    assert client.run(sweep_helpers.pretend_icd_fingerprint, None)  # and the client lives
