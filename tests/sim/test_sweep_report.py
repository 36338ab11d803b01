"""The sweep report (sim/sweep_report.py, sim/sweep_stats.py, sim/sweep_figures.py): built
from a runs table made here with planted relations, its sections say what was planted;
Spearman's rho against scipy's; the command lines fly what they say; written at the end of
a sweep and again by `prospector sweep-report`.
"""

from __future__ import annotations

import base64
import html.parser
import math
import shlex

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.report_tag import ellipse_99
from sim.sweep_report import build_report
from sim.sweep_stats import average_ranks, rerun_command, spearman, toml_value
from sim.sweep_table import wilson_interval

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
N_RUNS = 60
OVERRIDES = {"scenario.duration_s": 3.0, "tag.target_latlon_deg": [8.55, -90.0],
             "params.TAG_NAME": "a \"quoted\" word", "faults": [{"t_s": 1.0, "kind": "imu_loss"}]}


class Page(html.parser.HTMLParser):
    """Sections by id, every img src, and every element's attributes by tag."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: list[str] = []
        self.imgs: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "section":
            self.sections.append(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs["src"])

    def with_attr(self, name: str) -> list[dict]:
        return [a for _, a in self.elements if name in a]


def synthetic_sweep(seed: int = 17):
    """A touch-and-go sweep's table: touchdown miss grows with the GM error, the contact
    speed error falls with the thrust error, the boulder share drives nothing; seed 7 raised,
    seeds 11 and 12 failed, seed 20 waved off; 50 touchdowns with a known scatter."""
    rng = np.random.default_rng(seed)
    seeds = np.arange(1, N_RUNS + 1)
    gm = rng.normal(0.0, 0.0012, N_RUNS)
    thrust = rng.normal(0.0, 0.02, N_RUNS)
    boulders = rng.uniform(0.1, 0.2, N_RUNS)
    cant = rng.normal(0.0, 0.3, (N_RUNS, 3))
    miss = 0.3 + 150.0 * np.abs(gm) + 200.0 * gm + rng.normal(0.0, 0.05, N_RUNS)
    speed_error = 0.01 - 0.3 * thrust + rng.normal(0.0, 0.001, N_RUNS)
    outcome = np.array(["sampled"] * N_RUNS, dtype=object)
    error = np.array([None] * N_RUNS, dtype=object)
    outcome[[10, 11]] = "failed"
    outcome[19] = "waved_off"
    outcome[6], error[6] = "error", "RuntimeError: planted"
    miss[6] = speed_error[6] = np.nan
    table = pd.DataFrame({
        "seed": seeds, "outcome": outcome, "error": error,
        "touchdown_miss_m": miss, "contact_speed_error_mps": speed_error,
        "escaped": np.zeros(N_RUNS), "sim_duration_s": np.full(N_RUNS, 8400.0),
        "wall_duration_s": rng.uniform(50.0, 70.0, N_RUNS),
        "in.body.gm_error_frac": gm, "in.spacecraft.thrusters.magnitude_error_frac": thrust,
        "in.prospect.boulder_facet_fraction": boulders,
        **{f"in.spacecraft.thrusters.cant_deg[{i}]": cant[:, i] for i in range(3)},
        "flight_log_sha256": ["0" * 64] * N_RUNS})
    table = table.astype({"outcome": "string", "error": "string"})
    counts = {o: int((outcome == o).sum()) for o in set(outcome)}
    rates = {f"outcome:{o}": _rate(c) for o, c in sorted(counts.items())}
    rates["error"] = _rate(1)
    rates["escaped"] = _rate(0)
    aggregate = {"scenario": "bennu-tag", "rates": rates, "executor": "2 local processes",
                 "wall_duration_s": 1234.5, "missing_seeds": []}
    manifest = {"scenario": "bennu-tag", "overrides": OVERRIDES,
                "dispersions": {"body.gm_error_frac": {"distribution": "normal", "mean": 0.0,
                                                        "sigma": 0.0012}}}
    landed = [s for s in seeds if s not in (7, 11, 12, 20)][:50]
    xy = np.random.default_rng(seed + 1).multivariate_normal(
        [0.1, -0.05], [[0.09, 0.03], [0.03, 0.04]], len(landed))
    touchdowns = np.column_stack([landed, xy])
    return table, aggregate, manifest, touchdowns


def _rate(count: int) -> dict:
    lo, hi = wilson_interval(count, N_RUNS)
    return {"count": count, "of": N_RUNS, "rate": count / N_RUNS, "wilson95": [lo, hi]}


@pytest.fixture(scope="module")
def report():
    table, aggregate, manifest, touchdowns = synthetic_sweep()
    text = build_report(table, aggregate, manifest, touchdowns, {7: "RuntimeError: planted"})
    return table, touchdowns, text, Page(text)


def test_the_page_has_every_section_and_only_inline_pngs(report):
    _, _, text, page = report
    assert page.sections == ["outcomes", "touchdowns", "drivers", "worst", "figures",
                             "inputs"]
    assert "Not drawn" not in text
    assert page.imgs and all(src.startswith("data:image/png;base64,") for src in page.imgs)
    for src in page.imgs:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    # Self-contained: nothing fetched from anywhere (no link, script or remote source).
    assert not [a for tag, a in page.elements if tag in ("link", "script")]
    assert "http://" not in text and "https://" not in text


def test_outcomes_carry_their_wilson_intervals(report):
    _, _, text, page = report
    assert {a["data-rate"] for a in page.with_attr("data-rate")} == {
        "outcome:sampled", "outcome:failed", "outcome:waved_off", "outcome:error", "error",
        "escaped"}
    lo, hi = wilson_interval(2, N_RUNS)
    assert f"{100 * lo:.1f} % – {100 * hi:.1f} %" in text  # the two failed runs
    assert "2 / 60" in text and "56 / 60" in text


def test_the_touchdown_scatter_has_the_99_percent_ellipse_of_the_touchdowns(report):
    _, touchdowns, text, page = report
    (figure,) = [a for tag, a in page.elements if a.get("id") == "touchdown-scatter"]
    _, a, b, angle = ellipse_99(touchdowns[:, 1:3])
    assert float(figure["data-semi-major-m"]) == pytest.approx(a, rel=1e-5)
    assert float(figure["data-semi-minor-m"]) == pytest.approx(b, rel=1e-5)
    # The planted covariance's principal sigmas scaled by sqrt(chi2_2(99 %)) = 3.035, within
    # what 50 points tell of a sigma (about 10 % 1-sigma: 35 % is 3.5 sigma).
    sigmas = np.sqrt(np.linalg.eigvalsh([[0.09, 0.03], [0.03, 0.04]]))[::-1]
    assert a == pytest.approx(3.035 * sigmas[0], rel=0.35)
    assert b == pytest.approx(3.035 * sigmas[1], rel=0.35)
    assert "50 touchdowns" in text and f"{a:.3f} m" in text


def test_the_driver_table_has_the_planted_correlations_with_their_signs(report):
    _, _, text, page = report
    rho = {(c["data-input"], c["data-figure"]): c for c in page.with_attr("data-rho")}
    gm_miss = rho["in.body.gm_error_frac", "touchdown_miss_m"]
    thrust_speed = rho["in.spacecraft.thrusters.magnitude_error_frac", "contact_speed_error_mps"]
    assert float(gm_miss["data-rho"]) > 0.6 and "sig" in gm_miss["class"]
    assert float(thrust_speed["data-rho"]) < -0.9 and "sig" in thrust_speed["class"]
    # For each figure, the input planted to drive it is the strongest of all inputs.
    for figure, planted in (("touchdown_miss_m", "in.body.gm_error_frac"),
                            ("contact_speed_error_mps",
                             "in.spacecraft.thrusters.magnitude_error_frac")):
        column = {i: abs(float(c["data-rho"])) for (i, f), c in rho.items() if f == figure}
        assert max(column, key=column.get) == planted, figure
    # A vector input is studied element by element and by its norm.
    assert ("|in.spacecraft.thrusters.cant_deg|", "touchdown_miss_m") in rho
    # Only outcome figures are columns: no constant, host or flag figure.
    assert {f for _, f in rho} == {"touchdown_miss_m", "contact_speed_error_mps"}
    # The strongest relations are listed first, the planted ones among them.
    listed = text[text.index("<ol>"):text.index("</ol>")]
    assert listed.index("Thrust error common to all thrusters") < listed.index("Body GM error")


def test_the_worst_runs_come_in_order_with_a_command_that_flies_each_again(report):
    table, _, text, page = report
    rows = [int(a["data-seed"]) for a in page.with_attr("data-seed")]
    # The error, then the failed runs, then the wave-off, then the rest; worst miss first.
    by_miss = table.sort_values("touchdown_miss_m", ascending=False).seed.tolist()
    failed = [s for s in by_miss if s in (11, 12)]
    expected = [7] + failed + [20] + [s for s in by_miss if s not in (7, 11, 12, 20)][:6]
    assert rows == expected
    assert "RuntimeError: planted" in text
    from prospector.args import parse_sets
    from prospector.cli import build_parser

    commands = [html_unescape(c) for c in text.split("<code>")[1:] if "prospector run" in c]
    assert len(commands) == 10
    words = shlex.split(commands[0].split("</code>")[0])
    args = build_parser().parse_args(words[1:])
    assert (args.scenario, args.seed, args.dispersed, args.out) == \
        ("bennu-tag", 7, True, "runs/bennu-tag-seed-7")
    assert parse_sets(args.set) == OVERRIDES


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_a_section_that_cannot_be_drawn_says_so_and_the_page_is_still_written():
    table, aggregate, manifest, touchdowns = synthetic_sweep()
    text = build_report(table.drop(columns=["outcome"]), aggregate, manifest, touchdowns)
    page = Page(text)
    assert len(page.sections) == 6
    assert text.count("Not drawn: KeyError") == 1  # the worst runs need the outcomes


def test_a_sweep_without_dispersions_or_touchdowns_gets_notes_not_errors():
    table, aggregate, manifest, _ = synthetic_sweep()
    plain = table[[c for c in table.columns if not c.startswith("in.")]]
    text = build_report(plain, aggregate, {"scenario": "bennu-hover"}, None)
    assert "No touchdown in this sweep" in text and "No dispersed input" in text
    assert "Not drawn" not in text
    assert "touchdowns" in Page(text).sections  # a touch-and-go sweep: the section stays


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.floats(-1e3, 1e3) | st.just(math.nan)),
                min_size=0, max_size=40))
def test_spearman_is_scipys_over_the_finite_pairs(pairs):
    """Ties (small integers) and missing values (NaN pairs left out) included."""
    from scipy.stats import spearmanr

    x = np.array([float(p[0]) for p in pairs])
    y = np.array([p[1] for p in pairs])
    got = spearman(x, y)
    keep = np.isfinite(x) & np.isfinite(y)
    assert got.n == int(keep.sum())
    if got.n < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        assert got.rho is None
        return
    assert got.rho == pytest.approx(spearmanr(x[keep], y[keep]).statistic, abs=1e-12)
    assert 0.0 <= got.p <= 1.0


def test_average_ranks_share_ties_and_a_perfect_relation_is_one():
    assert average_ranks(np.array([10.0, 20.0, 20.0, 5.0])).tolist() == [2.0, 3.5, 3.5, 1.0]
    x = np.linspace(0.0, 1.0, 30)
    assert spearman(x, np.exp(5 * x)).rho == pytest.approx(1.0)
    assert spearman(x, -x ** 3).rho == pytest.approx(-1.0)
    assert spearman(x, -x ** 3).p < 1e-6


@pytest.mark.parametrize("value", [3, -2.5, 1e-7, True, "bennu", 'a "b" \\ c',
                                   [1.0, [2, "x"]], {"t_s": 1.0, "name": "SET_MODE",
                                                     "args": ["HOVER"]}])
def test_toml_value_reads_back_as_the_value(value):
    from prospector.args import parse_sets

    assert parse_sets([f"k={toml_value(value)}"]) == {"k": value}


def test_rerun_command_of_a_scenario_file_names_the_file():
    command = rerun_command("/tmp/my scenarios/tag.toml", 12, {})
    assert shlex.split(command) == ["prospector", "run", "--scenario",
                                    "/tmp/my scenarios/tag.toml", "--seed", "12",
                                    "--dispersed", "--out", "runs/tag-seed-12"]


def test_every_sweep_writes_its_report_and_sweep_report_writes_it_again(tmp_path, capsys):
    """End to end on a two-seed sweep of short hover runs: report.html at the end of the
    sweep; `prospector sweep-report DIR` writes the same page again, byte for byte; a
    directory without a sweep is one line and exit status 2; --force replaces the page."""
    from prospector.cli import main
    from sim.sweep import run_sweep

    out = tmp_path / "sweep"
    run_sweep("bennu-hover", [1, 2], out, jobs=1, progress=False,
              overrides={"scenario.duration_s": 2.0})
    first = (out / "report.html").read_bytes()
    page = Page(first.decode("utf-8"))
    # A hover sweep: no touchdown section.
    assert page.sections == ["outcomes", "drivers", "worst", "figures", "inputs"]
    assert b"--dispersed" in first and b"in.body.gm_error_frac" in first
    (out / "report.html").unlink()
    assert main(["sweep-report", str(out)]) == 0
    assert (out / "report.html").read_bytes() == first
    assert main(["sweep-report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no finished sweep to report on" in err
    (out / "report.html").write_text("stale")
    run_sweep("bennu-hover", [1, 2], out, jobs=1, progress=False, force=True,
              overrides={"scenario.duration_s": 2.0})
    assert len(Page((out / "report.html").read_text(encoding="utf-8")).sections) == 5
