"""The judging sections of the run report (sim/report_sections.py, report_requirements,
report_scheduler's host table): verdicts only on what a run can judge, the host as
information, every event of events.log."""

from __future__ import annotations

import re

from sim.report_requirements import requirement_status
from sim.report_scheduler import host_table
from sim.report_sections import events_table, outcome_table, verdict

# A touch-and-go that met every requirement of issue 3, on a slow host (1x real time,
# every task over its flight budget in host Python time).
TAG_MET = {
    "scenario": "bennu-tag", "outcome": "sampled", "outcome_reason": "contact with sample",
    "touchdown_miss_m": 0.31, "contact_speed_error_mps": 0.004, "contact_t_s": 1843.0,
    "contact_duration_s": 5.0, "sample_mass_est_kg": 0.101, "sample_mass_true_kg": 0.1,
    "sample_mass_error_in_3sigma": 0.2, "sample_mass_3sigma_kg": 0.012,
    "hover_error_m_p99": 0.04, "hover_judged_s": 900.0,
    "hover_judged_windows_s": [[300.0, 1200.0]], "attitude_error_deg_p99": None,
    "realtime_factor": 1.0, "wall_duration_s": 2450.0, "sim_duration_s": 2450.0,
    "peak_rss_mb": 310.5,
    "scheduler": {"control": {"group": "fast", "rate_hz": 10, "runs": 24500, "overruns": 1716,
                              "faults": 0, "budget_us": 2000, "max_exec_us": 9000.0,
                              "p99_exec_us": 5000.0, "mean_exec_us": 2500.0}},
}
HOVER_120 = {
    "scenario": "bennu-hover", "hover_error_m_p99": None, "hover_error_m_p50": None,
    "hover_judged_s": 0.0, "hover_judged_windows_s": [],
    "hover_not_judged_reason": "no hover hold outlasted its settling time; the longest "
                               "lasted 115 s",
    "attitude_error_deg_p99": None, "attitude_judged_s": 0.0,
    "attitude_not_judged_reason": "the run ended within 600 s of the first HOVER",
    "realtime_factor": 900.0,
}
EVENTS_LOG = """\
       0.000 NOTICE    modes: SAFE -> STANDBY (command from sys255/190)
       0.000 INFO      cmd: MAV_CMD_DO_SET_MODE from sys255/190: ACCEPTED
       5.000 NOTICE    modes: STANDBY -> HOVER (command from sys255/190)
     600.500 WARNING   faultprot: NAVCAM tripped: <fixes> & landmarks stale
     601.000 CRITICAL  modes: HOVER -> SAFE (fault protection)
    1200.000 INFO      guidance: transfer to the hover point over 300 s
"""


def status_cell(html: str, key: str) -> str:
    row = re.search(rf'<tr class="(\w+)" id="req-{key}">(.*?)</tr>', html)
    return row.group(1)


def test_a_touch_and_go_that_met_its_requirements_at_1x_real_time_passes():
    status = requirement_status(TAG_MET)
    assert "realtime_factor" not in status
    assert set(status.values()) == {"pass"}
    assert verdict(status, TAG_MET) == ("pass", "PASS — all requirements met")
    table = outcome_table(TAG_MET, status)
    assert "Real-time" not in table and "overruns" not in table.lower()
    assert "at contact, t = 1,843 s" in table


def test_a_touch_and_go_is_held_to_the_hover_requirement_where_it_held_a_hover_point():
    drifting = TAG_MET | {"hover_error_m_p99": 2.5}
    status = requirement_status(drifting)
    assert status["hover_error_m_p99"] == "fail"
    assert "attitude_error_deg_p99" not in status  # no pointing target over a site
    assert verdict(status, drifting)[0] == "fail"


def test_the_host_is_information_without_warnings():
    html = host_table(TAG_MET)
    assert "1,716" in html  # the host overruns are shown ...
    assert 'class="bad"' not in html and "budget" not in html.split("</p>")[-1]  # ... not judged
    assert "says nothing about the flight processor" in html
    for figure in ("Real-time factor", "Wall-clock duration", "Peak memory", "310"):
        assert figure in html


