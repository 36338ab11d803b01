"""The flight software's parameter table: every tunable value, typed and bounded."""

from flightsw.core.params import ParamSpec

FLIGHT_PARAMS = (
    ParamSpec("HOV_BW_RADPS", float, 0.03, 1e-4, 0.5, "rad/s",
              "Hover position-loop bandwidth"),
    ParamSpec("HOV_ZETA", float, 0.9, 0.1, 3.0, "", "Hover position-loop damping ratio"),
    ParamSpec("ATT_BW_RADPS", float, 0.3, 0.01, 2.0, "rad/s", "Attitude-loop bandwidth"),
    ParamSpec("ATT_ZETA", float, 0.9, 0.1, 3.0, "", "Attitude-loop damping ratio"),
    ParamSpec("NAV_GATE_SIG", float, 6.0, 3.0, 100.0, "sigma",
              "Innovation gate of the navigation filters"),
    ParamSpec("NAV_ACC_NOISE", float, 2e-5, 1e-9, 1e-2, "m/s^2",
              "Accelerometer noise per sample, assumed by the filter"),
    ParamSpec("NAV_ACC_WALK", float, 2e-6, 0.0, 1e-2, "m/s^2/sqrt(s)",
              "Random walk of the unmodelled acceleration"),
    ParamSpec("NAV_GYRO_NOISE", float, 2e-6, 1e-9, 1e-2, "rad/s",
              "Gyro noise per sample, assumed by the filter"),
    ParamSpec("NAV_GBIAS_WALK", float, 1e-8, 0.0, 1e-3, "rad/s/sqrt(s)",
              "Random walk of the gyro bias"),
    ParamSpec("FP_NAV_SIG_M", float, 5.0, 0.1, 1000.0, "m",
              "Position sigma above which hover is abandoned (to SAFE)"),
    ParamSpec("FP_ST_TMO_S", float, 10.0, 0.5, 600.0, "s",
              "Star tracker silence that counts as lost"),
    ParamSpec("FP_FIX_TMO_S", float, 60.0, 1.0, 3600.0, "s",
              "Navigation-camera silence that counts as lost"),
    ParamSpec("FP_ENABLE", bool, True, None, None, "", "Fault protection may command SAFE"),
)
