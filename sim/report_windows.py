"""Which samples of a run the report's error plots judge: hover error while holding a
hover point after it settled, pointing error outside planned slews and mode changes.

A stand-in derived from the flight mode column alone, behind one small function
(``judged_mask``) so the page can take the judged windows of sim.report_requirements
once that module has them, without the plots changing.  Samples outside the mask are
drawn grey as "not judged" (a planned descent is not a hover error).
"""

from __future__ import annotations

import numpy as np

from flightsw.core.modes import Mode

#: Time after entering a mode before its error counts: start-up dispersion, the slew
#: into the mode and the first controller transient are not steady-state errors.
SETTLE_S = 300.0

#: The modes in which each quantity is judged.
JUDGED_MODES = {
    "hover": (int(Mode.HOVER),),
    # Pointing is held still in hover; the survey points the spectrometer from target
    # to target, mass measurement spins the probe on purpose and the touch-and-go
    # sequence slews between its burns.
    "pointing": (int(Mode.HOVER),),
}


def judged_mask(kind: str, t_s: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
    """Boolean per sample: True where ``kind`` ("hover" or "pointing") is judged.

    Without a mode column every sample is judged (nothing is known to exclude).
    """
    if kind not in JUDGED_MODES:
        raise ValueError(f"judged_mask: unknown kind {kind!r}, expected one of "
                         f"{sorted(JUDGED_MODES)}")
    t = np.asarray(t_s, dtype=float)
    if mode is None or len(mode) != len(t):
        return np.ones(len(t), dtype=bool)
    m = np.where(np.isfinite(mode), mode, -1).astype(int)
    in_mode = np.isin(m, JUDGED_MODES[kind])
    # Time since the last mode change, per sample.
    change = np.concatenate([[True], m[1:] != m[:-1]])
    last_change_t = np.maximum.accumulate(np.where(change, t, -np.inf))
    return in_mode & (t - last_change_t >= SETTLE_S)

