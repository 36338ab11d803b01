"""The watchdog's way to SAFE when fault protection is gone: the minimal path, through
the mode manager and the SAFE sequence, none of fault protection's code on it.

Outside the touch-and-go, SAFE is forced at once.  In a descent the sequence's own way
out comes first (a wave-off: back away and climb), as fault protection would do; in
contact or backing away the sequence is let finish.  SAFE is forced once the probe is
back in HOVER.  The SAFE sequence (DAMP, CLIMB, ORBIT_INSERT, COAST) runs in the
control task.  Fault protection's mode listener normally starts it; should that
listener fail, it is started here.
"""

from collections.abc import Callable

from flightsw.components.safe_mode import SafeMode, SafePhase
from flightsw.core.modes import Mode, ModeManager

SEQUENCE_MODES = (Mode.TAG, Mode.BACKAWAY)


def minimal_safe(modes: ModeManager, safe_mode: SafeMode, tag_sequence,
                 clock) -> Callable[[int, str], bool]:
    """safe(t_us, reason): True once SAFE is under way, False while a touch-and-go is
    let finish (ask again next frame)."""
    waved_off = []

    def safe(t_us: int, reason: str) -> bool:
        mode = modes.current
        if mode == Mode.DESCENT and not waved_off:
            waved_off.append(t_us)
            tag_sequence.wave_off(f"watchdog: {reason}")
            return False
        if mode in SEQUENCE_MODES:
            return False
        try:
            modes.force_safe(f"watchdog: {reason}")
        finally:
            if modes.current == Mode.SAFE and safe_mode.phase == SafePhase.NONE:
                safe_mode.enter(clock.now_us(), True)
        return True

    return safe
