"""Which spans of a run each requirement is judged over, from what the flight said it
was doing.

A requirement belongs to a phase of the mission: hover error to a hover point the probe
holds (once the start-up dispersion or a move to a new point has settled), pointing error
to the nadir pointing of HOVER outside the slews the flight software made on purpose,
contact figures to the contact.  The phase is read from the downlink only (the mode of
HEARTBEAT, the hover target and the flight's own pointing error of
PROBE_GUIDANCE_STATUS, guidance's "transfer to the hover point" event, the slew-rate
parameter it reported): never from a flight object, so a finished run is windowed again
from its flight.tlog the same way.

Pure functions of 1 Hz arrays; the plots can shade the same spans with
``judged_windows(history, summary)`` (and turn them into samples with ``window_mask``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flightsw.core.modes import Mode
from flightsw.params_table import FLIGHT_PARAMS

# A hold starts settling when the probe enters HOVER or ends a transfer: the start-up
# dispersion (1 m, 1 mm/s) and the navigation filter's convergence take this long.
SETTLE_S = 600.0
# A new hover point inside a hold: the filter has converged already, only the position
# loop (0.03 rad/s, damping 0.9: a 1/e time of about 40 s) must close a few metres.
RELOCATE_SETTLE_S = 300.0
# A slew is over once the flight has reported its error under the requirement this long
# without a break (the attitude loop's 1/e time is about 4 s: the truth has settled too).
SLEW_SETTLE_S = 30.0
# A slew of angle a at the largest slew rate w lasts a / w, plus the wheels' spin-up and
# braking (0.2 N m against 2,000 kg m^2: about two minutes each way at 0.01 rad/s).
# Longer than that, a large error is no slew but a failure, whatever the flight reports.
SLEW_SPINUP_S = 300.0
# Hover targets closer than this are the same point (float32 on the downlink).
SAME_POINT_M = 1e-3
DEFAULT_SLEW_RADPS = float(next(p.default for p in FLIGHT_PARAMS if p.name == "ATT_SLEW_RADPS"))

HOVER_MODE = int(Mode.HOVER)


@dataclass(frozen=True)
class Judged:
    """A boolean mask over the samples, and why nothing was judged when nothing was."""

    mask: np.ndarray
    reason: str | None


def spans(t_s: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) sample time of each run of True in ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(float(t_s[a]), float(t_s[b])) for a, b in zip(starts, ends, strict=True)]


def _in_transfer(t_s: np.ndarray, transfers: Sequence[tuple[float, float]]) -> np.ndarray:
    inside = np.zeros(len(t_s), dtype=bool)
    for start, duration in transfers:
        inside |= (t_s >= start) & (t_s <= start + duration)
    return inside


def _hold_starts(t_s, mode, target_bf_m, transfers) -> list[tuple[int, float]]:
    """(sample index, settling seconds) where a hold of a hover point begins: HOVER
    entered, a transfer ended, or a new hover point commanded inside HOVER."""
    holding = (np.asarray(mode) == HOVER_MODE) & ~_in_transfer(t_s, transfers)
    before = np.concatenate(([False], holding[:-1]))
    entered = holding & ~before
    # A new point: both samples hold, both targets known, and they differ.
    target = np.asarray(target_bf_m, dtype=float)
    step = np.full(len(t_s), np.nan)
    if len(t_s) > 1:
        step[1:] = np.sqrt(((target[1:] - target[:-1]) ** 2).sum(axis=1))
    moved = holding & before & np.isfinite(step) & (step > SAME_POINT_M)
    return sorted([(int(i), SETTLE_S) for i in np.flatnonzero(entered)]
                  + [(int(i), RELOCATE_SETTLE_S) for i in np.flatnonzero(moved)])


def hover_window(t_s, mode, target_bf_m, hover_err_m,
                 transfers: Sequence[tuple[float, float]] = ()) -> Judged:
    """Samples where the probe holds a hover point (HOVER, not in a transfer) and has held
    it for the settling time since the hold began."""
    t_s = np.asarray(t_s, dtype=float)
    mode = np.asarray(mode)
    target_bf_m = np.asarray(target_bf_m, dtype=float).reshape(len(t_s), 3)
    hover = (mode == HOVER_MODE) & ~_in_transfer(t_s, transfers)
    settled = np.zeros(len(t_s), dtype=bool)
    starts = _hold_starts(t_s, mode, target_bf_m, transfers)
    bounds = [i for i, _ in starts] + [len(t_s)]
    for (i, settle_s), end in zip(starts, bounds[1:], strict=True):
        settled[i:end] = t_s[i:end] >= t_s[i] + settle_s
    mask = hover & settled & np.isfinite(np.asarray(hover_err_m, dtype=float))
    if mask.any():
        return Judged(mask, None)
    if not hover.any():
        return Judged(mask, "the probe never held a hover point (no HOVER in the downlink)")
    longest = max(b - a for a, b in spans(t_s, hover))
    return Judged(mask, f"no hover hold outlasted its settling time ({SETTLE_S:.0f} s from "
                        f"HOVER, {RELOCATE_SETTLE_S:.0f} s after a new hover point); the "
                        f"longest lasted {longest:.0f} s")


def slew_mask(t_s, flight_att_err_deg, starts: Sequence[int], slew_radps: float,
              requirement_deg: float) -> np.ndarray:
    """Samples inside a planned slew: from each start until the flight has reported its
    pointing error under the requirement for SLEW_SETTLE_S without a break (a slew out
    of a spin test rings through zero more than once), at most the slew's own length at
    the flight's reported largest rate plus SLEW_SPINUP_S (so at most about ten minutes
    for a half turn: beyond that a large error is a failure, whatever the flight says)."""
    t_s = np.asarray(t_s, dtype=float)
    err = np.asarray(flight_att_err_deg, dtype=float)
    under = np.isfinite(err) & (err <= requirement_deg)
    out = np.zeros(len(t_s), dtype=bool)
    rate_degps = math.degrees(slew_radps) if slew_radps > 0 else math.degrees(DEFAULT_SLEW_RADPS)
    for i in starts:
        # The slew's angle: the largest error the flight reported early in it (out of a
        # spin test the error grows before it closes); the cap is bounded either way.
        early = (t_s >= t_s[i]) & (t_s <= t_s[i] + SLEW_SPINUP_S) & np.isfinite(err)
        angle = float(err[early].max()) if early.any() else 0.0
        end = t_s[i] + angle / rate_degps + SLEW_SPINUP_S  # the cap
        quiet_since = None
        for k in range(i, len(t_s)):
            if t_s[k] > end:
                break
            if not under[k]:
                quiet_since = None
                continue
            quiet_since = t_s[k] if quiet_since is None else quiet_since
            if t_s[k] - quiet_since >= SLEW_SETTLE_S:
                end = t_s[k]
                break
        out |= (t_s >= t_s[i]) & (t_s < end)
    return out


def pointing_window(t_s, mode, target_bf_m, flight_att_err_deg, att_err_deg, *,
                    requirement_deg: float, slew_radps: float = DEFAULT_SLEW_RADPS,
                    transfers: Sequence[tuple[float, float]] = ()) -> Judged:
    """Samples of HOVER (the mode whose boresight holds the body's centre) outside the
    planned slews (the re-pointing after each entry into HOVER: after a spin test, a
    back-away, SAFE; after a new hover point; a transfer's whole flight) and after the
    start-up settling: the probe aims at where it believes the centre is, so its
    position dispersion at the start (about 0.1 deg at 1 km) settles with the hover's
    SETTLE_S from the first entry into HOVER."""
    t_s = np.asarray(t_s, dtype=float)
    mode = np.asarray(mode)
    target_bf_m = np.asarray(target_bf_m, dtype=float).reshape(len(t_s), 3)
    hover = (mode == HOVER_MODE) & ~_in_transfer(t_s, transfers)
    starts = [i for i, _ in _hold_starts(t_s, mode, target_bf_m, transfers)]
    slewing = slew_mask(t_s, flight_att_err_deg, starts, slew_radps, requirement_deg)
    started = t_s >= t_s[starts[0]] + SETTLE_S if starts else np.zeros(len(t_s), dtype=bool)
    mask = hover & started & ~slewing & np.isfinite(np.asarray(att_err_deg, dtype=float))
    if mask.any():
        return Judged(mask, None)
    if not hover.any():
        return Judged(mask, "the probe never pointed at the body in HOVER (no HOVER in the "
                            "downlink)")
    if not (hover & started).any():
        return Judged(mask, f"the run ended within {SETTLE_S:.0f} s of the first HOVER: "
                            "the start-up dispersion had not settled")
    return Judged(mask, "all of HOVER after the start-up was planned slews (re-pointing "
                        "after a mode change or a new hover point)")


def window_keys(prefix: str, t_s: np.ndarray, judged: Judged) -> dict:
    """The summary keys that say what a figure was judged over: seconds, first sample,
    the spans, and the reason when nothing was."""
    t_s = np.asarray(t_s, dtype=float)
    step_s = float(np.median(np.diff(t_s))) if len(t_s) > 1 else 1.0
    n = int(judged.mask.sum())
    return {f"{prefix}_judged_s": n * step_s,
            f"{prefix}_judged_from_s": float(t_s[judged.mask][0]) if n else None,
            f"{prefix}_judged_windows_s": [list(s) for s in spans(t_s, judged.mask)],
            f"{prefix}_not_judged_reason": judged.reason}


def _windows(value) -> list[tuple[float, float]]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return []
    out = []
    for w in value:
        try:
            t0, t1 = float(w[0]), float(w[1])
        except (TypeError, ValueError, IndexError):
            continue
        out.append((t0, t1))
    return out


def judged_windows(history: Mapping, summary: Mapping) -> dict[str, list[tuple[float, float]]]:
    """Requirement (summary key) -> the (t0_s, t1_s) spans it was judged over; an empty
    list for a requirement the run could not judge.  From the summary's windows (written
    by the judge); the contact figures are judged at the contact itself.  ``history`` is
    read only for the end of the run when the summary has no navigation window end."""
    out: dict[str, list[tuple[float, float]]] = {}
    hover = _windows(summary.get("hover_judged_windows_s"))
    for key in ("hover_error_m_p50", "hover_error_m_p99", "hover_error_m_max"):
        out[key] = hover
    out["attitude_error_deg_p99"] = _windows(summary.get("attitude_judged_windows_s"))
    contact = summary.get("contact_t_s")
    if isinstance(contact, (int, float)) and not isinstance(contact, bool):
        dwell = summary.get("contact_duration_s")
        dwell = float(dwell) if isinstance(dwell, (int, float)) else 0.0
        at = [(float(contact), float(contact) + dwell)]
        for key in ("touchdown_miss_m", "contact_speed_error_mps", "contact_speed_mps",
                    "max_penetration_m"):
            out[key] = at
    t = np.asarray(history.get("t_s", ()), dtype=float) if history else np.zeros(0)
    start = summary.get("metrics_from_s")
    if isinstance(start, (int, float)) and t.size:
        out["nav_error_m_p99"] = [(float(start), float(t[-1]))]
    return out


def window_mask(t_s, windows: Sequence[tuple[float, float]]) -> np.ndarray:
    """Per sample of ``t_s``: True inside one of ``windows`` (as judged_windows gives
    them, ends included), for a plot that draws the judged samples apart."""
    t_s = np.asarray(t_s, dtype=float)
    mask = np.zeros(len(t_s), dtype=bool)
    for t0, t1 in windows:
        mask |= (t_s >= t0) & (t_s <= t1)
    return mask
