"""The fault campaign (issue 15): every fault kind at every mission phase, several seeds.

`prospector sweep --fault-campaign` flies, for each (kind, phase, seed), one run with one
[[faults]] entry whose time falls inside the phase.  This module is the plan, and holds
no simulation: the kinds and how each is flown, the phases and how each is found, the
campaign's options, the fault entry and how long a run must last.  The runs are flown by
sim.fault_campaign_run; the table and the issue's numbers are sim.fault_campaign_table.

Phases are named windows of the mission found in a nominal reference run's downlinked
events (events.log), never hard-coded times:

    phase                scenario   from (event)                   to (event)
    transfer_to_station  bennu      survey: to the survey station  survey: at the station
    station              bennu      survey: at the station         survey: scan done
    transfer_to_site     bennu      survey: scan done              survey: at safe-home above
    hover                bennu-tag  the last "-> HOVER" before     modes: HOVER -> DESCENT
    descent_above        bennu-tag  modes: HOVER -> DESCENT        tag: checkpoint burn
    descent_below        bennu-tag  tag: checkpoint burn           modes: DESCENT -> TAG
    contact              bennu-tag  modes: DESCENT -> TAG          modes: TAG -> BACKAWAY
    backaway             bennu-tag  modes: TAG -> BACKAWAY         modes: BACKAWAY -> HOVER

The survey phases fly bennu.toml with a short scan (SURVEY_PARAMS) so that a run costs
minutes, not a quarter of an hour.  The fault's time is drawn, for each (seed, kind,
phase), uniformly in the central part of the window (`Phase.position`); the contact
window is six seconds, so its faults fall in its first second, before the gas fires.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.scenario_faults import FAULT_KINDS, TASK_NAMES


class CampaignError(ValueError):
    """A campaign option or a reference run the campaign cannot use: one line."""


# -- kinds ---------------------------------------------------------------------------------
SENSOR_LOSSES = ("star_tracker_loss", "imu_loss", "navcam_loss", "lidar_loss",
                 "spectrometer_loss")
NAV_SENSOR_LOSSES = SENSOR_LOSSES[:4]  # the "within 2 s" (the spectrometer: 30 s)
STUCK_THRUSTERS = ("thruster_stuck_on", "thruster_stuck_off")
# A fault that can end (duration_s) is flown transient or permanent; the others are steps.
TIMED_KINDS = SENSOR_LOSSES + ("task_exception", "undervoltage")
# What a permanent fault of each kind should leave: the mission goes on (redundancy: a
# second thruster branch, three wheels of four; backup: gyro bias relearned, the next gas
# bottle) or not (a lost sensor, a dead task, a low bus: SAFE or an abort, no resume).
# The run's length follows this; the judge expects no sample after a permanent gas
# failure all the same (the simulator's kind fails every bottle: sim.faults).
RESUME_CLASS = {"thruster_stuck_on": "redundancy", "thruster_stuck_off": "redundancy",
                "wheel_failure": "redundancy", "imu_bias_jump": "backup",
                "sampler_gas_failure": "backup"}
CAMPAIGN_KINDS = tuple(name for name, k in FAULT_KINDS.items() if not k.hil_only)
GYRO_JUMP_RADPS = 1e-4  # imu_bias_jump: 20 deg/h on one axis
MIN_WHEEL_RADPS = 15.0  # a failed wheel slower than this is barely seen spinning down


# -- phases --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    """An event of the reference run: its source and the start of its text (or, with
    `contains`, a piece of it)."""

    source: str
    text: str
    contains: bool = False

    def __call__(self, ev: Event) -> bool:
        if ev.source != self.source:
            return False
        return self.text in ev.text if self.contains else ev.text.startswith(self.text)

    def describe(self) -> str:
        return f"'{self.source}: {'...' if self.contains else ''}{self.text}...'"


@dataclass(frozen=True)
class Phase:
    name: str
    scenario: str
    start: Match
    end: Match
    what: str
    # The fault's time: this fraction range of the window.
    position: tuple[float, float] = (0.15, 0.85)
    # The start is the last match before the end (else the first match).
    start_last_before_end: bool = False
    # The event that shows the mission went on, for a survey phase (the touch-and-go
    # phases judge by the sample).
    milestone: Match | None = None


_SURVEY = "bennu"
_TAG = "bennu-tag"
PHASES: dict[str, Phase] = {p.name: p for p in (
    Phase("transfer_to_station", _SURVEY, Match("survey", "to the survey station"),
          Match("survey", "at the station: scanning"), "transfer from hover to the survey station",
          milestone=Match("survey", "at the station: scanning")),
    Phase("station", _SURVEY, Match("survey", "at the station: scanning"),
          Match("survey", "scan done"), "at the survey station, scanning",
          milestone=Match("survey", "scan done")),
    Phase("transfer_to_site", _SURVEY, Match("survey", "scan done"),
          Match("survey", "at safe-home above the chosen site"),
          "transfer from the station to safe-home above the chosen site",
          milestone=Match("survey", "at safe-home above the chosen site")),
    Phase("hover", _TAG, Match("modes", "-> HOVER", contains=True),
          Match("modes", "HOVER -> DESCENT"), "hover at safe-home, 1 km above the site",
          start_last_before_end=True),
    Phase("descent_above", _TAG, Match("modes", "HOVER -> DESCENT"),
          Match("tag", "checkpoint burn"), "descent above the Checkpoint"),
    Phase("descent_below", _TAG, Match("tag", "checkpoint burn"),
          Match("modes", "DESCENT -> TAG"), "descent below the Checkpoint, to contact"),
    Phase("contact", _TAG, Match("modes", "DESCENT -> TAG"), Match("modes", "TAG -> BACKAWAY"),
          "contact (its first second, before the gas fires)", position=(0.03, 0.12)),
    Phase("backaway", _TAG, Match("modes", "TAG -> BACKAWAY"),
          Match("modes", "BACKAWAY -> HOVER"), "back-away burn and climb",
          position=(0.005, 0.5)),
)}


@dataclass(frozen=True)
class ScenarioPlan:
    """How the campaign flies a scenario: its overrides, whether each seed needs its own
    reference (a window of seconds moves with the seed), the reference's length."""

    name: str
    overrides: dict = field(default_factory=dict, hash=False)
    reference_per_seed: bool = False
    reference_s: float = 0.0


