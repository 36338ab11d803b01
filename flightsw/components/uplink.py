"""The uplink guard: which frames from outside the probe may be acted on.

BusPort.pump calls `UplinkGuard.admit(msg)` for every received message after
the flight recorder has logged it and before it is routed.  Frames from the
world (WORLD_SYSTEM_ID: simulator or devboard sensors) pass untouched, but for
commanding messages (COMMANDING_TYPES), which only the ground may send; every
other frame is judged, in this order, and the first failed check is its
rejection reason:

with a signing key (fail-closed):
  1. unsigned          no signature block (only a ground HEARTBEAT is admitted
                       unsigned, for link health: it commands nothing)
  2. bad_signature     signed, but not with the key
  3. replayed          timestamp not after the last one of its stream (link id,
                       system, component), or a new stream more than one minute
                       behind the newest timestamp seen (the signing spec's window)
  4. wrong_source      not from GROUND_SYSTEM_ID
  5. wrong_target      a target_system other than the probe, or a
                       target_component other than the probe's or 0 (broadcast)
without a key: checks 4 and 5 only (today's uplink, from the scenario or a rig).

A rejected frame is counted by reason (PROBE_LINK_STATUS, 1 Hz) and reported by
events at most once per EVENT_PERIOD_S, whatever the flood; it is never acted on.
Nothing here reads the wall clock: a replay of the flight log, given the same
key, re-judges every recorded frame the same way.

Key change: a SETUP_SIGNING that passed every check (so it was signed with the
current key and addressed to the probe) replaces the key.  With signing off, or
with the all-zero key that the spec uses to turn signing off, it is refused: the
uplink never becomes unsigned over the air.  Events say the key changed, never
what it is; the recorder logs the message with its key zeroed (BusPort).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from flightsw.core.events import Severity
from flightsw.hal import mavlink_signing
from flightsw.icd import (
    FLIGHT_COMPONENT_ID,
    FLIGHT_SYSTEM_ID,
    GROUND_SYSTEM_ID,
    WORLD_SYSTEM_ID,
    mavlink,
)

EVENT_PERIOD_S = 10.0  # at most one rejection event per period
# A new signed stream may start at most one minute (in 10 us units) behind the
# newest timestamp seen on any stream (MAVLink 2 signing spec).
NEW_STREAM_WINDOW_10US = 60 * 100_000
BROADCAST_COMPONENT_ID = 0
# Messages that command the probe: only the ground may send them.  One claiming the
# world's system id (a sensor's) is judged like any other frame, so a forged
# sender id on the ground port cannot bypass the guard with a command.
COMMANDING_TYPES = frozenset({"COMMAND_LONG", "COMMAND_INT", "SET_MODE", "PARAM_SET",
                              "PARAM_REQUEST_LIST", "PARAM_REQUEST_READ", "SETUP_SIGNING"})
_UINT32_MAX = 0xFFFFFFFF
_UINT16_MAX = 0xFFFF


class RejectReason(IntEnum):
    UNSIGNED = 0
    BAD_SIGNATURE = 1
    REPLAYED = 2
    WRONG_SOURCE = 3
    WRONG_TARGET = 4


class UplinkGuard:
    """Judges every frame from outside the probe; see the module doc.

    `signing_key`: 32 bytes, or None for an unsigned uplink.  It is kept in a
    private attribute and never formatted into text.
    """

    def __init__(self, clock, params, events, send: Callable[[object], None],
                 signing_key: bytes | None = None):
        if signing_key is not None:
            signing_key = bytes(signing_key)
            if len(signing_key) != mavlink_signing.KEY_LEN:
                raise ValueError(f"signing_key: expected {mavlink_signing.KEY_LEN} bytes")
        self._key = signing_key
        self.clock = clock
        self.params = params
        self.events = events
        self.send = send
        self.admitted = 0
        self.rejected = dict.fromkeys(RejectReason, 0)
        self.key_changes = 0
        self._pending = dict.fromkeys(RejectReason, 0)  # rejections not yet in an event
        self._last_event_us: int | None = None
        self._streams: dict[tuple[int, int, int], int] = {}
        self._newest_timestamp_10us = 0
        self.last_ground_us: int | None = None  # any admitted ground frame
        self.last_ground_heartbeat_us: int | None = None
        # Called with the new key after a SETUP_SIGNING: the link's sender signs with it.
        self.key_listeners: list[Callable[[bytes], None]] = []

    @property
    def signing(self) -> bool:
        return self._key is not None

    # -- the gate -----------------------------------------------------------------
    def admit(self, msg) -> bool:
        """True when `msg` may be routed to the flight software."""
        if msg.get_srcSystem() == WORLD_SYSTEM_ID and msg.get_type() not in COMMANDING_TYPES:
            return True
        reason = self.judge(msg)
        now_us = self.clock.now_us()
        if reason is not None:
            self._reject(reason, now_us)
            return False
        self.admitted += 1
        self.last_ground_us = now_us
        if msg.get_type() == "HEARTBEAT":
            self.last_ground_heartbeat_us = now_us
        elif msg.get_type() == "SETUP_SIGNING":
            self._setup_signing(msg)
            return False  # consumed here: nothing else acts on a key
        return True

    def judge(self, msg) -> RejectReason | None:
        """The reason `msg` is rejected, or None.  Advances the signed stream's timestamp."""
        if self._key is not None:
            reason = self._judge_signature(msg)
            if reason is not None:
                return reason
        if msg.get_srcSystem() != GROUND_SYSTEM_ID:
            return RejectReason.WRONG_SOURCE
        target_system = getattr(msg, "target_system", FLIGHT_SYSTEM_ID)
        target_component = getattr(msg, "target_component", FLIGHT_COMPONENT_ID)
        if target_system != FLIGHT_SYSTEM_ID or \
                target_component not in (FLIGHT_COMPONENT_ID, BROADCAST_COMPONENT_ID):
            return RejectReason.WRONG_TARGET
        return None

    def _judge_signature(self, msg) -> RejectReason | None:
        raw = bytes(msg.get_msgbuf())
        fields = mavlink_signing.signature_fields(raw)
        if fields is None:
            # A ground HEARTBEAT commands nothing; admitting it keeps link health.
            if msg.get_type() == "HEARTBEAT" and msg.get_srcSystem() == GROUND_SYSTEM_ID:
                return None
            return RejectReason.UNSIGNED
        if not mavlink_signing.verify(raw, self._key):
            return RejectReason.BAD_SIGNATURE
        link_id, timestamp_10us, _ = fields
        stream = (msg.get_srcSystem(), msg.get_srcComponent(), link_id)
        last = self._streams.get(stream)
        if last is None:
            if timestamp_10us + NEW_STREAM_WINDOW_10US < self._newest_timestamp_10us:
                return RejectReason.REPLAYED
        elif timestamp_10us <= last:
            return RejectReason.REPLAYED
        # Only an authentic frame moves a stream on: a forgery cannot push it ahead.
        self._streams[stream] = timestamp_10us
        self._newest_timestamp_10us = max(self._newest_timestamp_10us, timestamp_10us)
        return None

    # -- rejections: counted always, reported at most once per period ---------------
    def _reject(self, reason: RejectReason, now_us: int) -> None:
        self.rejected[reason] += 1
        self._pending[reason] += 1
        self._flush_events(now_us)

    def _flush_events(self, now_us: int) -> None:
        if not any(self._pending.values()):
            return
        if self._last_event_us is not None and \
                now_us - self._last_event_us < EVENT_PERIOD_S * 1e6:
            return
        counts = ", ".join(f"{r.name.lower()} {n}" for r, n in self._pending.items() if n)
        total = sum(self._pending.values())
        self.events.emit(Severity.WARNING, "uplink",
                         f"{total} frame(s) rejected, not acted on ({counts})")
        self._pending = dict.fromkeys(RejectReason, 0)
        self._last_event_us = now_us

    # -- key change -----------------------------------------------------------------
    def _setup_signing(self, msg) -> None:
        source = f"sys{msg.get_srcSystem()}/{msg.get_srcComponent()}"
        new_key = bytes(msg.secret_key)
        if self._key is None:
            self.events.emit(Severity.WARNING, "uplink", f"SETUP_SIGNING from {source} refused: "
                             "signing is off (a key is set only over a signed uplink)")
            return
        if len(new_key) != mavlink_signing.KEY_LEN or not any(new_key):
            self.events.emit(Severity.WARNING, "uplink", f"SETUP_SIGNING from {source} refused: "
                             "the uplink cannot be made unsigned over the air")
            return
        self._key = new_key
        self.key_changes += 1
        self.events.emit(Severity.NOTICE, "uplink", f"signing key changed by {source}")
        for listener in self.key_listeners:
            listener(new_key)

    # -- link health ----------------------------------------------------------------
    def ground_silent_s(self, t_us: int) -> float | None:
        return None if self.last_ground_us is None else (t_us - self.last_ground_us) * 1e-6

    def ground_heartbeat_lost(self, t_us: int) -> str | None:
        """Why the ground link counts as lost (its HEARTBEAT heard, then silent for
        FP_GROUND_HB_S), or None; read by fault protection's LINK monitor."""
        if self.last_ground_heartbeat_us is None:
            return None
        silent_s = (t_us - self.last_ground_heartbeat_us) * 1e-6
        if silent_s <= self.params.get("FP_GROUND_HB_S"):
            return None
        return f"ground HEARTBEAT silent for {silent_s:.0f} s"

    def status_message(self, t_us: int):
        silent_s = self.ground_silent_s(t_us)
        r = self.rejected
        return mavlink.MAVLink_probe_link_status_message(
            t_us, min(self.admitted, _UINT32_MAX),
            *(min(r[reason], _UINT32_MAX) for reason in RejectReason),
            -1.0 if silent_s is None else silent_s, min(self.key_changes, _UINT16_MAX),
            int(self.signing), int(self.ground_heartbeat_lost(t_us) is not None))

    def task(self, t_us: int) -> None:
        """1 Hz: report rejections still pending once their period is over."""
        self._flush_events(t_us)
