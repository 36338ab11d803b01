"""Which samples of a run the report's error plots judge: hover error while holding a
hover point after it settled, pointing error outside planned slews.

The judge's own spans come first: sim.phase_windows found them from the downlink and the
summary carries them (``hover_judged_windows_s``, ``attitude_judged_windows_s``), so the
plots colour exactly the samples the outcome table's figures were computed over.  A
summary without them (a run from before the windows, a synthetic history) falls back to
a stand-in read from the mode column alone.  Samples outside the mask are drawn grey as
"not judged": a planned descent is not a hover error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flightsw.core.modes import Mode
from sim.phase_windows import judged_windows, window_mask

#: The summary's span list and the requirement it belongs to, per kind of plot.
SUMMARY_WINDOWS = {"hover": ("hover_judged_windows_s", "hover_error_m_p99"),
                   "pointing": ("attitude_judged_windows_s", "attitude_error_deg_p99")}

#: Stand-in only: time after entering a mode before its error counts (start-up
#: dispersion, the slew into the mode, the first controller transient).
SETTLE_S = 300.0

#: Stand-in only: the modes in which each quantity is judged.  Pointing is held still
#: in hover; the survey points the spectrometer from target to target, mass measurement
#: spins the probe on purpose and the touch-and-go sequence slews between its burns.
JUDGED_MODES = {"hover": (int(Mode.HOVER),), "pointing": (int(Mode.HOVER),)}


def judged_mask(kind: str, t_s: np.ndarray, mode: np.ndarray | None,
                summary: Mapping | None = None) -> np.ndarray:
    """Boolean per sample: True where ``kind`` ("hover" or "pointing") is judged.

    From the summary's judged spans when it has them; otherwise HOVER after SETTLE_S in
    it, and without a mode column every sample (nothing is known to exclude).
    """
    if kind not in SUMMARY_WINDOWS:
        raise ValueError(f"judged_mask: unknown kind {kind!r}, expected one of "
                         f"{sorted(SUMMARY_WINDOWS)}")
    t = np.asarray(t_s, dtype=float)
    windows_key, requirement = SUMMARY_WINDOWS[kind]
    if isinstance(summary, Mapping) and windows_key in summary:
        return window_mask(t, judged_windows({}, summary).get(requirement, []))
    if mode is None or len(mode) != len(t):
        return np.ones(len(t), dtype=bool)
    m = np.where(np.isfinite(mode), mode, -1).astype(int)
    in_mode = np.isin(m, JUDGED_MODES[kind])
    # Time since the last mode change, per sample.
    change = np.concatenate([[True], m[1:] != m[:-1]])
    last_change_t = np.maximum.accumulate(np.where(change, t, -np.inf))
    return in_mode & (t - last_change_t >= SETTLE_S)