# bennu.toml's scan ends at PRS_MAX_SCAN_S (one rotation, 15466 s, by default): 1800 s here,
# and 300 s of settling at safe-home instead of 900 (the survey phases cost ~1.5 min a run).
SURVEY_PARAMS = {"params.PRS_MAX_SCAN_S": 1800.0, "params.PRS_SETTLE_S": 300.0}
SCENARIOS = {
    _SURVEY: ScenarioPlan(_SURVEY, SURVEY_PARAMS, reference_per_seed=False,
                          reference_s=11500.0),
    _TAG: ScenarioPlan(_TAG, {}, reference_per_seed=True, reference_s=7300.0),
}


# -- options -------------------------------------------------------------------------------
PERSISTENCE = ("alternate", "transient", "permanent", "both")
PICKS = ("active", "rotate")


def parse_choice_list(text: str, known: Sequence[str], option: str) -> list[str]:
    """'all' or a comma list of names out of `known` (kept in `known`'s order)."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    if names == ["all"]:
        return list(known)
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise CampaignError(f"{option}: expected 'all' or a comma list of {', '.join(known)}; "
                            f"got {text!r}")
    return [k for k in known if k in names]


def parse_hold_cases(text: str) -> list[tuple[str, str]]:
    """'default' or a comma list of KIND@PHASE."""
    if text.strip() == "default":
        return list(DEFAULT_HOLD_CASES)
    cases = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, sep, phase = part.partition("@")
        if not sep or kind not in CAMPAIGN_KINDS or phase not in PHASES:
            raise CampaignError(f"--hold-cases: expected 'default' or KIND@PHASE[,...] with a "
                                f"SIL fault kind and a phase ({', '.join(PHASES)}); got {part!r}")
        cases.append((kind, phase))
    if not cases:
        raise CampaignError("--hold-cases: expected 'default' or KIND@PHASE[,...]; got nothing")
    return cases


# The 24 h SAFE hold: each a permanent fault that ends in SAFE, reached on different
# navigation: the star tracker lost at the station (the issue's own case, gyro-only
# attitude), the camera lost in hover (no absolute position), the IMU lost below the
# Checkpoint (an abort first), a low bus in the descent (everything works).
DEFAULT_HOLD_CASES = (("star_tracker_loss", "station"), ("navcam_loss", "hover"),
                      ("imu_loss", "descent_below"), ("undervoltage", "descent_above"))


# -- the reference's events ----------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    t_s: float
    source: str
    text: str


_EVENT_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+\S+\s+([^:\s]+):\s?(.*)$")


def parse_events(lines: Iterable[str]) -> list[Event]:
    """events.log lines ('  1200.000 NOTICE    modes: HOVER -> DESCENT (...)') as Events;
    lines that are not events are skipped."""
    out = []
    for line in lines:
        m = _EVENT_LINE.match(line.rstrip("\n"))
        if m:
            out.append(Event(float(m.group(1)), m.group(2), m.group(3)))
    return out


def read_events(path: Path) -> list[Event]:
    with open(path, encoding="utf-8") as f:
        return parse_events(f)


def find_window(events: Sequence[Event], phase: Phase) -> tuple[float, float]:
    """The phase's (start, end) in these events; CampaignError if either is missing."""
    def missing(what: Match, after: str = "") -> CampaignError:
        return CampaignError(f"phase {phase.name}: no event {what.describe()}{after} in the "
                             f"nominal reference run of {phase.scenario}")

    if phase.start_last_before_end:
        end = next((e for e in events if phase.end(e)), None)
        if end is None:
            raise missing(phase.end)
        start = next((e for e in reversed(events) if e.t_s <= end.t_s and phase.start(e)
                      and e is not end), None)
        if start is None:
            raise missing(phase.start, f" before {end.t_s:.1f} s")
        return start.t_s, end.t_s
    start = next((e for e in events if phase.start(e)), None)
    if start is None:
        raise missing(phase.start)
    end = next((e for e in events if e.t_s >= start.t_s and phase.end(e) and e is not start),
               None)
    if end is None:
        raise missing(phase.end, f" after {start.t_s:.1f} s")
    return start.t_s, end.t_s


