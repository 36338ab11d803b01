"""Sweeps on the executor seam (sim/executors.py): the same seeds give the same results on
local processes and on a Dask LocalCluster of two workers (127.0.0.1 only); a worker killed
in the middle loses nothing; a sweep that dies is completed by --resume; the sweep's table
and its rates.  Hover runs of two simulated seconds keep each sweep to a few seconds.
"""

import functools
import json
from pathlib import Path

import pandas as pd
import pytest
import sweep_helpers

from sim.executors import (
    DaskExecutor,
    EnvironmentMismatch,
    ExecutorError,
    LocalExecutor,
    checked_run,
    parse_cluster,
    worker_environment,
)
from sim.sweep import fly_seed, run_sweep
from sim.sweep_store import ResumeError, read_records
from sim.sweep_table import wilson_interval

SHORT = {"scenario.duration_s": 2.0}
HOVER = Path(__file__).resolve().parents[2] / "sim" / "scenarios" / "bennu-hover.toml"
# What a run costs on its host, not what it computed: differs between executors.
HOST_COLUMNS = ("wall_duration_s", "realtime_factor", "peak_rss_mb")
DISPERSIONS = """
[dispersions."spacecraft.mass_kg"]
distribution = "normal"
sigma = 10.0
truncate = [1480.0, 1520.0]

[dispersions."sensors.imu.accel_noise_mps2"]
distribution = "uniform"
bounds = [5e-6, 2e-5]

[dispersions."spacecraft.wheels.count"]
distribution = "choice"
values = [3, 4]
"""


def dispersed_scenario(tmp_path: Path, extra: str = DISPERSIONS,
                       name: str = "dispersed.toml") -> str:
    path = tmp_path / name
    # The packaged scenario without its own Monte Carlo dispersions: these tests declare theirs.
    plain = HOVER.read_text(encoding="utf-8").split("\n# Monte Carlo dispersions")[0]
    path.write_text(plain + extra, encoding="utf-8")
    return str(path)


def computed(out: Path) -> pd.DataFrame:
    table = pd.read_parquet(out / "runs.parquet")
    return table.drop(columns=[c for c in HOST_COLUMNS if c in table]).sort_values("seed")


def test_two_dask_workers_give_each_seed_the_result_of_the_local_executor(tmp_path):
    """Per seed: the same flight log (SHA-256), the same figures, the same dispersed inputs,
    whether local processes or a LocalCluster of two worker processes flew it."""
    scenario = dispersed_scenario(tmp_path)
    local = run_sweep(scenario, [1, 2, 3], tmp_path / "local", jobs=2, progress=False,
                      overrides=SHORT)
    dask = run_sweep(scenario, [1, 2, 3], tmp_path / "dask", cluster="local:2",
                     progress=False, overrides=SHORT)
    assert local["errors"] == {} and dask["errors"] == {}
    assert dask["executor"] == "Dask LocalCluster of 2 processes" and dask["jobs"] == 2
    a, b = computed(tmp_path / "local"), computed(tmp_path / "dask")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert a["flight_log_sha256"].nunique() == 3  # three different runs, each the same twice
    assert {"in.spacecraft.mass_kg", "in.sensors.imu.accel_noise_mps2",
            "in.spacecraft.wheels.count"} <= set(a.columns)
    assert a["in.spacecraft.mass_kg"].between(1480.0, 1520.0).all()
    # The draws are also in each run's own summary.json, as `prospector run` writes them.
    summary = json.loads((tmp_path / "dask" / "seed-0002" / "summary.json").read_text())
    assert summary["dispersed"]["spacecraft.mass_kg"] == \
        a.loc[a.seed == 2, "in.spacecraft.mass_kg"].item()


def _killing(executor_class):
    """An executor whose workers die on some seeds (sweep_helpers.dies_for_some_seeds)."""
    class Killing(executor_class):
        def run(self, fn, tasks):
            marks = {"marker_dir": self.marker_dir, "die_once": self.die_once,
                     "die_always": self.die_always}
            wrapped = functools.partial(sweep_helpers.dies_for_some_seeds, fn)
            for task, result in super().run(wrapped, [t | marks for t in tasks]):
                yield {k: v for k, v in task.items() if k not in marks}, result
    return Killing


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_a_worker_killed_in_the_middle_of_a_sweep_loses_nothing(tmp_path, kind):
    """Seed 2's worker is killed the first time: the seed is run again elsewhere and its
    result is that of an undisturbed run; seed 3's worker dies every time: after its one
    retry it is recorded as an error and the sweep goes on; seed 1 is untouched."""
    if kind == "local":
        executor = _killing(LocalExecutor)(jobs=2)
    else:
        executor = _killing(DaskExecutor)(n_workers=2)
    executor.marker_dir, executor.die_once, executor.die_always = str(tmp_path), [2], [3]
    agg = run_sweep("bennu-hover", [1, 2, 3], tmp_path / "sweep", progress=False,
                    overrides=SHORT, executor=executor)
    records = read_records(tmp_path / "sweep")
    assert sorted(records) == [1, 2, 3] and agg["missing_seeds"] == []
    assert records[1]["error"] is None and records[2]["error"] is None
    assert records[3]["outcome"] == "error" and records[3]["worker_died"] is True
    assert "worker died twice" in records[3]["error"]
    clean = fly_seed({"scenario": "bennu-hover", "seed": 2, "overrides": SHORT,
                      "run_dir": str(tmp_path / "clean-2")})
    assert records[2]["flight_log_sha256"] == clean["flight_log_sha256"]
    assert agg["rates"]["error"]["count"] == 1