def test_a_task_that_raised_is_still_marked():
    summary = dict(TAG_MET)
    summary["scheduler"] = {"nav": dict(TAG_MET["scheduler"]["control"], faults=2)}
    assert '<tr class="bad"><td>nav</td>' in host_table(summary)


def test_a_120_s_hover_is_not_judged_and_says_why():
    status = requirement_status(HOVER_120)
    assert status == {"hover_error_m_p99": "not_judged", "attitude_error_deg_p99": "not_judged"}
    cls, text = verdict(status, HOVER_120)
    assert cls == "na" and text.startswith("NOT JUDGED")
    table = outcome_table(HOVER_120, status)
    assert status_cell(table, "hover_error_m_p99") == "not_judged"
    assert "NOT JUDGED" in table and "the longest lasted 115 s" in table


def test_one_requirement_not_judged_does_not_hide_a_pass_or_a_fail():
    judged_pass = dict(HOVER_120, attitude_error_deg_p99=0.05, attitude_not_judged_reason=None)
    cls, text = verdict(requirement_status(judged_pass), judged_pass)
    assert cls == "pass" and "1 of 1 judged" in text and "1 not judged" in text
    judged_fail = dict(judged_pass, attitude_error_deg_p99=0.5)
    assert verdict(requirement_status(judged_fail), judged_fail)[0] == "fail"


def test_a_touch_and_go_without_contact_is_not_judged_on_contact_but_fails_if_failed():
    waved = dict(TAG_MET, outcome="waved_off", outcome_reason="nav sigma", contact_t_s=None,
                 touchdown_miss_m=None, contact_speed_error_mps=None)
    status = requirement_status(waved)
    assert status["touchdown_miss_m"] == "not_judged"
    assert "no contact: waved_off" in outcome_table(waved, status)
    failed = dict(waved, outcome="failed", outcome_reason="crash into a boulder")
    assert verdict(requirement_status(failed), failed) == (
        "fail", "FAIL — touch-and-go failed: crash into a boulder")


def test_the_events_section_lists_every_line_of_events_log(tmp_path):
    (tmp_path / "events.log").write_text(EVENTS_LOG)
    html = events_table(tmp_path, {"events": []})
    rows = re.findall(r"<tr( class=\"sev-(\w+)\")?><td class=\"num\">\d+</td>", html)
    assert len(rows) == 6
    assert [cls for _, cls in rows] == ["", "", "", "warning", "error", ""]
    assert "6 events: 1 warning, 1 error or worse" in html
    assert "&lt;fixes&gt; &amp; landmarks stale" in html  # escaped
    assert "<td>faultprot</td>" in html and "transfer to the hover point" in html
    assert "00:10:00" in html  # T+ of the warning


def test_a_missing_events_log_is_one_line(tmp_path):
    html = events_table(tmp_path, {})
    assert html.count("<p") == 1 and "events.log is missing" in html


def test_a_damaged_events_log_says_so_and_lists_what_it_can(tmp_path):
    (tmp_path / "events.log").write_bytes(EVENTS_LOG.encode() + b"\x00\xff\xfe garbage\n"
                                          + b"not an event line\n")
    html = events_table(tmp_path, {})
    assert "events.log is damaged: 2 line(s) are no event (first: line 7)" in html
    assert "6 events" in html


def test_an_empty_events_log_says_there_were_none(tmp_path):
    (tmp_path / "events.log").write_text("")
    assert "events.log is empty" in events_table(tmp_path, {})


def test_the_outcome_table_names_the_spans_judged():
    summary = {"hover_error_m_p99": 0.06, "hover_judged_s": 1143.0,
               "hover_judged_windows_s": [[605.0, 999.0], [2253.0, 3000.0]],
               "attitude_error_deg_p99": 0.001, "attitude_judged_s": 1454.0,
               "attitude_judged_windows_s": [[605.0, 999.0], [1942.0, 3000.0]]}
    table = outcome_table(summary, requirement_status(summary))
    assert "1,143 s of hover hold after settling: t = 605–999, 2,253–3,000 s" in table
    assert "1,454 s of HOVER outside planned slews: t = 605–999, 1,942–3,000 s" in table