def first_event_at(events: Sequence[Event], match: Match, after_s: float) -> float | None:
    return next((e.t_s for e in events if e.t_s >= after_s and match(e)), None)


# -- one run of the campaign ---------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One run: a kind at a phase for a seed, transient or permanent, or a SAFE hold."""

    kind: str
    phase: str
    seed: int
    persistence: str  # "transient" or "permanent"
    hold: bool = False

    @property
    def scenario(self) -> str:
        return PHASES[self.phase].scenario

    @property
    def name(self) -> str:
        tail = "-hold" if self.hold else ""
        return f"{self.phase}/{self.kind}-{self.persistence}{tail}-seed-{self.seed:04d}"

    @property
    def resume_class(self) -> str | None:
        """transient / redundancy / backup: the mission should go on; None: it need not."""
        if self.hold:
            return None
        if self.persistence == "transient":
            return "transient"
        return RESUME_CLASS.get(self.kind)


def persistences(kind: str, turn: int, mode: str) -> list[str]:
    """A fault that can end: transient, permanent or both; alternate: transient on even
    turns (turn = the seed's index plus the phase's: one seed already flies each kind
    transient at half the phases and permanent at the others, the next seed the other
    way round)."""
    if kind not in TIMED_KINDS:
        return ["permanent"]
    if mode == "both":
        return ["transient", "permanent"]
    if mode == "alternate":
        return ["transient" if turn % 2 == 0 else "permanent"]
    return [mode]


def matrix_cases(kinds: Sequence[str], phases: Sequence[str], seeds: Sequence[int],
                 persistence: str = "alternate") -> tuple[list[Case], list[tuple[str, str]]]:
    """The campaign's runs, seed by seed (a campaign stopped early has covered every cell
    with its first seeds), and the (kind, phase) cells no run can fly: a spectrometer loss
    needs a scenario that flies the spectrometer, which the touch-and-go one does not.

    Within a seed the cells go by diagonals (phase j with kind j + d, d = 0, 1, ...): each
    stretch of len(phases) runs takes every phase and as many kinds, so a campaign cut
    short within its first seed has still flown every phase and every kind."""
    cells = [(kinds[(j + d) % len(kinds)], p) for d in range(len(kinds))
             for j, p in enumerate(phases)]
    refused = [(k, p) for k, p in cells if not applicable(k, p)]
    order = list(PHASES)
    cases = [Case(k, p, seed, pers)
             for i, seed in enumerate(seeds) for k, p in cells if applicable(k, p)
             for pers in persistences(k, i + order.index(p), persistence)]
    return cases, refused


def applicable(kind: str, phase: str) -> bool:
    return not (kind == "spectrometer_loss" and PHASES[phase].scenario == _TAG)


def hold_cases(cases: Sequence[tuple[str, str]], seed: int) -> list[Case]:
    return [Case(k, p, seed, "permanent", hold=True) for k, p in cases if applicable(k, p)]


def fault_time(case: Case, window: tuple[float, float]) -> float:
    """The fault's time: drawn for (seed, kind, phase) in the phase's position range,
    to 0.1 s."""
    lo, hi = PHASES[case.phase].position
    u = _rng(case).uniform(lo, hi)
    return round(window[0] + u * (window[1] - window[0]), 1)


def _rng(case: Case) -> random.Random:
    return random.Random(f"{case.seed}:{case.kind}:{case.phase}")


