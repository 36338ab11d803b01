"""Fault protection: the health checks of today, as their own component.

At 1 Hz: the star tracker lost; in hover or survey, navigation fixes lost or the
position uncertainty too large; in descent, landmarks lost or the uncertainty
above the descent's limit.  A fault in descent waves off (the back-away is the
safe way out); elsewhere it forces SAFE.  In contact or backing away, finishing
the sequence is the safe choice, so nothing is checked there.
"""

from flightsw.components.navigation import NavigationComponent
from flightsw.components.tag_sequence import TagSequence
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.quat import norm

UNCHECKED_MODES = (Mode.SAFE, Mode.TAG, Mode.BACKAWAY)


class FaultProtection:
    def __init__(self, params: ParamTable, modes: ModeManager,
                 navigation: NavigationComponent, tag_sequence: TagSequence):
        self.params = params
        self.modes = modes
        self.navigation = navigation
        self.tag_sequence = tag_sequence

    def fault(self, t_us: int, mode: Mode) -> str | None:
        """The reason of the first failed check in this mode, None when healthy."""
        prm, nav = self.params, self.navigation
        tr = nav.nav.translation
        if _stale(nav.last_star_tracker_us, t_us, prm.get("FP_ST_TMO_S")):
            return "star tracker lost"
        if mode in (Mode.HOVER, Mode.SURVEY):
            if _stale(nav.last_fix_us, t_us, prm.get("FP_FIX_TMO_S")):
                return "navigation fixes lost"
            if norm(tr.pos_sigma_m()) > prm.get("FP_NAV_SIG_M"):
                return "navigation uncertainty too large"
        elif mode == Mode.DESCENT:
            if _stale(nav.last_landmark_us, t_us, prm.get("TAG_LM_TMO_S")):
                return "landmarks lost"
            if norm(tr.pos_sigma_m()) > prm.get("TAG_NAV_SIG_M"):
                return "navigation uncertainty too large"
        return None

    def task(self, t_us: int) -> None:
        mode = self.modes.current
        if mode in UNCHECKED_MODES or not self.params.get("FP_ENABLE"):
            return
        reason = self.fault(t_us, mode)
        if reason is None:
            return
        if mode == Mode.DESCENT:
            self.tag_sequence.wave_off(f"navigation degraded: {reason}")
        else:
            self.modes.force_safe(reason)


def _stale(last_us: int | None, t_us: int, timeout_s: float) -> bool:
    return last_us is None or t_us - last_us > timeout_s * 1e6