class _StopsAfterOneRun(LocalExecutor):
    """A sweep interrupted (Ctrl-C, a machine that goes down) after its first run ends."""

    def run(self, fn, tasks):
        for pair in super().run(fn, tasks):
            yield pair
            raise KeyboardInterrupt


def test_resume_completes_an_interrupted_sweep_without_flying_its_runs_again(tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        run_sweep("bennu-hover", [1, 2, 3], out, progress=False, overrides=SHORT,
                  executor=_StopsAfterOneRun(jobs=1))
    first = read_records(out)
    assert len(first) == 1
    (done_seed,) = first
    record_file = out / "results" / f"seed-{done_seed:04d}.json"
    stamp = record_file.stat().st_mtime_ns
    agg = run_sweep("bennu-hover", [1, 2, 3], out, jobs=1, progress=False, overrides=SHORT,
                    resume=True)
    assert agg["skipped_already_done"] == 1 and agg["missing_seeds"] == []
    assert sorted(read_records(out)) == [1, 2, 3]
    assert record_file.stat().st_mtime_ns == stamp  # the finished run was not flown again
    assert len(pd.read_csv(out / "runs.csv")) == 3


def test_resume_refuses_another_sweep_and_a_directory_without_one(tmp_path):
    out = tmp_path / "sweep"
    run_sweep("bennu-hover", [1], out, jobs=1, progress=False, overrides=SHORT)
    with pytest.raises(ResumeError, match=r"--resume: the --set settings differ"):
        run_sweep("bennu-hover", [1, 2], out, jobs=1, progress=False, resume=True,
                  overrides={"scenario.duration_s": 3.0})
    with pytest.raises(ResumeError, match=r"--resume: the scenario differ"):
        run_sweep(dispersed_scenario(tmp_path), [1, 2], out, jobs=1, progress=False,
                  resume=True, overrides=SHORT)
    assert sorted(read_records(out)) == [1]
    with pytest.raises(Exception, match=r"no sweep to resume"):
        run_sweep("bennu-hover", [1], tmp_path / "nothing", jobs=1, progress=False,
                  resume=True, overrides=SHORT)
    assert not (tmp_path / "nothing").exists()


@pytest.mark.parametrize("entry, message", [
    ('distribution = "gauss"\nsigma = 1.0', r'distribution: expected one of .normal.'),
    ('distribution = "uniform"\nbounds = [1600.0, 1400.0]', r"bounds: expected \[low, high\] "
                                                             r"with low < high"),
    ('distribution = "uniform"\nbounds = [-5.0, 1400.0]', r"bounds: expected a number > 0"),
    ('distribution = "normal"\nsigma = 1000.0', r"mean \+- 6 sigma leaves what the key takes"),
    ('distribution = "normal"\nsigma = 0.0', r"sigma: expected a number > 0"),
    ('distribution = "normal"\nsigma = 1.0\ntruncate = [1.0, 2.0]', r"truncate: holds 0 of "),
    ('distribution = "choice"\nvalues = []', r"values: expected a non-empty array"),
])
def test_a_bad_dispersion_is_refused_before_any_run(tmp_path, entry, message):
    scenario = dispersed_scenario(tmp_path, f'\n[dispersions."spacecraft.mass_kg"]\n{entry}\n')
    with pytest.raises(Exception, match=message) as caught:
        run_sweep(scenario, [1, 2], tmp_path / "sweep", jobs=1, progress=False,
                  overrides=SHORT)
    assert 'dispersions."spacecraft.mass_kg"' in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "sweep").exists()


def test_the_dispersion_of_a_key_that_cannot_be_dispersed_is_refused(tmp_path):
    scenario = dispersed_scenario(
        tmp_path, '\n[dispersions."scenario.duration_s"]\ndistribution = "choice"\n'
                  'values = [1.0]\n')
    with pytest.raises(Exception, match=r"expected the dotted name of a dispersible"):
        run_sweep(scenario, [1], tmp_path / "sweep", jobs=1, progress=False)


