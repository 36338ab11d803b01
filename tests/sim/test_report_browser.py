"""The run report as a person sees it: a short touch-and-go run's report.html opened in
headless Chromium with the network cut off (tests/sim/report_browser.py) loads with no
console error, asks for nothing outside the file, and draws every plot; zooming in
re-samples a long series from the full data.

Needs Debian's chromium and chromedriver (make browser-tools) and selenium (the test
extra).  Without them the test is skipped with the reason; under CI (CI=true) a missing
browser fails it in one line instead.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest
from report_browser import browser_missing, load_report, open_driver
from report_page import array, payload, plot_ids
from test_tag import short_tag

from sim.runner import run_scenario


def _require_browser() -> None:
    missing = browser_missing()
    if not missing:
        return
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI: the report's browser check needs {missing} (make browser-tools)",
                    pytrace=False)
    pytest.skip(f"no headless browser: {missing} missing (make browser-tools)")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> pathlib.Path:
    _require_browser()
    out = tmp_path_factory.mktemp("browser") / "run"
    run_scenario(short_tag(), out, progress=False)  # writes report.html as a run does
    return out


@pytest.fixture(scope="module")
def driver():
    _require_browser()
    d = open_driver(width=700)  # narrow: the short run's 1,700 samples exceed 2 per pixel
    yield d
    d.quit()


@pytest.mark.slow
def test_report_of_a_short_run_loads_offline_with_every_plot_drawn(short_run, driver):
    page = short_run / "report.html"
    expected = plot_ids(page)
    assert {"position-error", "navigation-error", "descent-profile", "ground-track"} <= \
        set(expected)
    loaded = load_report(driver, page)
    assert loaded.console_errors == []
    assert loaded.requests_outside == []  # plotly.js and the data are in the file
    assert loaded.plots == {f"plot-{p}": "svg" for p in expected}
    # Every plot is an SVG with something in it: axes, and the traces' paths.
    counts = driver.execute_script("""
        var out = {};
        document.querySelectorAll('.plot').forEach(function (d) {
          out[d.id] = d.querySelectorAll('svg.main-svg .xtick').length; });
        return out;""")
    assert all(n > 0 for n in counts.values()), counts
    # The links at the top resolve to the run's files beside the page.
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.links a')).map(a => a.href)")
    assert [h.rsplit("/", 1)[1] for h in hrefs] == ["flight.tlog", "summary.json",
                                                    "events.log"]
    assert all(pathlib.Path(h.removeprefix("file://")).is_file() for h in hrefs)


@pytest.mark.slow
def test_zooming_in_resamples_the_series_from_the_full_data(short_run, driver):
    page = short_run / "report.html"
    load_report(driver, page)
    n_samples = payload(page)["arrays"]["t"]["shape"][0]
    width = driver.execute_script(
        "return document.getElementById('plot-navigation-error').clientWidth")
    assert n_samples > 2 * width  # long enough to be down-sampled at full view

    def drawn_points(x0=None, x1=None):
        return driver.execute_async_script("""
            var done = arguments[arguments.length - 1], x0 = arguments[0], x1 = arguments[1];
            var gd = document.getElementById('plot-navigation-error');
            var i = gd.data.findIndex(t => t.name === 'navigation error (estimate − truth)');
            var p = x0 === null ? Plotly.relayout(gd, {'xaxis.autorange': true})
                                : Plotly.relayout(gd, {'xaxis.range': [x0, x1]});
            p.then(function () { setTimeout(function () {
              var xs = gd.data[i].x, ys = gd.data[i].y.filter(v => v !== null);
              done([xs.length, xs.filter(v => v >= x0 && v <= x1).length, ys]); }, 50); });
            """, x0, x1)

    full, _, drawn = drawn_points()
    assert full < n_samples  # down-sampled to about two points per pixel
    # ... by min and max per bucket: every sharp peak of the series is still drawn (the
    # 20 highest samples that are the largest within 5 samples either side, so each is
    # the maximum of its bucket of 2 or 3 samples).
    err = array(payload(page), "nav_err_m").astype(float)
    padded = np.pad(err, 5, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 11)
    peaks = np.flatnonzero(err == windows.max(axis=1))
    highest = peaks[np.argsort(err[peaks])[-20:]]
    drawn = np.asarray(drawn, dtype=float)
    missing = [i for i in highest if not np.isclose(drawn, err[i], rtol=1e-6, atol=0).any()]
    assert missing == []
    t = array(payload(page), "t")  # the time axis as the page holds it
    x0, x1 = float(t[700]) - 1e-6, float(t[800]) + 1e-6
    _, inside, _ = drawn_points(x0, x1)
    assert inside == 101  # every sample of the zoomed span, not the coarse view's few
