"""What a ground station expects of a MAVLink vehicle, beyond HEARTBEAT, commands
and parameters (which live in the mode manager, the dispatcher and ParamService):

- SYS_STATUS (periodic, through the rate table): sensors and control functions
  present and healthy (health from fault protection's tripped monitors), bus
  voltage and state of charge, uplink frames rejected by the guard, and the
  executive's watchdog (flightsw/core/watchdog.py): errors_count1 its bites,
  errors_count2 the restarts of fault protection it made;
- AUTOPILOT_VERSION on MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES and on
  MAV_CMD_REQUEST_MESSAGE(148); MAV_CMD_REQUEST_MESSAGE also sends HEARTBEAT or
  any message of the rate table once, now;
- TIMESYNC: a request (tc1 = 0) is answered with tc1 = the flight Clock in ns
  and ts1 echoed, as the MAVLink time-synchronisation protocol describes;
- COMMAND_INT, handled by the one dispatcher like COMMAND_LONG;
- the SET_MODE message (older ground tools), handled as MAV_CMD_DO_SET_MODE.

SYS_STATUS.load is 0: the scheduler's execution times are wall time, which a
deterministic flight log must not carry (PROBE_TASK_STATS has them, when
timing telemetry is on).
"""

from __future__ import annotations

from collections.abc import Callable

from flightsw.core.command_result import CommandResult
from flightsw.fault.monitor_table import MonitorId
from flightsw.icd import WORLD_SYSTEM_ID, icd_fingerprint, mavlink

# major.minor.patch of the flight software, as AUTOPILOT_VERSION encodes it.
FLIGHT_SW_VERSION = (0, 16, 0)
_UINT16_MAX = 0xFFFF
_S = {name: getattr(mavlink, f"MAV_SYS_STATUS_SENSOR_{name}") for name in (
    "3D_GYRO", "3D_ACCEL", "LASER_POSITION", "VISION_POSITION", "ATTITUDE_STABILIZATION",
    "Z_ALTITUDE_CONTROL", "XY_POSITION_CONTROL", "MOTOR_OUTPUTS", "PROPULSION", "BATTERY")}
SENSORS_PRESENT = sum(_S.values())
# Which SYS_STATUS bits a tripped fault-protection monitor makes unhealthy.
UNHEALTHY_WHEN_TRIPPED = {
    MonitorId.IMU: _S["3D_GYRO"] | _S["3D_ACCEL"],
    MonitorId.LIDAR: _S["LASER_POSITION"],
    MonitorId.NAVCAM: _S["VISION_POSITION"],
    MonitorId.ATTITUDE_ERROR: _S["ATTITUDE_STABILIZATION"],
    MonitorId.WHEEL: _S["ATTITUDE_STABILIZATION"],
    MonitorId.NAV_COVARIANCE: _S["Z_ALTITUDE_CONTROL"] | _S["XY_POSITION_CONTROL"],
    MonitorId.THRUSTER: _S["MOTOR_OUTPUTS"] | _S["PROPULSION"],
    MonitorId.POWER: _S["BATTERY"],
}
# The standard MAVLink protocol commands registered on board besides the ground-command
# table's (this module's and the telemetry rate table's): ground-station plumbing,
# none of them changes what the probe does.
PROTOCOL_COMMANDS = frozenset({
    mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, mavlink.MAV_CMD_REQUEST_MESSAGE,
    mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, mavlink.MAV_CMD_GET_MESSAGE_INTERVAL})
CAPABILITIES = (mavlink.MAV_PROTOCOL_CAPABILITY_MAVLINK2
                | mavlink.MAV_PROTOCOL_CAPABILITY_PARAM_ENCODE_C_CAST
                | mavlink.MAV_PROTOCOL_CAPABILITY_COMMAND_INT)


def autopilot_version_message():
    """AUTOPILOT_VERSION: our version, capabilities, and in flight_custom_version the
    ICD fingerprint (4 bytes, big endian) so a ground tool can check its dialect."""
    major, minor, patch = FLIGHT_SW_VERSION
    version = (major << 24) | (minor << 16) | (patch << 8) | mavlink.FIRMWARE_VERSION_TYPE_DEV
    custom = list(icd_fingerprint().to_bytes(4, "big")) + [0] * 4
    return mavlink.MAVLink_autopilot_version_message(
        CAPABILITIES, version, 0, 0, 0, custom, [0] * 8, [0] * 8, 0, 0, 0, [0] * 18)


