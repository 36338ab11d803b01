"""Run report benchmark: size of report.html, time to make it against the run's own wall
time, and time to open it in headless Chromium, offline.

    .venv/bin/python bench/bench_report.py RUN_DIR [RUN_DIR ...] [--loads 3] [--screenshot-dir D]

RUN_DIR is a run directory (history.npz, summary.json, events.log, ...; make one with
`prospector run --scenario bennu --seed 1 --out DIR`).  The report is written into a
scratch copy of it (links to the run's files; the run's own report.html is left alone).
For each run it prints:

  - report.html size, and how much of it is plotly.js and the embedded arrays;
  - time to make it (best of 3: the page from the history already in memory, as the
    runner does at the end of a run) and that as a share of the run's wall time
    (summary.json wall_duration_s);
  - opening it in a fresh headless Chromium (first load: the browser's own start-up of
    a renderer included) and then --loads more times: DOMContentLoaded, first plot
    drawn, every plot drawn; console errors and requests outside the file.

Figures, not pass/fail (the issue's numbers: open in under 3 s, at most 20 MB, at most
10 % added to the run's wall time).  Needs chromium, chromedriver and selenium (make
browser-tools and the test extra) for the browser part; without them that part says so.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "sim"))  # the browser helper of the report's test

from sim.report import write_report  # noqa: E402

LINKED = ("flight.tlog", "summary.json", "events.log", "flight_config.json")


def scratch_copy(run_dir: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    into.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if (run_dir / name).exists():
            (into / name).symlink_to((run_dir / name).resolve())
    return into


def make_figures(run_dir: pathlib.Path, out: pathlib.Path) -> dict:
    with np.load(run_dir / "history.npz") as npz:
        history = {k: npz[k] for k in npz.files}
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        page = write_report(out, history, summary)
        times.append(time.perf_counter() - start)
    text = page.read_text(encoding="utf-8")
    from sim.report import page_asset

    data_start = text.find('id="report-data">')
    data_end = text.find("</script>", data_start)
    wall_s = float(summary.get("wall_duration_s") or float("nan"))
    return {"page": page, "size_mb": page.stat().st_size / 1e6,
            "plotly_mb": len(page_asset("plotly.min.js")) / 1e6,
            "data_mb": (data_end - data_start) / 1e6 if data_start >= 0 else 0.0,
            "make_s": min(times), "wall_s": wall_s,
            "samples": len(history.get("t_s", [])),
            "sim_s": summary.get("sim_duration_s"), "scenario": summary.get("scenario")}


def shrink_png(path: pathlib.Path, width: int = 900) -> None:
    """Scale a full-page screenshot to ``width`` pixels and 256 colours: a moderate PNG
    to keep in docs/."""
    from PIL import Image

    with Image.open(path) as im:
        scale = width / im.width
        small = im.convert("RGB").resize((width, round(im.height * scale)), Image.LANCZOS)
    small.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def browser_figures(page: pathlib.Path, loads: int, shot: pathlib.Path | None) -> dict:
    from report_browser import browser_missing, load_report, open_driver, screenshot

    missing = browser_missing()
    if missing:
        return {"missing": missing}
    driver = open_driver()
    try:
        runs = []
        for _ in range(1 + loads):
            loaded = load_report(driver, page, timeout_s=120)
            marks = driver.execute_script("""
                var t = performance.timing, b = document.body;
                return [t.domContentLoadedEventEnd - t.navigationStart,
                        Number(b.getAttribute('data-first-plot-ms')),
                        Number(b.getAttribute('data-plots-done'))];""")
            runs.append({"total_s": loaded.load_s, "dcl_s": marks[0] / 1e3,
                         "first_s": marks[1] / 1e3, "done_s": marks[2] / 1e3,
                         "errors": loaded.console_errors, "outside": loaded.requests_outside,
                         "plots": loaded.plots})
        if shot is not None:
            screenshot(driver, page, shot)
            shrink_png(shot)
    finally:
        driver.quit()
    return {"first": runs[0], "warm": runs[1:]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="+", type=pathlib.Path)
    ap.add_argument("--loads", type=int, default=3, help="warm loads after the first")
    ap.add_argument("--screenshot-dir", type=pathlib.Path, default=None,
                    help="save a full-page PNG of each report here (report-SCENARIO.png)")
    args = ap.parse_args(argv)
    print(f"host: {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}")
    for run_dir in args.run_dirs:
        if not (run_dir / "history.npz").is_file() or not (run_dir / "summary.json").is_file():
            print(f"{run_dir}: not a run directory (needs history.npz and summary.json)")
            return 2
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            out = scratch_copy(run_dir, pathlib.Path(tmp) / "run")
            f = make_figures(run_dir, out)
            print(f"\n{run_dir} — scenario {f['scenario']}, {f['sim_s']:,.0f} s simulated, "
                  f"{f['samples']:,} samples at 1 Hz")
            print(f"  report.html           {f['size_mb']:6.2f} MB  (plotly.js "
                  f"{f['plotly_mb']:.2f} MB, plots and arrays {f['data_mb']:.2f} MB)")
            share = 100 * f["make_s"] / f["wall_s"] if f["wall_s"] == f["wall_s"] else float("nan")
            print(f"  make it (best of 3)   {f['make_s']:6.2f} s   = {share:.2f} % of the run's "
                  f"wall time ({f['wall_s']:.0f} s)")
            shot = None
            if args.screenshot_dir is not None:
                shot = args.screenshot_dir / f"report-{f['scenario']}.png"
            b = browser_figures(f["page"], args.loads, shot)
            if "missing" in b:
                print(f"  browser: not measured ({b['missing']} missing)")
                continue
            first, warm = b["first"], b["warm"]
            drawn = sum(v == "svg" for v in first["plots"].values())
            print(f"  first open (fresh browser): DOMContentLoaded {first['dcl_s']:.2f} s, "
                  f"first plot {first['first_s']:.2f} s, all {drawn}/{len(first['plots'])} "
                  f"plots {first['done_s']:.2f} s")
            if warm:
                med = {k: statistics.median(r[k] for r in warm) for k in
                       ("dcl_s", "first_s", "done_s")}
                print(f"  opened again (median of {len(warm)}): DOMContentLoaded "
                      f"{med['dcl_s']:.2f} s, first plot {med['first_s']:.2f} s, all plots "
                      f"{med['done_s']:.2f} s")
            errors = sum(len(r["errors"]) for r in [first, *warm])
            outside = sum(len(r["outside"]) for r in [first, *warm])
            print(f"  console errors {errors}, requests outside the file {outside}")
            if shot is not None:
                print(f"  screenshot: {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
