"""Tests of the run report (sim/report.py): one self-contained page, its plots as data,
missing data, escaping, pass/fail colouring."""

from __future__ import annotations

import html.parser
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from report_page import CARTESIAN_TRACE_TYPES, array, payload, plot_ids, series_values, trace

from sim import report, report_kit
from sim.report import REQUIREMENTS, requirement_status, write_report, write_run_dir_report

ALL_PLOTS = [spec.slug for spec in report.PLOTS]
REPO = pathlib.Path(__file__).resolve().parents[2]


def make_history(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    comp = rng.normal(0.0, 0.15, (n, 3))
    mode = np.full(n, 2, dtype=int)
    mode[: min(n, 300)] = 1
    if n > 1000:
        mode[-100:] = 0
    on = np.zeros((n, 8))
    on[:, :6] = rng.uniform(0.0, 0.02, (n, 6))
    return {
        "t_s": t,
        "hover_err_m": np.linalg.norm(comp, axis=1),
        "pos_err_bf_m": comp,
        "nav_err_m": np.abs(rng.normal(0.0, 0.05, n)),
        "nav_sigma_m": np.full(n, 0.05),
        "att_err_deg": np.abs(rng.normal(0.0, 0.02, n)),
        "thruster_on_s": on,
        "dv_cum_mps": np.cumsum(on.sum(axis=1)) * 1e-4,
        "wheel_speed_radps": np.cumsum(rng.normal(0.0, 0.01, (n, 4)), axis=0),
        "mode": mode,
        "altitude_m": 200.0 + rng.normal(0.0, 0.2, n),
    }


def make_summary(**overrides) -> dict:
    summary = {
        "scenario": "bennu-hover",
        "seed": 1234,
        "sim_duration_s": 86400.0,
        "wall_duration_s": 200.0,
        "realtime_factor": 432.5,
        "hover_error_m_p50": 0.2468,
        "hover_error_m_p99": 0.5791,
        "attitude_error_deg_p99": 0.0437,
        "final_mode": 2,
        "messages_logged": 98765,
        "scheduler": {
            "gnc_control": {"group": "gnc", "rate_hz": 10, "runs": 864000, "overruns": 0,
                            "faults": 0, "budget_us": 2000, "max_exec_us": 850.0,
                            "p99_exec_us": 410.0, "mean_exec_us": 120.0},
            "nav_filter": {"group": "gnc", "rate_hz": 1, "runs": 86400, "overruns": 3,
                           "faults": 0, "budget_us": 5000, "max_exec_us": 6100.0,
                           "p99_exec_us": 3900.0, "mean_exec_us": 1500.0},
            "telemetry": {"group": "io", "rate_hz": 1, "runs": 86400, "overruns": 0,
                          "faults": 0, "budget_us": 1000, "max_exec_us": 0.0,
                          "p99_exec_us": 0.0, "mean_exec_us": 0.0},
        },
        "events": [
            {"time_s": 12.0, "severity": "INFO", "source": "fsm", "text": "entered STANDBY"},
            {"time_s": 300.0, "severity": "WARNING", "source": "nav",
             "text": "<script>alert('x')</script> & more"},
            {"time_s": 86300.0, "severity": "ERROR", "source": "fdir", "text": "SAFE entered"},
        ],
    }
    summary.update(overrides)
    return summary


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.srcs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        src = dict(attrs).get("src")
        if src is not None:
            self.srcs.append(src)

    def handle_data(self, data):
        self.text.append(data)


def parse(path: pathlib.Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


PLOT_KEYS = {
    "position-error": {"hover_err_m", "pos_err_bf_m"},
    "navigation-error": {"nav_err_m", "nav_sigma_m"},
    "pointing-error": {"att_err_deg"},
    "thrusters": {"thruster_on_s", "dv_cum_mps"},
    "wheel-speeds": {"wheel_speed_radps"},
    "altitude-mode": {"altitude_m", "mode"},
    "host-timing": set(),
}


def spec_keys(spec) -> set[str]:
    return PLOT_KEYS[spec.slug]


def check_plots(html_path: pathlib.Path) -> list[str]:
    """The page is one file: nothing loaded from elsewhere (no src attribute at all, no
    report/ directory); return the plots it draws, in order."""
    doc = parse(html_path)
    assert doc.srcs == [], doc.srcs
    assert not (html_path.parent / "report").exists()
    return plot_ids(html_path)


def req_classes(html_text: str) -> dict[str, str]:
    return dict(
        (key, cls) for cls, key in re.findall(r'<tr class="(\w+)" id="req-(\w+)">', html_text)
    )


# ----------------------------------------------------------------------------- full reports


def test_full_report_files_and_figures(tmp_path):
    out = write_report(tmp_path, make_history(3600), make_summary())
    assert out == tmp_path / "report.html"
    assert out.is_file()
    assert check_plots(out) == ALL_PLOTS
    text = out.read_text(encoding="utf-8")
    for figure in ("bennu-hover", "1234", "0.579", "0.0437", "432", "0.247", "98,765",
                   "HOVER"):
        assert figure in text, figure
    assert "Not plotted" not in text and "Plot failed" not in text
    assert text.count("<script") == 3  # plotly.js, the data, the page's script
    # Only trace types of plotly.js's cartesian bundle, which the page may inline instead of
    # the full one (sim.report.CARTESIAN_BUNDLE): another type would draw nothing there.
    types = {t.get("type", "scatter") for p in payload(out)["plots"].values() for t in p["data"]}
    assert types <= CARTESIAN_TRACE_TYPES, types
    assert "cdn." not in text.split("<script", 1)[0]  # the head loads nothing
    # The host's speed is information (Host section), not a requirement.
    assert req_classes(text) == {"hover_error_m_p99": "pass", "attitude_error_deg_p99": "pass"}
    assert '<div class="verdict pass">' in text
    # Host timings: every task listed, none flagged against a flight budget.
    assert "<td>nav_filter</td>" in text and "<td>gnc_control</td>" in text
    assert "<td>telemetry</td>" in text and 'class="bad"' not in text
    # No events.log in tmp_path: said in one line, the summary's events listed instead.
    assert "events.log is missing" in text and "SAFE entered" in text


def test_long_history_is_embedded_whole(tmp_path):
    """The page carries every sample (the browser down-samples for display and again on
    zoom): a one-sample spike is in the data.  Speed belongs in bench/, not here."""
    history = make_history(86_400, seed=3)
    history["mode"][:] = 2  # hovering throughout: every sample judged after settling
    history["hover_err_m"][40_000] = 7.5
    out = write_report(tmp_path, history, make_summary())
    assert check_plots(out) == ALL_PLOTS
    data = payload(out)
    y = series_values(data, data["plots"]["plot-position-error"], "|r − r_target|")
    assert len(y) == 86_400 and y[40_000] == pytest.approx(7.5)
    t = array(data, "t")  # time as stored: an even ramp, in hours for a day-long run
    assert t[40_000] == pytest.approx(40_000 / 3600.0)
    assert "Plot failed" not in out.read_text(encoding="utf-8")


def test_arrays_are_float32_unless_that_loses_precision():
    store = report_kit.ArrayStore()
    store.ref("coarse", np.linspace(0.0, 1.0, 1000) ** 2)
    store.ref("fine", 1e6 + np.arange(1000) * 1e-3 + np.sin(np.arange(1000)))
    store.ref("flags", np.array([True, False, True]))
    store.ref("ramp", np.arange(10.0) * 0.5)
    assert store.arrays["coarse"]["dtype"] == "f4"
    assert store.arrays["fine"]["dtype"] == "f8"
    assert store.arrays["flags"]["dtype"] == "u1"
    assert store.arrays["ramp"] == {"range": [0.0, 0.5, 10], "shape": [10]}


def test_single_sample(tmp_path):
    out = write_report(tmp_path, make_history(1), make_summary())
    assert check_plots(out) == ALL_PLOTS
    text = out.read_text(encoding="utf-8")
    assert "Plot failed" not in text


def test_nan_values_do_not_break(tmp_path):
    h = make_history(5000)
    for key in ("hover_err_m", "nav_err_m", "att_err_deg", "altitude_m", "dv_cum_mps"):
        h[key][100:3000] = np.nan
    h["att_err_deg"][:] = np.nan  # completely empty log-scale plot
    out = write_report(tmp_path, h, make_summary())
    assert check_plots(out) == ALL_PLOTS
    assert "Plot failed" not in out.read_text(encoding="utf-8")


def test_deterministic_output(tmp_path):
    a = write_report(tmp_path / "a", make_history(2000), make_summary())
    b = write_report(tmp_path / "b", make_history(2000), make_summary())
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["report.html"]


# ----------------------------------------------------------------------------- missing data


def test_empty_history_and_summary(tmp_path):
    out = write_report(tmp_path, {}, {})
    assert out.is_file()
    assert check_plots(out) == []
    text = out.read_text(encoding="utf-8")
    assert text.count("Not plotted") == len(ALL_PLOTS)
    assert set(req_classes(text).values()) == {"na"}
    assert '<div class="verdict na">' in text
    assert "no time history" in text and "<script" not in text  # nothing to draw


@pytest.mark.parametrize(
    ("missing", "gone"),
    [
        (["att_err_deg", "wheel_speed_radps"], ["pointing-error", "wheel-speeds"]),
        (["nav_err_m"], ["navigation-error"]),
        # Both series of a two-panel plot gone: the plot goes.
        (["hover_err_m", "pos_err_bf_m", "altitude_m", "mode"],
         ["position-error", "altitude-mode"]),
        # One series of a two-panel plot gone (or only the sigma band): the plot stays.
        (["pos_err_bf_m", "thruster_on_s", "mode", "nav_sigma_m"], []),
        (["dv_cum_mps", "altitude_m", "hover_err_m"], []),
        (["t_s"], []),
    ],
)
def test_missing_keys_skip_with_note(tmp_path, missing, gone):
    h = make_history(300)
    for key in missing:
        del h[key]
    out = write_report(tmp_path, h, make_summary())
    names = check_plots(out)
    text = out.read_text(encoding="utf-8")
    assert names == [f for f in ALL_PLOTS if f not in gone]
    assert "Plot failed" not in text
    assert text.count("Not plotted") == len(gone)
    assert text.count("Partial:") == len(
        {spec.slug for spec in report.PLOTS if spec.slug not in gone
         and any(k in spec_keys(spec) for k in missing if k != "t_s")})
    for key in missing:
        if key != "t_s":
            assert f"no `{key}` in history" in text, key
    # One line at the top says what is missing, whatever the plots say below.
    top = re.search(r'<p class="problems">(.*?)</p>', text)
    assert (top is not None) == any(k != "t_s" for k in missing)
    for key in missing:
        if key != "t_s":
            assert f"no `{key}` in history" in top.group(1), key


def test_a_run_directory_without_history_gets_a_report_of_its_summary(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(make_summary()), encoding="utf-8")
    out, problems = write_run_dir_report(tmp_path)
    text = out.read_text(encoding="utf-8")
    assert problems == ["history.npz missing"]
    assert re.findall(r'<p class="problems">(.*?)</p>', text) == [
        "<b>Missing from this run's data:</b> history.npz missing; no time history: plots "
        "left out, figures from the summary only."]
    assert "0.579" in text  # the summary's figures are still there


def test_a_damaged_history_file_is_named_and_the_rest_reported(tmp_path):
    (tmp_path / "history.npz").write_bytes(b"PK\x03\x04 not really a zip")
    out, problems = write_run_dir_report(tmp_path)
    text = out.read_text(encoding="utf-8")
    assert "history.npz damaged" in text and "summary.json missing" in text
    assert len(problems) == 2
    assert (tmp_path / "history.npz").read_bytes().startswith(b"PK")  # left as it was


def test_links_to_the_run_files_are_relative(tmp_path):
    for name in ("flight.tlog", "summary.json"):
        (tmp_path / name).write_bytes(b"x")
    text = write_report(tmp_path, {}, make_summary()).read_text(encoding="utf-8")
    assert '<a href="flight.tlog"' in text and '<a href="summary.json"' in text
    assert "events.log (not in this run directory)" in text


def test_malformed_arrays_are_skipped_not_fatal(tmp_path):
    h = make_history(400)
    h["pos_err_bf_m"] = np.zeros(400)  # wrong shape
    h["wheel_speed_radps"] = np.zeros((399, 4))  # wrong length
    h["att_err_deg"] = np.array(["a"] * 400)  # not numeric
    out = write_report(tmp_path, h, make_summary())
    names = check_plots(out)
    text = out.read_text(encoding="utf-8")
    assert "wheel-speeds" not in names and "pointing-error" not in names
    assert "position-error" in names  # hover_err_m still plotted
    assert "Plot failed" not in text


def test_no_scheduler_in_summary(tmp_path):
    summary = make_summary()
    del summary["scheduler"], summary["events"]
    out = write_report(tmp_path, {"altitude_m": np.ones(100)}, summary)
    text = out.read_text(encoding="utf-8")
    assert check_plots(out) == ["altitude-mode"]
    assert "No scheduler statistics" in text and "events.log is missing" in text


# ----------------------------------------------------------------------------- escaping


def test_malicious_text_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    summary = make_summary(scenario=f'{evil}"&', final_mode=evil)
    summary["scheduler"][f"{evil}$x$"] = {"group": evil, "rate_hz": 1, "runs": 1,
                                         "overruns": 0, "faults": 0, "budget_us": 10,
                                         "max_exec_us": 1, "p99_exec_us": 1, "mean_exec_us": 1}
    summary["events"].append({"time_s": 1.0, "severity": "ERROR", "source": evil, "text": evil})
    (tmp_path / "events.log").write_text(
        f"     5.000 ERROR     fdir: {evil}</script><script>x()\n", encoding="utf-8")
    out = write_report(tmp_path, make_history(200), summary)
    text = out.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "</script><script>x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    doc = parse(out)
    assert doc.tags.count("script") == 3  # the page's own, none of the run's
    assert any(evil in chunk for chunk in doc.text)  # shown to the reader as text
    assert f"{evil}</script><script>x()" in "".join(doc.text)  # events.log's line, as text
    # In the plots' data (task names, event hover text) the text is data, escaped for
    # Plotly's few hover tags.
    data = payload(out)
    strip = [t for t in data["plots"]["plot-position-error"]["data"]
             if t.get("legendgroup") == "events"]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in x for t in strip for x in t["text"])
    assert "Plot failed" not in text


# ----------------------------------------------------------------------------- pass / fail


@pytest.mark.parametrize(
    ("hover", "att", "rtf", "expected"),
    [
        (0.5, 0.05, 400.0, ("pass", "pass")),
        (1.0, 0.1, 300.0, ("pass", "pass")),  # limits are inclusive
        (1.0001, 0.1001, 299.9, ("fail", "fail")),
        (2.5, 0.01, 1000.0, ("fail", "pass")),
        (0.1, 0.3, 1000.0, ("pass", "fail")),
        (0.1, 0.01, 1.0, ("pass", "pass")),  # 1x real time: the host's speed judges nothing
        (None, float("nan"), "fast", ("na", "na")),
    ],
)
def test_pass_fail_classes(tmp_path, hover, att, rtf, expected):
    summary = make_summary(hover_error_m_p99=hover, attitude_error_deg_p99=att,
                           realtime_factor=rtf)
    out = write_report(tmp_path, {}, summary)  # no plots needed here: keep it quick
    text = out.read_text(encoding="utf-8")
    keys = ("hover_error_m_p99", "attitude_error_deg_p99")
    want = dict(zip(keys, expected, strict=True))
    assert req_classes(text) == want
    assert requirement_status(summary) == want
    if "fail" in expected:
        verdict = "fail"
    elif all(e == "pass" for e in expected):
        verdict = "pass"
    else:
        verdict = "na"
    assert f'<div class="verdict {verdict}">' in text
    for key, cls in want.items():
        row = re.search(rf'<tr class="{cls}" id="req-{key}">.*?</tr>', text).group(0)
        assert f'<td class="status">{"N/A" if cls == "na" else cls.upper()}</td>' in row


def test_requirement_limits_match_brief():
    limits = {r.key: (r.op, r.limit) for r in REQUIREMENTS}
    assert limits == {
        "hover_error_m_p99": ("<=", 1.0),
        "attitude_error_deg_p99": ("<=", 0.1),
    }


# ----------------------------------------------------------------------------- events


# ----------------------------------------------------------------------------- no pyplot


def test_does_not_use_pyplot(tmp_path):
    code = (
        "import sys, pathlib, numpy as np\n"
        "from sim.report import write_report\n"
        f"write_report(pathlib.Path({str(tmp_path)!r}), {{'att_err_deg': np.ones(5)}}, {{}})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_chattering_mode_and_unknown_mode_values(tmp_path):
    n = 20_000
    mode = np.tile([1, 2], n // 2)  # 20,000 mode changes: no bands, a note instead
    mode[:10] = 9  # a value outside the known modes gets its own row
    out = write_report(tmp_path, {"t_s": np.arange(n, dtype=float), "mode": mode}, {})
    assert check_plots(out) == ["altitude-mode"]
    plot = payload(out)["plots"]["plot-altitude-mode"]
    assert not [s for s in plot["layout"]["shapes"] if s["type"] == "rect"]
    assert "mode changed 19,990 times" in plot["layout"]["annotations"][0]["text"]
    assert "mode 9" in plot["layout"]["yaxis2"]["ticktext"]
    assert "Plot failed" not in out.read_text(encoding="utf-8")


def test_site_spectrum_plot_marks_the_detected_bands_only():
    """The chosen site's co-added spectrum: one marker per detected band (an undetected
    band's fitted dip is noise)."""
    from types import SimpleNamespace

    from flightsw.instrument_config import WAVELENGTH_UM
    from sim.minerals import BANDS
    from sim.report_prospect import plot_site_spectrum

    wl = WAVELENGTH_UM
    refl = 0.04 * (1 - 0.1 * np.exp(-0.5 * ((wl - 2.72) / 0.05) ** 2))
    depth = np.full(len(BANDS), np.nan)
    depth[-1] = 0.1
    depth[2] = 0.06  # fitted, but not detected
    detected = np.zeros(len(BANDS), np.int8)
    detected[-1] = 1
    centre = np.array([b.centre_um for b in BANDS])
    h = SimpleNamespace(data={
        "prospect_wavelength_um": wl, "prospect_site_refl": refl[None], "prospect_site_sigma":
        np.full((1, wl.size), 1e-4), "prospect_site_ids": np.array([7]),
        "prospect_site_n": np.array([16]), "prospect_site_depth": depth[None],
        "prospect_site_centre_um": centre[None], "prospect_site_detected": detected[None],
        "prospect_site_truth_refl": refl[None]})
    plot = plot_site_spectrum(h, {})
    markers = trace(plot, "detected band (centre, depth)")
    assert len(markers["x"]) == 1
    assert markers["x"][0] == pytest.approx(BANDS[-1].centre_um)  # the centre it was given
    assert "site 7: 16 spectra co-added" in [t.get("name") for t in plot.data]


def test_ground_track_draws_the_surface_map_and_the_hazards():
    from sim.report_tag import plot_ground_track

    target = np.array([0.0, -250.0, 37.0])
    n = 50
    lat = np.arange(-89.0, 90.0, 2.0)
    lon = np.arange(-179.0, 180.0, 2.0)
    history = {
        "t_s": np.arange(n, dtype=float),
        "pos_bf_m": np.tile(target * 1.5, (n, 1)),
        "surface_lat_deg": lat, "surface_lon_deg": lon,
        "surface_radius_m": 250.0 + np.cos(np.radians(lat))[:, None] * np.ones(lon.size),
        "hazards_center_bf_m": np.array([target + [1.0, 0.0, 0.0], target + [0.0, 0.0, 2.0]]),
        "hazards_radius_m": np.array([1.5, 0.5]),
        "hazards_mapped": np.array([True, False]),
    }
    plot = plot_ground_track(report_kit.History(history), {"target_bf_m": list(target)})
    assert [t["type"] for t in plot.data].count("heatmap") == 1
    circles = [s for s in plot.layout["shapes"] if s["type"] == "circle"]
    radii = sorted((c["x1"] - c["x0"]) / 2 for c in circles)
    assert radii == pytest.approx([0.5, 1.0, 1.5])  # two hazards and the 1 m requirement


def test_ground_track_without_a_surface_map_still_draws():
    from sim.report_tag import plot_ground_track

    target = np.array([0.0, -250.0, 37.0])
    history = {"t_s": np.arange(5, dtype=float), "pos_bf_m": np.tile(target * 1.5, (5, 1))}
    plot = plot_ground_track(report_kit.History(history), {"target_bf_m": list(target)})
    assert "heatmap" not in [t["type"] for t in plot.data]
    assert "sub-spacecraft track" in [t.get("name") for t in plot.data]