class GroundServices:
    def __init__(self, clock, commands, rates, send: Callable[[object], None],
                 heartbeat: Callable[[], object], power, fault_bank, uplink):
        self.clock = clock
        self.commands = commands
        self.rates = rates
        self.send = send
        self.heartbeat = heartbeat
        self.power = power
        self.fault_bank = fault_bank
        self.uplink = uplink
        self.watchdog = None  # app: the executive's watchdog (its counts in SYS_STATUS)
        self._autopilot_version = None  # built on first request (the fingerprint hashes)
        commands.register(mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES,
                          self._cmd_autopilot_capabilities, unused_params=(2, 3, 4, 5, 6, 7))
        commands.register(mavlink.MAV_CMD_REQUEST_MESSAGE, self._cmd_request_message,
                          validate=self._validate_request, unused_params=(2, 3, 4, 5, 6, 7))

    def subscribe(self, port) -> None:
        port.subscribe("TIMESYNC", self.on_timesync)
        port.subscribe("COMMAND_INT", self.commands.dispatch_command_int)
        port.subscribe("SET_MODE", self.on_set_mode)

    # -- messages -------------------------------------------------------------------
    def on_timesync(self, msg) -> None:
        if msg.tc1 != 0 or msg.get_srcSystem() == WORLD_SYSTEM_ID:
            return  # an answer to a request, or the rig's own link timing: not ours
        self.send(mavlink.MAVLink_timesync_message(self.clock.now_us() * 1000, msg.ts1))

    def on_set_mode(self, msg) -> None:
        source = f"sys{msg.get_srcSystem()}/{msg.get_srcComponent()}"
        self.commands.dispatch(mavlink.MAV_CMD_DO_SET_MODE,
                               (float(msg.base_mode), float(msg.custom_mode)), source=source)

    def send_sys_status(self, t_us: int) -> None:
        unhealthy = 0
        for monitor, bits in UNHEALTHY_WHEN_TRIPPED.items():
            if self.fault_bank.tripped.get(monitor):
                unhealthy |= bits
        sample = self.power.latest
        voltage_mv = _UINT16_MAX if sample is None else \
            min(max(int(round(sample.bus_voltage_v * 1000)), 0), _UINT16_MAX - 1)
        remaining = -1 if sample is None else min(max(int(round(sample.battery_soc * 100)), 0), 100)
        rejected = sum(self.uplink.rejected.values())
        total = rejected + self.uplink.admitted
        drop_rate_cpct = 0 if total == 0 else min(10_000, rejected * 10_000 // total)
        dog = self.watchdog
        bites, restarts = (0, 0) if dog is None else (min(dog.bites, _UINT16_MAX),
                                                      min(dog.restarts, _UINT16_MAX))
        self.send(mavlink.MAVLink_sys_status_message(
            SENSORS_PRESENT, SENSORS_PRESENT, SENSORS_PRESENT & ~unhealthy, 0, voltage_mv, -1,
            remaining, drop_rate_cpct, min(rejected, _UINT16_MAX), bites, restarts, 0, 0,
            0, 0, 0))

    # -- commands -------------------------------------------------------------------
    def _send_autopilot_version(self) -> None:
        if self._autopilot_version is None:
            self._autopilot_version = autopilot_version_message()
        self.send(self._autopilot_version)

    def _cmd_autopilot_capabilities(self, params) -> CommandResult:
        # param1 = 1 requests the message (0 asks for nothing).
        if params[0] == 1:
            self._send_autopilot_version()
        return CommandResult.ACCEPTED

    def _validate_request(self, params) -> str | None:
        msg_id = params[0]
        if msg_id != int(msg_id) or msg_id < 0:
            return f"message id {msg_id}: expected a non-negative integer"
        msg_id = int(msg_id)
        if msg_id in (mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION, mavlink.MAVLINK_MSG_ID_HEARTBEAT):
            return None
        if self.rates.producer(msg_id) is None:
            return f"message {msg_id} cannot be requested"
        return None

    def _cmd_request_message(self, params) -> CommandResult:
        msg_id = int(params[0])
        if msg_id == mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
            self._send_autopilot_version()
        elif msg_id == mavlink.MAVLINK_MSG_ID_HEARTBEAT:
            self.send(self.heartbeat())
        else:
            self.rates.producer(msg_id)(self.clock.now_us())
        return CommandResult.ACCEPTED
