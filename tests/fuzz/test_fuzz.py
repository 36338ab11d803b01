"""A bounded fuzzing run in every `make test`, and every saved failing case replayed.

`make fuzz` (tools/fuzz.py) runs the same targets for as long as asked; what it
finds lands in tests/fuzz/cases/ and is replayed here until fixed.
"""

import hashlib
import json
import os
import random
import signal
import sys
import time
import tomllib
from pathlib import Path

import fuzzing
import pytest
from fuzzing import TARGETS, decode, encode, run_case, saved_cases
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(fuzzing.ROOT / "tools"))
import fuzz as fuzz_tool  # noqa: E402  (tools/fuzz.py)

# Cases per target in `make test`: the CLI-heavy ones cost 10-100 ms each.
BOUNDED = {"tlog": 40, "stream": 60, "scenario": 150, "config": 40, "ground": 60}


def _n(target: str, case) -> int:
    return int(hashlib.sha1(encode(target, case)).hexdigest()[:8], 16)


def _fuzz_test(target: str):
    @settings(max_examples=BOUNDED[target], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(TARGETS[target].strategy())
    def test(case):
        problem = run_case(target, case, _n(target, case), save=False)
        assert problem is None, problem
    test.__name__ = f"test_fuzz_{target}"
    return test


test_fuzz_tlog = _fuzz_test("tlog")
test_fuzz_stream = _fuzz_test("stream")
test_fuzz_scenario = _fuzz_test("scenario")
test_fuzz_config = _fuzz_test("config")
test_fuzz_ground = _fuzz_test("ground")


@pytest.mark.parametrize("target, path", saved_cases(),
                         ids=[p.name for _, p in saved_cases()] or None)
def test_saved_failing_case_is_fixed(target, path):
    # n = 0: every entry point of the target, the expensive ones included; then the n it
    # failed with (which entry points and chunk sizes see it depends on n)
    case = decode(target, path.read_bytes())
    for n in {0, fuzzing.case_number(path) or 0}:
        problem = run_case(target, case, n, save=False)
        assert problem is None, f"n = {n}: {problem}"


# --------------------------------------------------------------------------- the harness


def test_campaign_cases_are_the_same_for_the_same_seed():
    for target in TARGETS:
        a = [encode(target, fuzzing.random_case(target, 7, i)) for i in range(20)]
        b = [encode(target, fuzzing.random_case(target, 7, i)) for i in range(20)]
        c = [encode(target, fuzzing.random_case(target, 8, i)) for i in range(20)]
        assert a == b
        assert a != c
        assert len(set(a)) > 10, f"{target}: few distinct cases"


def test_mutations_never_change_the_seeds():
    before = {name: json.dumps(fuzzing.base_config(name)[0]) for name in fuzzing.CONFIG_SEEDS}
    scenarios = {name: fuzzing.to_toml(fuzzing.base_scenario(name)[0])
                 for name in fuzzing.SCENARIO_SEEDS}
    records = {name: list(fuzzing.base_tlog_records(name)) for name in fuzzing.TLOG_SEEDS}
    for i in range(300):
        for target in TARGETS:
            fuzzing.random_case(target, 3, i)
    assert before == {name: json.dumps(fuzzing.base_config(name)[0])
                      for name in fuzzing.CONFIG_SEEDS}
    assert scenarios == {name: fuzzing.to_toml(fuzzing.base_scenario(name)[0])
                         for name in fuzzing.SCENARIO_SEEDS}
    assert records == {name: fuzzing.base_tlog_records(name) for name in fuzzing.TLOG_SEEDS}
    for name in fuzzing.CONFIG_SEEDS:  # and the seeds are the files
        assert before[name] == json.dumps(json.loads(fuzzing.base_config_text(name)))


def test_config_json_is_what_json_dumps_writes():
    for i in range(500):
        d = fuzzing.RandomDraw(random.Random(i))
        tree, paths = fuzzing.base_config(d.choice(fuzzing.CONFIG_SEEDS))
        mutated = fuzzing._mutate_tree(d, tree, paths)
        assert fuzzing.to_json(mutated) == json.dumps(mutated)


def test_scenario_toml_reads_back():
    for name in fuzzing.SCENARIO_SEEDS:
        tree = fuzzing.base_scenario(name)[0]
        assert tomllib.loads(fuzzing.to_toml(tree)) == tree


def test_every_mutation_kind_and_junk_kind_is_made():
    seen = set()

    class Spy(fuzzing.RandomDraw):
        def choice(self, seq):
            value = super().choice(seq)
            if seq is fuzzing.TLOG_OPS:
                seen.add(value)
            return value

    for i in range(300):
        fuzzing.gen_tlog(Spy(random.Random(i)))
    assert seen == set(fuzzing.TLOG_OPS)
    pool = fuzzing.frame_pool()
    ids = {int.from_bytes(f[7:10], "little") for f in pool if f[0] == 0xFD}
    assert len(ids) >= 20, "one frame of every message type of the golden logs"


def test_plan_gives_each_target_its_share_spread_over_the_run():
    quota, tasks = fuzz_tool.plan(100_000, list(TARGETS))
    assert sum(quota.values()) == 100_000
    # the readers of logs and the two links take damaged bytes from outside: most inputs
    assert quota["tlog"] + quota["stream"] + quota["ground"] > 0.7 * 100_000
    for target in TARGETS:
        mine = [(first, count) for t, first, count in tasks if t == target]
        assert sum(c for _, c in mine) == quota[target]
        assert [f for f, _ in mine] == sorted(f for f, _ in mine)
    first_half = tasks[:len(tasks) // 2]
    for target in TARGETS:  # every target runs in the first half of the run
        assert any(t == target for t, _, _ in first_half)


def test_the_ground_check_catches_a_guard_that_admits_forgeries(monkeypatch):
    # the ground target's invariants are worth something only if a broken guard fails them
    from flightsw.components.uplink import UplinkGuard

    pool = dict(fuzzing.ground_frame_pool())
    unsigned_command = ([pool["set_mode"]], True)
    assert run_case("ground", unsigned_command, 0, save=False) is None
    monkeypatch.setattr(UplinkGuard, "judge", lambda self, msg: None)
    problem = run_case("ground", unsigned_command, 0, save=False)
    assert problem is not None and "not signed with the key" in problem


def test_ground_cases_cover_signed_replayed_and_impostor_frames():
    kinds = set()
    for i in range(200):
        datagrams, signed = fuzzing.random_case("ground", 3, i)
        blob = b"".join(datagrams)
        kinds.add("signed" if signed else "unsigned")
        kinds.update(k for k, raw in fuzzing.ground_frame_pool() if raw[10:20] in blob)
        if len(datagrams) != len(set(datagrams)):
            kinds.add("repeated")
    assert {"signed", "unsigned", "repeated", "as_world", "as_probe", "setup_signing"} <= kinds


def test_undamaged_inputs_pass_every_check():
    fuzzing.warm_up()  # raises if one fails


def test_a_short_campaign_counts_every_input(tmp_path):
    tallies, wall_s, cpu_s, stopped = fuzz_tool.run(60, list(TARGETS), 1, seed=5,
                                                    progress_s=600, quiet=True)
    assert not stopped
    assert sum(t.inputs for t in tallies.values()) == 60
    assert all(t.tracebacks == t.hangs == 0 for t in tallies.values())
    assert cpu_s > 0
    text = fuzz_tool.table(tallies, wall_s, cpu_s)
    assert "| all | | 60 | 0 | 0 |" in text


def _stuck_check(case, n, ws):
    if n == 3:  # a hang no SIGALRM reaches: only the worker's watchdog ends it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    if n == 6:  # a crash of the whole process
        os._exit(3)
    if n == 8:
        time.sleep(60)  # a hang SIGALRM ends in process


def test_a_worker_that_dies_in_a_case_loses_no_count_and_saves_the_case(monkeypatch, tmp_path):
    target = fuzzing.Target("stuck", lambda d: d.binary(1, 8), _stuck_check, ".bin")
    monkeypatch.setitem(fuzzing.TARGETS, "stuck", target)
    monkeypatch.setitem(fuzzing.TIME_LIMIT_S, "stuck", 0.3)
    monkeypatch.setitem(fuzz_tool.WEIGHTS, "stuck", 1.0)
    monkeypatch.setitem(fuzz_tool.BATCH, "stuck", 5)
    monkeypatch.setitem(fuzz_tool.ENTRY_POINTS, "stuck", "test")
    monkeypatch.setattr(fuzz_tool, "WATCHDOG_FACTOR", 1.0)
    monkeypatch.setattr(fuzz_tool, "WATCHDOG_EXTRA_S", 1.0)
    monkeypatch.setattr(fuzzing, "CASES", tmp_path)
    shm = Path(fuzzing._memory_dir() or fuzzing.tempfile.gettempdir())
    before = {p.name for p in shm.glob("fuzz-*")}
    tallies, *_ = fuzz_tool.run(12, ["stuck"], 1, seed=1, progress_s=600, quiet=True)
    tally = tallies["stuck"]
    assert tally.inputs == 12
    assert (tally.hangs, tally.tracebacks) == (2, 1)
    saved = sorted(Path(p).read_bytes() for p in tally.saved)
    expected = sorted(encode("stuck", fuzzing.random_case("stuck", 1, i)) for i in (3, 6, 8))
    assert saved == expected
    shm = Path(fuzzing._memory_dir() or fuzzing.tempfile.gettempdir())
    mine = {p.name for p in shm.glob("fuzz-*")}
    assert mine <= before, f"workspaces left behind: {sorted(mine - before)}"
