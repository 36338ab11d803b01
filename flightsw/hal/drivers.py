"""Typed device drivers: ICD messages in, plain SI values with named frames out.

Tasks talk to devices only through these.  Each sensor driver subscribes to
its message on the BusPort and keeps the newest sample; `take()` returns a
sample once (None if nothing new arrived), `latest` keeps the last one for
telemetry.  Actuator drivers build and send command messages.
Frames: "sc" spacecraft body, "i" inertial, "bf" asteroid body-fixed.
"""

from dataclasses import dataclass

from flightsw.hal.bus import BusPort
from flightsw.icd import mavlink


@dataclass(frozen=True, slots=True)
class ImuSample:
    t_us: int
    accel_sc_mps2: tuple[float, float, float]  # non-gravitational specific force
    rate_sc_radps: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class AttitudeSample:
    t_us: int
    q_i_to_sc: tuple[float, float, float, float]
    sigma_rad: float


@dataclass(frozen=True, slots=True)
class RangeSample:
    t_us: int
    range_m: float
    sigma_m: float


@dataclass(frozen=True, slots=True)
class PositionFixSample:
    t_us: int
    pos_bf_m: tuple[float, float, float]
    sigma_m: float
    n_landmarks: int


@dataclass(frozen=True, slots=True)
class WheelSpeedSample:
    t_us: int
    speed_radps: tuple[float, ...]
    motor_torque_nm: tuple[float, ...] | None = None  # the drives' current sense, if sent


@dataclass(frozen=True, slots=True)
class PowerThermalSample:
    t_us: int
    bus_voltage_v: float
    battery_soc: float
    solar_power_w: float
    load_power_w: float
    temp_c: tuple[float, ...]


class _SensorDriver:
    """Newest-sample holder; counts samples and invalid readings."""

    def __init__(self):
        self._new = None
        self.latest = None
        self.count = 0
        self.invalid_count = 0

    def _store(self, sample) -> None:
        self._new = sample
        self.latest = sample
        self.count += 1

    def take(self):
        sample, self._new = self._new, None
        return sample


class Imu(_SensorDriver):
    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("HIGHRES_IMU", self._on_msg)

    def _on_msg(self, m) -> None:
        self._store(ImuSample(m.time_usec, (m.xacc, m.yacc, m.zacc), (m.xgyro, m.ygyro, m.zgyro)))


class StarTracker(_SensorDriver):
    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("PROBE_STAR_TRACKER", self._on_msg)

    def _on_msg(self, m) -> None:
        if not m.valid:
            self.invalid_count += 1
            return
        q = m.q_i_to_sc
        self._store(AttitudeSample(m.time_usec, (q[0], q[1], q[2], q[3]), m.sigma_rad))


class Altimeter(_SensorDriver):
    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("PROBE_LIDAR_RANGE", self._on_msg)
        self.last_heard_us = None  # the last reading, with a return or without

    def _on_msg(self, m) -> None:
        self.last_heard_us = m.time_usec
        if not m.valid:
            self.invalid_count += 1
            return
        self._store(RangeSample(m.time_usec, m.range_m, m.sigma_m))


@dataclass(frozen=True, slots=True)
class LandmarkSighting:
    t_us: int
    landmark_id: int
    los_sc: tuple[float, float, float]  # unit line of sight, spacecraft frame
    sigma_rad: float


class NavCamera(_SensorDriver):
    """Position fixes (PROBE_NAVCAM_FIX) and landmark sightings (PROBE_NAVCAM_LANDMARKS)."""

    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("PROBE_NAVCAM_FIX", self._on_msg)
        port.subscribe("PROBE_NAVCAM_LANDMARKS", self._on_landmarks)
        self._sightings: list[LandmarkSighting] = []
        self.sightings_count = 0
        self.last_heard_us = None  # the camera's last image, whatever it found

    def _on_landmarks(self, m) -> None:
        self.last_heard_us = m.time_usec  # an image with no landmark found still counts
        ids, u = m.landmark_id, m.los_sc
        count = min(m.count, len(ids))
        if count != m.count:
            self.invalid_count += 1  # more than the message can hold: keep what it holds
        for k in range(count):
            self._sightings.append(LandmarkSighting(
                m.time_usec, ids[k], (u[3 * k], u[3 * k + 1], u[3 * k + 2]), m.sigma_rad))
        self.sightings_count += count

    def take_sightings(self) -> list[LandmarkSighting]:
        out, self._sightings = self._sightings, []
        return out

    def _on_msg(self, m) -> None:
        if not m.valid:
            self.invalid_count += 1
            return
        p = m.pos_bf_m
        self._store(PositionFixSample(m.time_usec, (p[0], p[1], p[2]), m.sigma_m, m.n_landmarks))


class Power(_SensorDriver):
    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("PROBE_POWER_THERMAL", self._on_msg)

    def _on_msg(self, m) -> None:
        self._store(PowerThermalSample(m.time_usec, m.bus_voltage_v, m.battery_soc,
                                       m.solar_power_w, m.load_power_w, tuple(m.temp_c)))