def fault_entry(case: Case, t_s: float, transient_s: float, device: int | None) -> dict:
    """The [[faults]] entry of the run (TOML-able)."""
    entry: dict = {"t_s": t_s, "kind": case.kind}
    if case.persistence == "transient":
        entry["duration_s"] = float(transient_s)
    rng = _rng(case)
    rng.random()  # the first draw is the fault's time
    if case.kind in STUCK_THRUSTERS:
        entry |= {"index": int(device), "branch": "A"}
    elif case.kind == "wheel_failure":
        entry["index"] = int(device)
    elif case.kind == "task_exception":
        entry["task"] = rng.choice(TASK_NAMES)
    elif case.kind == "imu_bias_jump":
        gyro = [0.0, 0.0, 0.0]
        gyro[rng.randrange(3)] = rng.choice((-1.0, 1.0)) * GYRO_JUMP_RADPS
        entry["gyro_radps"] = gyro
    return entry


def pick_device(case: Case, t_s: float, pick: str, ref_hist: dict | None,
                n_slots: int, n_wheels: int, horizon_s: float = 600.0) -> int | None:
    """The thruster slot or wheel the fault takes.  rotate: by seed.  active: the one
    the nominal reference uses most from the fault on (a stuck-off thruster that fires
    most in the next `horizon_s`; a wheel failing at its highest speed), so that the
    fault has something to be seen by; a stuck-on thruster is seen whichever it is, and
    rotates."""
    if case.kind not in STUCK_THRUSTERS + ("wheel_failure",):
        return None
    n = n_wheels if case.kind == "wheel_failure" else \
        (6 if case.kind == "thruster_stuck_on" else n_slots)
    if pick == "rotate" or case.kind == "thruster_stuck_on" or ref_hist is None:
        return case.seed % n
    t = ref_hist["t_s"]
    if case.kind == "wheel_failure":
        k = min(int(_index_at(t, t_s)), len(t) - 1)
        speeds = [abs(float(w)) for w in ref_hist["wheel_speed_radps"][k][:n]]
        return max(range(n), key=lambda j: (speeds[j], -j))
    lo, hi = _index_at(t, t_s), _index_at(t, t_s + horizon_s)
    on = ref_hist["thruster_on_s"][lo:hi, :n].sum(axis=0)
    return max(range(n), key=lambda j: (float(on[j]), -j))


def _index_at(t, t_s: float) -> int:
    import numpy as np
    return int(np.searchsorted(t, t_s, side="left"))


# -- how long a run lasts ------------------------------------------------------------------
# After a fault that ends (or that redundancy covers), before the reference's contact:
# healthy again, SAFE's automatic exit (SAFE_EXIT_S 600) and the flight home, the retry
# (TAG_RETRY_S 600), the hover over the target, a whole descent from safe-home (~5560 s),
# contact and back-away: a navigation-camera loss at 5900 s for 300 s sampled at 13309 s
# and was back in hover at 13611 s.
RESUME_AFTER_S = 8400.0
# A survey phase's milestone, after a fault that ends: the delay a SAFE and its exit add.
MILESTONE_SLACK_S = 1800.0
END_MARGIN_S = 300.0  # after the reference's back-away


def run_duration(case: Case, t_s: float, entry: dict, ref_events: Sequence[Event],
                 post_s: float, hold_s: float) -> float:
    """The run's length: the fault, then what must be seen after it.

    Every run: at least `post_s` after the fault (detection, the response, SAFE's orbit).
    A fault the mission should ride out (Case.resume_class), before the contact: until it
    could have sampled again (RESUME_AFTER_S after the fault ends); at a survey phase:
    until the phase's milestone of the reference, delayed by the fault and
    MILESTONE_SLACK_S.  At or after the contact: the back-away and climb as well.  A hold:
    `hold_s` after the fault, plus the time SAFE may take to come."""
    if case.hold:
        return round(t_s + hold_s + 900.0)
    phase = PHASES[case.phase]
    end = t_s + post_s
    t_clear = t_s + float(entry.get("duration_s", 0.0))
    if case.resume_class is not None:
        if phase.milestone is not None:
            mark = first_event_at(ref_events, phase.milestone, 0.0)
            if mark is not None:
                end = max(end, mark + (t_clear - t_s) + MILESTONE_SLACK_S)
        else:
            contact = first_event_at(ref_events, Match("modes", "DESCENT -> TAG"), 0.0)
            if contact is not None and t_s < contact:
                end = max(end, t_clear + RESUME_AFTER_S)
    contact = first_event_at(ref_events, Match("modes", "DESCENT -> TAG"), 0.0)
    back = first_event_at(ref_events, Match("modes", "BACKAWAY -> HOVER"), 0.0)
    if back is not None and contact is not None and t_s >= contact:
        end = max(end, back + END_MARGIN_S)
    return float(round(end))
