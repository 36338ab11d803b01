"""Open a run report in headless Chromium as a person would, offline: Debian's chromium
and chromedriver at fixed paths (no Selenium Manager download), every network request
refused, the console collected.  Used by tests/sim/test_report_browser.py and
bench/bench_report.py.
"""

from __future__ import annotations

import json
import pathlib
import time
from dataclasses import dataclass, field

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")


def browser_missing() -> str:
    """Why the browser check cannot run here ("" when it can)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip: the test extra)")
    return ", ".join(missing)


@dataclass
class PageLoad:
    load_s: float  # navigation start until every plot has drawn (or failed)
    plots: dict[str, str]  # plot element id -> "svg" when drawn, else what is there
    console_errors: list[str] = field(default_factory=list)
    requests_outside: list[str] = field(default_factory=list)


def open_driver(width: int = 1300, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}",
                # Offline: no name resolves and any proxy would be a dead port.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
                "--proxy-server=http://127.0.0.1:9", "--no-first-run",
                "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return driver


def load_report(driver, html: pathlib.Path, timeout_s: float = 60.0) -> PageLoad:
    """Load ``html`` and wait until its script says every plot is done."""
    driver.get_log("browser")  # drop anything from before
    driver.get_log("performance")
    start = time.perf_counter()
    driver.get(html.resolve().as_uri())
    deadline = start + timeout_s
    while time.perf_counter() < deadline:
        done = driver.execute_script(
            "return document.body && document.body.getAttribute('data-plots-done')")
        has_plots = driver.execute_script("return document.querySelectorAll('.plot').length")
        if done or not has_plots:
            break
        time.sleep(0.02)
    load_s = time.perf_counter() - start
    plots = driver.execute_script("""
        var out = {};
        document.querySelectorAll('.plot').forEach(function (d) {
          out[d.id] = d.querySelector('svg.main-svg') && d.getAttribute('data-rendered') === '1'
            ? 'svg' : (d.getAttribute('data-rendered') || 'nothing') + ': ' + d.textContent;
        });
        return out;""")
    errors = [e["message"] for e in driver.get_log("browser")
              if e.get("level") in ("SEVERE", "ERROR")]
    outside = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith(("file:", "data:", "blob:")):
                outside.append(url)
    return PageLoad(load_s, plots, errors, outside)


def screenshot(driver, html: pathlib.Path, png: pathlib.Path, width: int = 1300) -> None:
    """A full-page PNG of the loaded report."""
    load_report(driver, html)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 40, 16000))
    time.sleep(0.5)  # let the responsive plots take the new size
    png.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(png))

