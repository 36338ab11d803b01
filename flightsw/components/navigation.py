"""Navigation: attitude and translation filters fed by the IMU, star tracker,
navigation camera and lidar; the estimate's recent history for time-tagged
instrument samples; PROBE_NAV_STATE and PROBE_NAV_BIAS telemetry."""

from collections import deque

from flightsw.components.devices import Devices
from flightsw.config import FlightConfig
from flightsw.core.events import Severity
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import q_from_rotvec, q_mul, q_to_rotvec
from flightsw.gnc.nav_ekf import TranslationEKF
from flightsw.gnc.navigation import AttitudeFilter, Navigator
from flightsw.icd import mavlink

# Up to this long a missing IMU sample's rate is the last one's; beyond, the IMU counts
# as lost and the rate comes from the star tracker (the specific force is the commanded
# thrust's either way).
IMU_BRIDGE_US = 2_000_000  # a HIL link outage (a board reset) lasts about a second
ST_RATE_TAU_S = 2.0
# Specific-force noise assumed while dead reckoning (1 % of a 4.4 N thruster on 1500 kg,
# and the attitude of a star-tracker-only rate, with margin).
DEAD_RECKONING_ACC_NOISE = 3e-4
# Re-acquisition: after this many landmark images in a row with every sighting rejected,
# the position and velocity uncertainty is widened so that the landmarks are let in
# again.  An outage of every sensor through contact (the surface's push and the back-away
# dead-reckoned) left the estimate metres off with a centimetre sigma: it rejected every
# image for good, and SAFE followed SAFE (fault campaign 7abb297).  Nominal flight
# rejects no whole image.
REACQUIRE_IMAGES = 20
REACQUIRE_POS_SIGMA_M = 50.0
REACQUIRE_VEL_SIGMA_MPS = 0.05
NAV_PARAMS = ("NAV_ACC_NOISE", "NAV_ACC_WALK", "NAV_GYRO_NOISE", "NAV_GBIAS_WALK")