class Wheels(_SensorDriver):
    """Reaction wheels: tachometer readings in, motor torque commands out."""

    def __init__(self, port: BusPort, count: int = 4):
        super().__init__()
        self._port = port
        self.count_wheels = count
        self.last_torque_nm = (0.0,) * count  # the last motor torques commanded
        port.subscribe("PROBE_WHEEL_STATUS", self._on_msg)

    def _on_msg(self, m) -> None:
        n = self.count_wheels
        drive = tuple(m.motor_torque_nm[:n])
        self._store(WheelSpeedSample(m.time_usec, tuple(m.speed_radps[:n]),
                                     drive if any(drive) else None))

    def command_torque(self, t_us: int, torque_nm: tuple[float, ...]) -> None:
        padded = list(torque_nm) + [0.0] * (4 - len(torque_nm))
        self.last_torque_nm = tuple(padded[: self.count_wheels])
        self._port.send(mavlink.MAVLink_probe_wheel_cmd_message(t_us, padded))


class Thrusters:
    """Thruster on-times for the coming control cycle (8 slots, 6 fitted)."""

    SLOTS = 8

    def __init__(self, port: BusPort):
        self._port = port
        self.commands_sent = 0

    def command_on_times(self, t_us: int, on_time_s: tuple[float, ...], cycle_s: float) -> None:
        padded = list(on_time_s) + [0.0] * (self.SLOTS - len(on_time_s))
        self._port.send(mavlink.MAVLink_probe_thruster_cmd_message(t_us, padded, cycle_s))
        self.commands_sent += 1


@dataclass(frozen=True, slots=True)
class SpectrumSample:
    t_us: int  # integration start
    spectrum_id: int
    integration_s: float
    kind: int  # PROBE_SPECTRUM_KIND
    detector_temp_c: float
    counts: tuple[int, ...] | None  # None: frames missing (the spectrum is unusable)


class Spectrometer(_SensorDriver):
    """Reassembles spectra split over PROBE_SPECTRUM_CHUNK frames.

    A spectrum is complete when every chunk of its spectrum_id arrived.  A new
    spectrum_id closes an incomplete one, which is still delivered with
    counts=None so the pipeline counts it as "missing frames" (never silently
    lost).  Spectra queue up to MAX_QUEUED between `take_all()` calls.
    """

    MAX_QUEUED = 64

    def __init__(self, port: BusPort):
        super().__init__()
        port.subscribe("PROBE_SPECTRUM_CHUNK", self._on_msg)
        self._pending_id = None
        self._pending_head = None
        self._pending: dict[int, list[int]] = {}
        self._queue: list[SpectrumSample] = []
        self.incomplete_count = 0
        self.overflow_count = 0

    def _on_msg(self, m) -> None:
        if m.spectrum_id != self._pending_id:
            if self._pending:
                self.incomplete_count += 1
                self._deliver(self._pending_head, None)
            self._pending_id = m.spectrum_id
            self._pending = {}
            self._pending_head = m
        self._pending[m.first_channel] = list(m.counts[: m.n_counts])
        if len(self._pending) == m.chunk_count:
            counts: list[int] = []
            for first in sorted(self._pending):
                counts.extend(self._pending[first])
            if len(counts) == m.n_channels_total:
                self._deliver(m, tuple(counts))
            else:
                self.invalid_count += 1
                self._deliver(m, None)
            self._pending = {}
            self._pending_id = None

    def _deliver(self, m, counts) -> None:
        sample = SpectrumSample(m.time_usec, m.spectrum_id, m.integration_s, m.kind,
                                m.detector_temp_c, counts)
        self._store(sample)
        if len(self._queue) >= self.MAX_QUEUED:
            self._queue.pop(0)
            self.overflow_count += 1
        self._queue.append(sample)

    def take_all(self) -> list[SpectrumSample]:
        out, self._queue = self._queue, []
        self._new = None
        return out


@dataclass(frozen=True, slots=True)
class LidarScanSample:
    t_us: int
    fov_full_rad: float
    grid_n: int
    ranges_m: tuple[float, ...]  # row-major grid_n x grid_n, 0 = no return


class ScanLidar(_SensorDriver):
    """The flash lidar of the survey: one grid of ranges per message, queued (a reader at
    1 Hz must not lose the scans of a faster lidar); the oldest go when the queue is full."""

    QUEUE_MAX = 64

    def __init__(self, port: BusPort):
        super().__init__()
        self._queue: list[LidarScanSample] = []
        self.dropped_count = 0
        port.subscribe("PROBE_LIDAR_SCAN", self._on_msg)

    def _on_msg(self, m) -> None:
        n = m.grid_n
        if not 1 <= n <= 7:
            self.invalid_count += 1
            return
        sample = LidarScanSample(m.time_usec, m.fov_full_rad, n, tuple(m.ranges_m[: n * n]))
        self._store(sample)
        if len(self._queue) >= self.QUEUE_MAX:
            self._queue.pop(0)
            self.dropped_count += 1
        self._queue.append(sample)

    def take_all(self) -> list[LidarScanSample]:
        out, self._queue = self._queue, []
        self._new = None
        return out


class Instruments:
    """Switches the survey instruments (spectrometer, scanning lidar) on and off."""

    def __init__(self, port: BusPort):
        self._port = port
        self.state: dict[int, tuple[bool, float]] = {}

    def command(self, t_us: int, instrument: int, enable: bool, rate_hz: float) -> None:
        self._port.send(mavlink.MAVLink_probe_instrument_cmd_message(
            t_us, instrument, 1 if enable else 0, rate_hz))
        self.state[instrument] = (enable, rate_hz)


class Sampler(_SensorDriver):
    def __init__(self, port: BusPort):
        super().__init__()
        self._port = port
        port.subscribe("PROBE_SAMPLER_STATUS", self._on_msg)

    def _on_msg(self, m) -> None:
        self._store(m)

    def command(self, t_us: int, action: int) -> None:
        self._port.send(mavlink.MAVLink_probe_sampler_cmd_message(t_us, action))
