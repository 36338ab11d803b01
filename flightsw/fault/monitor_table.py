"""The fault-protection monitors, as one table the team can read and tune.

Each row: the monitor (its PROBE_MONITOR id), what it checks, how many consecutive
failing checks trip it (persistence; checks run at the rate named), the response
and whether it is enabled at start.  Thresholds are flight parameters (FP_*) so they
can be tuned in flight; persistence and response are design, changed here and
reviewed.  docs/fault_protection.md is generated from this table.

Responses, mildest first:
  LOG          an event, nothing else (the estimate or the operator copes)
  BACKUP       carry on with a backup (gyro-only attitude, IMU propagation)
  RECONFIGURE  isolate the failed unit and fly on what remains (thruster branch,
               three wheels)
  DUMP         unload the wheels' momentum with the thruster couples
  ABORT        in a descent: back away and climb to safe-home; elsewhere as SAFE
  SAFE         SAFE mode: stable attitude, then a trajectory that can neither hit
               nor escape the body
"""

from dataclasses import dataclass
from enum import IntEnum

from flightsw.icd import mavlink


class MonitorId(IntEnum):
    STAR_TRACKER = mavlink.PROBE_MONITOR_STAR_TRACKER
    IMU = mavlink.PROBE_MONITOR_IMU
    NAVCAM = mavlink.PROBE_MONITOR_NAVCAM
    LIDAR = mavlink.PROBE_MONITOR_LIDAR
    NAV_COVARIANCE = mavlink.PROBE_MONITOR_NAV_COVARIANCE
    ATTITUDE_ERROR = mavlink.PROBE_MONITOR_ATTITUDE_ERROR
    THRUSTER = mavlink.PROBE_MONITOR_THRUSTER
    WHEEL = mavlink.PROBE_MONITOR_WHEEL
    MOMENTUM = mavlink.PROBE_MONITOR_MOMENTUM
    POWER = mavlink.PROBE_MONITOR_POWER
    TASK = mavlink.PROBE_MONITOR_TASK
    HEALTH = mavlink.PROBE_MONITOR_HEALTH
    SPECTROMETER = mavlink.PROBE_MONITOR_SPECTROMETER
    SAMPLER = mavlink.PROBE_MONITOR_SAMPLER
    LINK = mavlink.PROBE_MONITOR_LINK
    GYRO_BIAS = mavlink.PROBE_MONITOR_GYRO_BIAS


class Response(IntEnum):
    LOG = 0
    BACKUP = 1
    RECONFIGURE = 2
    DUMP = 3
    ABORT = 4
    SAFE = 5


@dataclass(frozen=True)
class MonitorSpec:
    monitor: MonitorId
    checks: str  # what is checked, in words
    rate_hz: int  # how often the check runs
    persistence: int  # consecutive failing checks that trip it
    response: Response
    enabled: bool
    threshold: str  # the parameter(s) holding its limit

    @property
    def detection_s(self) -> float:
        """Time from the first failing check to the trip."""
        return (self.persistence - 1) / self.rate_hz


M, R = MonitorId, Response
MONITORS: tuple[MonitorSpec, ...] = (
    MonitorSpec(M.STAR_TRACKER, "no valid star-tracker attitude for FP_ST_STALE_S", 10, 2,
                R.BACKUP, True, "FP_ST_STALE_S; SAFE after FP_ST_TMO_S"),
    MonitorSpec(M.IMU, "no IMU sample for FP_IMU_STALE_S", 10, 2, R.BACKUP, True,
                "FP_IMU_STALE_S; abort after FP_IMU_TMO_S in touch-and-go, SAFE after "
                "FP_IMU_CRUISE_S elsewhere"),
    MonitorSpec(M.NAVCAM, "no navigation-camera image for FP_CAM_STALE_S", 10, 2, R.BACKUP, True,
                "FP_CAM_STALE_S; SAFE after FP_FIX_TMO_S in hover, ABORT in descent"),
    MonitorSpec(M.LIDAR, "no altimeter reading (a return or none) for FP_LID_STALE_S", 10, 2,
                R.BACKUP, True, "FP_LID_STALE_S"),
    MonitorSpec(M.NAV_COVARIANCE, "position sigma above FP_NAV_SIG_M (TAG_NAV_SIG_M in "
                "descent)", 1, 3, R.SAFE, True, "FP_NAV_SIG_M, TAG_NAV_SIG_M"),
    MonitorSpec(M.ATTITUDE_ERROR, "pointing error above FP_ATT_ERR_DEG in hover and not "
                "closing by 0.5 deg in 10 s", 1, 60,
                R.LOG, True, "FP_ATT_ERR_DEG"),
    MonitorSpec(M.THRUSTER, "measured delta-v against commanded over 1 s windows differs "
                "by more than FP_THR_DV_MPS + FP_THR_FRAC of the commanded; or a thruster's "
                "pulses, judged one by one, felt below half their commanded delta-v "
                "(flightsw/fault/thruster_check.py)", 1, 3,
                R.RECONFIGURE, True, "FP_THR_DV_MPS, FP_THR_FRAC; NAV_ACC_NOISE"),
    MonitorSpec(M.WHEEL, "a wheel's speed change differs from its torque command by more "
                "than FP_WHL_ERR_RADPS over 10 s, or its drive's current sense from the "
                "command by FP_WHL_TRQ_NM", 1, 2, R.RECONFIGURE, True,
                "FP_WHL_ERR_RADPS, FP_WHL_TRQ_NM"),
    MonitorSpec(M.MOMENTUM, "a wheel above FP_WHL_DUMP_FRAC of its rated speed", 1, 1,
                R.DUMP, True, "FP_WHL_DUMP_FRAC"),
    MonitorSpec(M.POWER, "bus voltage below FP_BUS_MIN_V", 1, 3, R.SAFE, True,
                "FP_BUS_MIN_V"),
    MonitorSpec(M.TASK, "a flight task raised (fault protection's own task: the "
                "executive's watchdog, flightsw/core/watchdog.py, restarts it, then SAFE)",
                1, 1, R.LOG, True, "-"),
    MonitorSpec(M.HEALTH, "a task with no successful run for FP_HEALTH_S", 1, 1, R.SAFE, True,
                "FP_HEALTH_S"),
    MonitorSpec(M.SPECTROMETER, "no spectrum for FP_SPEC_STALE_S while the spectrometer is on",
                1, 1, R.LOG, True, "FP_SPEC_STALE_S"),
    MonitorSpec(M.SAMPLER, "gas fired but no bottle used within 2 s", 1, 3, R.BACKUP, True,
                "-"),
    MonitorSpec(M.LINK, "no ground command for FP_LINK_S, or a ground HEARTBEAT heard and then "
                "silent for FP_GROUND_HB_S", 1, 1, R.LOG, False, "FP_LINK_S, FP_GROUND_HB_S"),
    MonitorSpec(M.GYRO_BIAS, "star-tracker innovation above FP_GYRO_INN_DEG", 10, 5,
                R.BACKUP, True, "FP_GYRO_INN_DEG"),
)
BY_ID = {spec.monitor: spec for spec in MONITORS}
assert len(BY_ID) == len(MonitorId), "every monitor has exactly one row"