def test_cluster_addresses_and_worker_environments():
    assert parse_cluster("local:2") == ("local", 2)
    assert parse_cluster("tcp://127.0.0.1:8786") == ("tcp", "tcp://127.0.0.1:8786")
    for bad in ("local:0", "local:x", "127.0.0.1:8786", "tcp://host", "tcp://h:99999", ""):
        with pytest.raises(ExecutorError, match="--cluster"):
            parse_cluster(bad)
    # A worker of another version refuses to fly (checked on the worker, before the run).
    other = worker_environment() | {"version": "0.0.0-other"}
    result = checked_run(fly_seed, {"seed": 4}, other)
    assert result["environment_mismatch"] is True and "0.0.0-other" in result["error"]
    assert issubclass(EnvironmentMismatch, ExecutorError)


@pytest.mark.parametrize("successes, trials, low, high", [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718)])
def test_wilson_intervals_match_the_published_values(successes, trials, low, high):
    """The Wilson score interval at 95 % (no continuity correction) as Newcombe (1998,
    Statistics in Medicine 17:857, table I, method 3) tabulates it."""
    lo, hi = wilson_interval(successes, trials)
    assert (lo, hi) == (pytest.approx(low, abs=6e-5), pytest.approx(high, abs=6e-5))
    assert wilson_interval(trials, trials)[1] == 1.0 and wilson_interval(0, trials)[0] == 0.0


def test_each_key_draws_from_its_own_stream_of_the_seed(tmp_path):
    """The documented derivation: a key's draw depends on the seed and the key's name only
    (declaring another dispersion leaves it alone); the same seed draws the same value."""
    from sim.scenario import load_scenario
    from sim.scenario_dispersions import stream

    one = dispersed_scenario(tmp_path, '\n[dispersions."spacecraft.mass_kg"]\n'
                                       'distribution = "uniform"\nbounds = [1400.0, 1600.0]\n')
    both = dispersed_scenario(tmp_path, DISPERSIONS.replace(
        'distribution = "normal"\nsigma = 10.0\ntruncate = [1480.0, 1520.0]',
        'distribution = "uniform"\nbounds = [1400.0, 1600.0]'), name="both.toml")
    for seed in (1, 2, 99):
        a = load_scenario(one, {"scenario.seed": seed}, dispersed=True)
        b = load_scenario(both, {"scenario.seed": seed}, dispersed=True)
        expected = 1400.0 + 200.0 * stream("spacecraft.mass_kg", seed).random()
        assert a.spacecraft.mass_kg == b.spacecraft.mass_kg == expected
        assert a.dispersed == {"spacecraft.mass_kg": expected}
    assert load_scenario(one, {"scenario.seed": 1}, dispersed=True).spacecraft.mass_kg != \
        load_scenario(one, {"scenario.seed": 2}, dispersed=True).spacecraft.mass_kg
    # Not asked (a plain run): the scenario's own value, the declaration kept, nothing drawn.
    plain = load_scenario(one, {"scenario.seed": 1})
    assert plain.spacecraft.mass_kg == 1500.0 and plain.dispersed == {}
    assert set(plain.dispersions.declared) == {"spacecraft.mass_kg"}


def test_a_set_key_is_fixed_and_a_table_the_scenario_lacks_is_refused(tmp_path):
    from sim.scenario import ScenarioError, load_scenario

    scenario = dispersed_scenario(tmp_path)
    sc = load_scenario(scenario, {"scenario.seed": 3, "spacecraft.mass_kg": 1234.0},
                       dispersed=True)
    assert sc.spacecraft.mass_kg == 1234.0 and "spacecraft.mass_kg" not in sc.dispersed
    assert "spacecraft.wheels.count" in sc.dispersed
    no_tag = dispersed_scenario(tmp_path, '\n[dispersions."tag.friction"]\n'
                                          'distribution = "uniform"\nbounds = [0.1, 0.5]\n')
    with pytest.raises(ScenarioError, match=r"the scenario has no \[tag\] table"):
        load_scenario(no_tag)


class _FakeClient:
    """What check_workers asks of a Dask client: each worker's environment."""

    def __init__(self, seen):
        self.seen = seen
        self.scheduler = type("Scheduler", (), {"address": "tcp://fake:8786"})()

    def run(self, fn):
        return self.seen


def test_a_worker_of_another_version_or_icd_refuses_the_sweep_before_any_run():
    here = worker_environment()
    DaskExecutor(client=_FakeClient({"tcp://a:1": here, "tcp://b:1": here})).check_workers()
    for field in ("version", "icd_fingerprint"):
        seen = {"tcp://a:1": here, "tcp://b:1": here | {field: "other"}}
        words = {"version": "project version other", "icd_fingerprint": "ICD fingerprint "
                                                                         "other"}[field]
        with pytest.raises(EnvironmentMismatch, match=rf"--cluster: worker tcp://b:1 differs "
                                                      rf"from this machine: {words}, here "):
            DaskExecutor(client=_FakeClient(seen)).check_workers()
    with pytest.raises(ExecutorError, match="no workers"):
        DaskExecutor(client=_FakeClient({})).check_workers()
