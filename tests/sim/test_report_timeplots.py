"""What the report's time plots draw (sim/report_timeplot.py, sim/report_gnc.py,
sim/report_windows.py): mode bands, the events strip, judged windows, scales set by
what matters, requirement and saturation lines.  Checked on the plots as data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_page import array, payload, series_values, trace

from flightsw.core.modes import Mode
from sim.report import write_report
from sim.report_gnc import plot_attitude, plot_navigation, plot_position, plot_wheels
from sim.report_kit import History
from sim.report_windows import SETTLE_S, judged_mask

HOVER, DESCENT, SURVEY = int(Mode.HOVER), int(Mode.DESCENT), int(Mode.SURVEY)


def tag_like_history(n: int = 4000) -> dict:
    """Hover, then a planned descent whose 'hover error' ramps to 1 km, then hover."""
    t = np.arange(n, dtype=float)
    mode = np.full(n, HOVER)
    mode[1500:2500] = DESCENT
    err = np.full(n, 0.2)
    err[1500:2500] = np.linspace(0.0, 1000.0, 1000)
    return {"t_s": t, "mode": mode, "hover_err_m": err, "pos_err_bf_m": np.zeros((n, 3)),
            "att_err_deg": np.where((t >= 1500) & (t < 2500), 175.0, 0.01)}


def test_judged_mask_leaves_out_other_modes_and_the_settling_after_each_change():
    t = np.arange(3000.0)
    mode = np.full(3000, HOVER)
    mode[1000:1200] = SURVEY
    mask = judged_mask("hover", t, mode)
    assert not mask[: int(SETTLE_S)].any() and mask[int(SETTLE_S):1000].all()
    assert not mask[1000:1200 + int(SETTLE_S)].any() and mask[1200 + int(SETTLE_S):].all()
    assert judged_mask("hover", t, None).all()  # nothing known: everything judged
    with pytest.raises(ValueError, match="unknown kind"):
        judged_mask("speed", t, mode)


def test_the_judges_spans_in_the_summary_decide_what_is_coloured():
    """A summary with the judge's windows (sim/phase_windows.py): exactly those samples
    are judged, whatever the mode column says; an empty list judges nothing."""
    t = np.arange(3000.0)
    mode = np.full(3000, HOVER)
    summary = {"hover_judged_windows_s": [[100.0, 199.0], [2500.0, 2999.0]],
               "attitude_judged_windows_s": []}
    hover = judged_mask("hover", t, mode, summary)
    assert hover.sum() == 100 + 500 and hover[100] and hover[199] and not hover[200]
    assert not judged_mask("pointing", t, mode, summary).any()
    why = {**summary, "attitude_not_judged_reason": "no <hold> long enough"}
    h_att = History({"t_s": t, "mode": mode, "att_err_deg": np.full(3000, 0.01)})
    notes = [a["text"] for a in plot_attitude(h_att, why).layout["annotations"]]
    assert notes == ["Not judged in this run: no &lt;hold&gt; long enough"]
    h = History({"t_s": t, "mode": mode, "hover_err_m": np.where(hover, 0.3, 50.0),
                 "pos_err_bf_m": np.zeros((3000, 3))})
    plot = plot_position(h, summary)
    assert trace(plot, "p99 over judged samples = 0.3 m")["y"] == [0.3, 0.3]
    assert plot.layout["yaxis"]["range"][1] < 2.0  # the 50 m outside is not the scale
    assert not [a for a in plot.layout["annotations"] if "has none" in a["text"]]
    nothing = plot_position(h, {**summary, "hover_judged_windows_s": []})
    notes = [a["text"] for a in nothing.layout["annotations"]]
    assert any("judged hover samples only; this run has none" in n for n in notes)


def test_a_planned_descent_is_not_drawn_as_hover_error_nor_sets_the_scale():
    h = History(tag_like_history())
    plot = plot_position(h, {})
    judged = series_values({"arrays": h.store.arrays}, plot.as_json(), "|r − r_target|")
    assert np.isnan(judged[1500:2500]).all()  # the descent is in the grey trace only
    other = series_values({"arrays": h.store.arrays}, plot.as_json(),
                          "not judged (settling, moving, slewing, other modes)")
    assert np.nanmax(other) == pytest.approx(1000.0)
    assert plot.layout["yaxis"]["range"][1] < 2.0  # scaled by the 1 m line, not by 1 km
    assert trace(plot, "requirement p99 ≤ 1 m")["y"] == [1.0, 1.0]


def test_intended_slews_are_not_judged_as_pointing_error():
    h = History(tag_like_history())
    plot = plot_attitude(h, {})
    p99 = [t["name"] for t in plot.data if str(t.get("name", "")).startswith("p99")]
    assert p99 == ["p99 over judged samples = 0.01 deg"]  # not 175 deg
    assert plot.layout["yaxis"]["type"] == "log"
    assert trace(plot, "requirement ≤ 0.1 deg")["y"] == [0.1, 0.1]


def test_navigation_error_is_scaled_by_the_settled_part_not_the_start_up_spike():
    n = 3000
    sigma = 0.05 + 260.0 * np.exp(-np.arange(n) / 20.0)  # the t = 0 prior, then settled
    err = np.abs(np.random.default_rng(1).normal(0.0, 0.05, n)) + sigma * (np.arange(n) < 5)
    h = History({"t_s": np.arange(n, dtype=float), "nav_err_m": err, "nav_sigma_m": sigma})
    plot = plot_navigation(h, {})
    top = plot.layout["yaxis"]["range"][1]
    assert 0.15 <= top < 1.0  # 3 sigma (0.15 m) in view; 260 m is not the scale
    # The 1 and 3 sigma bands are drawn from the one stored sigma array, scaled.
    assert sorted(s.get("scale", 1.0) for s in plot.series if s["y"] == "nav_sigma_m") == \
        [0.0, 0.0, 1.0, 3.0]
    assert [b["label"] for b in plot.layout["updatemenus"][0]["buttons"]] == ["linear", "log"]


def test_wheel_plot_draws_the_saturation_speed_from_the_flight_configuration():
    n = 100
    h = History({"t_s": np.arange(n, dtype=float), "wheel_speed_radps": np.full((n, 4), 30.0)})
    h.flight_config = {"flight_config": {"vehicle": {"wheel_max_speed_radps": 600.0}}}
    plot = plot_wheels(h, {})
    sat = [t for t in plot.data if str(t.get("name", "")).startswith("saturation")]
    assert sorted(t["y"][0] for t in sat) == [-600.0, 600.0]
    assert "5 % of saturation" in plot.layout["annotations"][0]["text"]


def test_every_time_plot_shades_the_modes_and_carries_the_events_of_events_log(tmp_path):
    history = tag_like_history(3000)
    history.update({"nav_err_m": np.full(3000, 0.01), "nav_sigma_m": np.full(3000, 0.02)})
    (tmp_path / "events.log").write_text(
        "    10.000 INFO      modes: HOVER entered\n"
        "  1500.000 NOTICE    tag: descent started\n"
        "garbage line\n"
        "  2600.500 WARNING   nav: <b>bold</b> claim\n", encoding="utf-8")
    out = write_report(tmp_path, history, {})
    data = payload(out)
    for plot_id in ("plot-position-error", "plot-navigation-error", "plot-pointing-error",
                    "plot-altitude-mode"):
        plot = data["plots"][plot_id]
        bands = [x for s in plot["layout"]["shapes"] if s["type"] == "rect"
                 for x in (s["x0"], s["x1"])]
        t = array(data, "t")  # minutes for this 50-minute run
        assert bands == pytest.approx([0.0, 1500 / 60, 1500 / 60, 2500 / 60, 2500 / 60,
                                       3000 / 60]), plot_id
        assert t[1500] == pytest.approx(25.0)
        strip = {tr["name"]: tr for tr in plot["data"] if tr.get("legendgroup") == "events"}
        assert sorted(strip) == ["event info (1)", "event notice (1)", "event warning (1)"]
        warn = strip["event warning (1)"]
        assert warn["x"] == [pytest.approx(2600.5 / 60)]
        assert "nav: &lt;b&gt;bold&lt;/b&gt; claim" in warn["text"][0]
        names = [s["name"] for s in plot["layout"]["shapes"] if s["type"] == "rect"]
        assert names == ["mode HOVER", "mode DESCENT", "mode HOVER"]
    assert json.dumps(data).count("descent started") == 4  # once per time plot
    # One colour key for the page, each mode once, in order of appearance.
    key = out.read_text(encoding="utf-8").split('<div class="modekey">', 1)[1].split("</div>")[0]
    assert key.count('class="chip"') == 2 and key.index("HOVER") < key.index("DESCENT")


def test_time_axis_units_and_every_y_axis_has_a_unit(tmp_path):
    history = tag_like_history(3000)
    out = write_report(tmp_path, history, {})
    for plot_id, plot in payload(out)["plots"].items():
        layout = plot["layout"]
        for key, ax in layout.items():
            if key.startswith("yaxis") and ax.get("showticklabels", True) and \
                    "ticktext" not in ax and plot_id != "plot-host-timing":
                assert "[" in ax["title"]["text"], (plot_id, key)
        if plot_id != "plot-host-timing":
            assert layout["xaxis"]["title"]["text"] == "mission time [min]"
