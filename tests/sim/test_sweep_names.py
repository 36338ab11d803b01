"""The sweep pages fit their scenario and speak in words: a hover sweep has no touchdown
section, and every figure and column is named with its unit, never by its summary key
(sim/sweep_names.py, sim/sweep_page.py, sim/sweep_report.py)."""

import re

import numpy as np
import pandas as pd
import pytest

from sim.sweep_names import label, words_and_unit
from sim.sweep_page import sweep_page
from sim.sweep_report import build_report, is_touch_and_go
from sim.sweep_stats import HOST_FIGURES, KEY_FIGURES

SNAKE_KEY = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")  # what a summary key looks like


def _hover_table(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "seed": np.arange(1, n + 1), "outcome": ["n/a"] * n, "error": [None] * n,
        "hover_error_m_p99": rng.random(n), "attitude_error_deg_p99": rng.random(n),
        "delta_v_mps": rng.random(n), "escaped": np.zeros(n),
        "wall_duration_s": rng.random(n), "sim_duration_s": np.full(n, 60.0),
        "in.body.gm_error_frac": rng.normal(0, 1e-3, n),
        **{f"in.initial.position_offset_i_m[{i}]": rng.normal(0, 1, n) for i in range(3)},
        "flight_log_sha256": ["0" * 64] * n,
    }).astype({"outcome": "string", "error": "string"})


def _aggregate(table) -> dict:
    return {"scenario": "bennu-hover", "executor": "1 local process", "wall_duration_s": 9.0,
            "rates": {"outcome:n/a": {"count": len(table), "of": len(table), "rate": 1.0,
                                      "wilson95": [0.7, 1.0]},
                      "escaped": {"count": 0, "of": len(table), "rate": 0.0,
                                  "wilson95": [0.0, 0.3]}}}


class _Texts:
    """Header cells, first cells of rows and list items of a page (rough, regex based)."""

    def __init__(self, html: str):
        self.headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
        self.first_cells = re.findall(r"<tr[^>]*><td[^>]*>([^<]*)</td>", html)
        self.bold = re.findall(r"<li><b>([^<]*)</b> → ([^:]*):", html)


def test_a_hover_sweep_report_has_no_touchdown_section():
    table = _hover_table()
    assert not is_touch_and_go(table)
    page = build_report(table, _aggregate(table), {"scenario": "bennu-hover"}, None)
    assert 'id="touchdowns"' not in page and "touchdown" not in page.lower()
    assert 'id="drivers"' in page and 'id="figures"' in page


def test_a_touch_and_go_sweep_is_recognised_by_its_outcomes_or_touchdowns():
    table = _hover_table().assign(outcome=pd.array(["sampled"] * 12, dtype="string"))
    assert is_touch_and_go(table)
    assert is_touch_and_go(_hover_table(), np.array([[1.0, 0.1, 0.2]]))


def test_report_columns_and_rows_are_words_with_units_not_keys():
    table = _hover_table()
    page = build_report(table, _aggregate(table), {"scenario": "bennu-hover", "dispersions": {
        "body.gm_error_frac": {"distribution": "normal", "mean": 0.0, "sigma": 1e-3}}}, None)
    texts = _Texts(page)
    named = texts.headers + texts.first_cells + [w for pair in texts.bold for w in pair]
    assert "Hover position error, 99th percentile [m]" in named
    assert "Initial position offset, inertial, x (dispersed) [m]" in named
    for text in named:
        assert not SNAKE_KEY.search(text), text
    # The key stays where tools find it: data attributes and tooltips.
    assert 'data-figure="hover_error_m_p99"' in page and 'title="hover_error_m_p99"' in page


def test_histogram_panels_are_titled_in_words_with_units(monkeypatch):
    import sim.sweep_figures as figures

    titles = []

    def record(columns, color=None):
        titles.extend(columns)
        return []

    monkeypatch.setattr(figures, "histogram_images", record)
    table = _hover_table()
    build_report(table, _aggregate(table), {"scenario": "bennu-hover"}, None)
    assert "Delta-v spent [m/s]" in titles and "Host wall-clock time [s]" in titles
    for title in titles:
        assert not SNAKE_KEY.search(title) and title.endswith("]"), title


@pytest.mark.parametrize("key", [k for k, _ in KEY_FIGURES] + list(HOST_FIGURES))
def test_every_key_and_host_figure_has_words_and_a_unit(key):
    words, unit = words_and_unit(key)
    assert unit and words and "_" not in words


@pytest.mark.parametrize("key, expected", [
    ("hover_error_m_p99", "Hover position error, 99th percentile [m]"),
    ("some_new_speed_mps", "Some new speed [m/s]"),
    ("accel_bias_mps2", "Accel bias [m/s²]"),
    ("in.spacecraft.thrusters.cant_deg[1]", "Thruster set cant, y (dispersed) [deg]"),
    ("|in.spacecraft.thrusters.cant_deg|", "Thruster set cant, magnitude (dispersed) [deg]"),
    ("in.body.new_thing_m", "Body new thing (dispersed) [m]"),
])
def test_labels_of_known_and_unknown_keys(key, expected):
    assert label(key) == expected


def _summary(seed: int, touchdown: bool) -> dict:
    s = {"seed": seed, "hover_error_m_p99": 0.5, "scenario": "x"}
    if touchdown:
        s |= {"outcome": "sampled", "target_bf_m": [0.0, 0.0, 250.0],
              "touchdown_bf_m": [0.1 * seed, -0.05, 250.0], "touchdown_miss_m": 0.1}
    return s


def test_sweep_page_of_a_hover_sweep_has_no_scatter_and_names_in_words():
    agg = {"scenario": "bennu-hover", "runs": 2, "outcomes": {"n/a": 2},
           "figures": {"hover_error_m_p99": {"n": 2, "p50": 0.5, "p99": 0.6, "min": 0.4,
                                             "max": 0.6}}}
    page = sweep_page([_summary(1, False), _summary(2, False)], agg)
    assert "2 runs" in page and "touchdown" not in page.lower() and "<img" not in page
    assert "Hover position error, 99th percentile [m]" in page
    for text in _Texts(page).headers + _Texts(page).first_cells:
        assert not SNAKE_KEY.search(text), text
    assert 'href="report.html"' in page


def test_sweep_page_of_a_touch_and_go_sweep_draws_its_touchdowns_inline():
    agg = {"scenario": "bennu-tag", "runs": 3, "outcomes": {"sampled": 3}, "figures": {}}
    page = sweep_page([_summary(s, True) for s in (1, 2, 3)], agg)
    assert 'id="touchdown-scatter"' in page and 'src="data:image/png;base64,' in page