class NavigationComponent:
    """State: the filters, the last sensor times (for fault protection) and the poses
    of the last seconds.  Parameters: NAV_*.  Telemetry: nav state and biases at 1 Hz.
    """

    def __init__(self, config: FlightConfig, body: SpinningBody, params: ParamTable,
                 devices: Devices, send):
        self.params = params
        self.devices = devices
        self.send = send
        self.nav = Navigator(
            AttitudeFilter(params.get("NAV_GYRO_NOISE"), params.get("NAV_GBIAS_WALK")),
            TranslationEKF(body, config.body.gm_m3s2, params.get("NAV_ACC_NOISE"),
                           params.get("NAV_ACC_WALK")),
        )
        self.body = body
        self.landmarks_bf = config.landmarks_bf_m
        self.cycle_s = 1.0 / config.base_rate_hz
        # (target_bf_m, normal_bf) of the local plane the lidar ranges to, set by the
        # touch-and-go sequence; None: lidar ranges are not used.
        self.lidar_plane_bf = None
        self.last_imu = None
        self.last_prop_us = None
        self.propulsion = None  # set by the wiring: commanded thrust for dead reckoning
        self._st_prev = None
        self.dead_reckoning = False
        self.st_rate_sc_radps = (0.0, 0.0, 0.0)
        self.last_star_tracker_us = None
        self.last_fix_us = None
        self.last_landmark_us = None
        self.images_rejected_in_a_row = 0
        self.reacquisitions = 0
        self.events = None  # set by the wiring: re-acquisition is an event
        # (t_us, position_i, q_i_to_sc, rate_sc) of the last nav cycles, for pose_at.
        self.poses: deque = deque(maxlen=4 * config.base_rate_hz)
        params.on_change(self._on_param_change, NAV_PARAMS)

    @property
    def ready(self) -> bool:
        return self.nav.ready

    def _on_param_change(self, name, old, new) -> None:
        if name == "NAV_ACC_NOISE":
            self.nav.translation.accel_noise = new
        elif name == "NAV_ACC_WALK":
            self.nav.translation.acc_walk = new
        elif name == "NAV_GYRO_NOISE":
            self.nav.attitude.gyro_noise = new
        elif name == "NAV_GBIAS_WALK":
            self.nav.attitude.bias_walk = new

    def estimate_bf(self, t_s: float) -> tuple:
        """Estimated position and body-relative velocity in the body-fixed frame."""
        tr = self.nav.translation
        pos_i, vel_i = tr.position_i(), tr.velocity_i()
        rel_i = self.body.relative_velocity_i(pos_i, vel_i)
        return self.body.i_to_bf(t_s, pos_i), self.body.i_to_bf(t_s, rel_i)

    def pose_at(self, t_us: int) -> tuple:
        """Navigation's position (inertial) and attitude at t_us, from the last seconds.

        An instrument sample is stamped when it was taken; the 1 Hz task that reads it
        runs up to a second later, when a slewing probe points ~10 m elsewhere at survey
        range.  The estimate of the nearest earlier cycle, attitude carried forward by its
        rate over the remaining microseconds (none when the stamps are cycle times).
        """
        best = None
        for pose in reversed(self.poses):
            best = pose
            if pose[0] <= t_us:
                break
        if best is None:
            tr = self.nav.translation
            return tr.position_i(), self.nav.attitude.q_i_to_sc
        t0, pos, q, rate = best
        dt = (t_us - t0) * 1e-6
        if dt != 0.0:
            q = q_mul(q, q_from_rotvec((rate[0] * dt, rate[1] * dt, rate[2] * dt)))
        return pos, q

    def task_nav(self, t_us: int) -> None:
        nav = self.nav
        prm = self.params
        dev = self.devices
        gate = prm.get("NAV_GATE_SIG")
        imu = dev.imu.take()
        cycle_us = round(self.cycle_s * 1e6)
        if imu is not None:
            # The estimate stands at last_prop_us.  dt from there, not from the last
            # sample: a gap was already bridged frame by frame below (found in HIL link
            # outages).  A sample of that time or older (a board back from an outage
            # delivers the samples it held, up to a second late) has no new time to add,
            # and must not take the estimate's time back: the span it bridged would then
            # be integrated twice, and the attitude come out further from the star
            # tracker than its gate lets through.
            last_us = self.last_prop_us
            if self.dead_reckoning:  # the IMU is back
                self.dead_reckoning = False
                nav.translation.accel_noise = self.params.get("NAV_ACC_NOISE")
            if self.last_imu is None or imu.t_us >= self.last_imu.t_us:
                self.last_imu = imu  # the newest rate and acceleration measured
            if last_us is None or imu.t_us >= last_us:
                dt = self.cycle_s if last_us is None else (imu.t_us - last_us) * 1e-6
                self.last_prop_us = imu.t_us
                if dt > 0.0:
                    nav.on_imu(imu.accel_sc_mps2, imu.rate_sc_radps, dt)
        elif self.last_imu is not None:
            # No IMU sample: dead reckoning.  The specific force the thrusters were told
            # to give (the last sample's would miss a burn started in the gap: a wave-off
            # 0.6 s into an IMU loss left 8 cm/s out).  The filter takes its
            # accelerometer-bias estimate off what it is given: put it back (2e-5 m/s^2
            # left in is 640 m after 8000 s).  The rate: the last sample's across a
            # short gap; beyond, the IMU is lost, the rate comes from the star tracker
            # and the process noise says how little a command is worth, so that
            # landmarks are still let through to correct the drift.
            tr = nav.translation
            cmd = self.propulsion.commanded_accel_sc(t_us) if self.propulsion else \
                (0.0, 0.0, 0.0)
            bias = tr.accel_bias_sc()
            accel = (cmd[0] + bias[0], cmd[1] + bias[1], cmd[2] + bias[2])
            rate = self.last_imu.rate_sc_radps
            if t_us - self.last_imu.t_us > IMU_BRIDGE_US:
                rate = self.st_rate_sc_radps
                if not self.dead_reckoning:
                    self.dead_reckoning = True
                    tr.accel_noise = max(tr.accel_noise, DEAD_RECKONING_ACC_NOISE)
            nav.on_imu(accel, rate, self.cycle_s)
            self.last_prop_us += cycle_us
        st = dev.star_tracker.take()
        if st is not None:
            self._star_tracker_rate(st)
            if nav.attitude.update(st.q_i_to_sc, st.sigma_rad, gate):
                self.last_star_tracker_us = st.t_us
        if not nav.attitude.initialised:
            dev.navcam.take_sightings()
            return
        self._absolute_updates(nav.attitude.q_i_to_sc)
        tr = nav.translation
        if tr.initialised:
            self.poses.append((t_us, tr.position_i(), nav.attitude.q_i_to_sc,
                               nav.attitude.rate_sc_radps))

    def _star_tracker_rate(self, st) -> None:
        """Angular rate from successive star-tracker quaternions, smoothed (the rate
        source once the gyros are gone; 5 arcsec at 5 Hz is 1.7e-4 rad/s per pair)."""
        prev, self._st_prev = self._st_prev, (st.t_us, st.q_i_to_sc)
        if prev is None or st.t_us <= prev[0]:
            return
        dt = (st.t_us - prev[0]) * 1e-6
        conj = (prev[1][0], -prev[1][1], -prev[1][2], -prev[1][3])
        rv = q_to_rotvec(q_mul(conj, st.q_i_to_sc))
        k = min(1.0, dt / ST_RATE_TAU_S)
        self.st_rate_sc_radps = tuple(r + k * (x / dt - r)
                                      for r, x in zip(self.st_rate_sc_radps, rv, strict=True))

    def _absolute_updates(self, q: tuple) -> None:
        """Landmark bearings, position fixes and the lidar range, in that order."""
        nav, prm, dev = self.nav, self.params, self.devices
        tr = nav.translation
        sightings = dev.navcam.take_sightings()
        if sightings:
            catalogue = self.landmarks_bf
            obs = [(catalogue[s.landmark_id], s.los_sc) for s in sightings
                   if s.landmark_id < len(catalogue)]
            if obs:
                att_sigma = max(nav.attitude.angle_sigma_rad())
                sigma = max(prm.get("NAV_LM_SIG_RAD"), sightings[0].sigma_rad)
                used = tr.update_landmarks(sightings[0].t_us * 1e-6, obs, q, sigma, att_sigma,
                                           prm.get("NAV_LM_CAT_M"))
                if used:
                    self.last_landmark_us = sightings[0].t_us
                    self.last_fix_us = sightings[0].t_us
                    self.images_rejected_in_a_row = 0
                else:
                    self._count_rejected_image(sightings[0].t_us)
        fix = dev.navcam.take()
        if fix is not None:
            if tr.update_position_bf(fix.t_us * 1e-6, fix.pos_bf_m, fix.sigma_m):
                self.last_fix_us = fix.t_us
        rng = dev.altimeter.take()
        if rng is not None and self.lidar_plane_bf is not None and tr.initialised \
                and rng.range_m < prm.get("NAV_LIDAR_MAX_M"):
            target_bf, normal_bf = self.lidar_plane_bf
            tr.update_range_to_plane(rng.range_m, max(prm.get("NAV_LIDAR_SIG_M"), rng.sigma_m),
                                     (0.0, 0.0, 1.0), q, rng.t_us * 1e-6, target_bf, normal_bf)

    def _count_rejected_image(self, t_us: int) -> None:
        self.images_rejected_in_a_row += 1
        if self.images_rejected_in_a_row < REACQUIRE_IMAGES:
            return
        self.images_rejected_in_a_row = 0
        self.reacquisitions += 1
        self.nav.translation.widen(REACQUIRE_POS_SIGMA_M, REACQUIRE_VEL_SIGMA_MPS)
        if self.events is not None:
            self.events.emit(Severity.WARNING, "nav",
                             f"{REACQUIRE_IMAGES} landmark images in a row rejected: "
                             f"position uncertainty widened to {REACQUIRE_POS_SIGMA_M:g} m "
                             f"to re-acquire")

    def send_telemetry(self, t_us: int) -> None:
        nav = self.nav
        if not nav.ready:
            return
        tr, att = nav.translation, nav.attitude
        self.send(mavlink.MAVLink_probe_nav_state_message(
            t_us, list(tr.position_i()), list(tr.velocity_i()), list(att.q_i_to_sc),
            list(att.rate_sc_radps), list(tr.pos_sigma_m()), list(tr.vel_sigma_mps()),
            list(att.angle_sigma_rad())))
        self.send(mavlink.MAVLink_probe_nav_bias_message(
            t_us, list(tr.accel_bias_sc()), list(tr.accel_bias_sigma_mps2()),
            list(att.bias_sc_radps), list(att.bias_sigma_radps()),
            min(tr.landmarks_used, 0xFFFFFFFF), min(tr.rejected + att.rejected, 0xFFFFFFFF)))
