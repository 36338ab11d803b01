"""A bounded fuzzing run in every `make test`, and every saved failing case replayed.

`make fuzz` (tools/fuzz.py) runs the same targets for as long as asked; what it
finds lands in tests/fuzz/cases/ and is replayed here until fixed.
"""

import hashlib

import pytest
from fuzzing import TARGETS, decode, encode, run_case, saved_cases
from hypothesis import HealthCheck, given, settings

# Cases per target in `make test`: the CLI-heavy ones cost 10-100 ms each.
BOUNDED = {"tlog": 40, "stream": 60, "scenario": 150, "config": 40}


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


@pytest.mark.parametrize("target, path", saved_cases(),
                         ids=[p.name for _, p in saved_cases()] or None)
def test_saved_failing_case_is_fixed(target, path):
    # n = 0: every entry point of the target, the expensive ones included
    problem = run_case(target, decode(target, path.read_bytes()), 0, save=False)
    assert problem is None, problem
