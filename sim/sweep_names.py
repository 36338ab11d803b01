"""What the sweep report calls each figure and input: words and a unit, never the summary's
key (`hover_error_m_p99` is "Hover position error, 99th percentile [m]").

The figures a summary holds today are named in FIGURES; any other key is named by rule
from its parts (unit suffix, percentile suffix, known abbreviations), so a figure added
to the summary later is still shown in words with its unit.  The key itself stays in the
page's data- attributes and tooltips, where tools and the curious find it.
"""

from __future__ import annotations

import re

# key -> (words, unit); unit "" for a pure number without a natural unit.
FIGURES: dict[str, tuple[str, str]] = {
    "touchdown_miss_m": ("Touchdown miss distance from the target", "m"),
    "contact_speed_mps": ("Contact speed", "m/s"),
    "contact_speed_error_mps": ("Contact speed error from the commanded speed", "m/s"),
    "contact_duration_s": ("Contact duration", "s"),
    "contact_t_s": ("Time of first contact", "s"),
    "max_penetration_m": ("Deepest penetration into the regolith", "m"),
    "backaway_dv_mps": ("Back-away delta-v", "m/s"),
    "waveoffs_count": ("Wave-offs", "count"),
    "target_slope_deg": ("Slope at the target", "deg"),
    "sample_mass_true_kg": ("Sample mass captured (truth)", "kg"),
    "sample_mass_est_kg": ("Sample mass estimated on board", "kg"),
    "sample_mass_sigma_kg": ("Sample mass estimate, 1 sigma", "kg"),
    "sample_mass_3sigma_kg": ("Sample mass estimate, 3 sigma", "kg"),
    "sample_mass_error_kg": ("Sample mass estimate error", "kg"),
    "sample_mass_error_in_3sigma": ("Sample mass error / its 3 sigma", "ratio, <= 1 passes"),
    "regolith_density_kgm3": ("Regolith bulk density (truth)", "kg/m³"),
    "gm_true_m3s2": ("Body GM (truth)", "m³/s²"),
    "hover_error_m_p50": ("Hover position error, median", "m"),
    "hover_error_m_p99": ("Hover position error, 99th percentile", "m"),
    "hover_error_m_max": ("Hover position error, maximum", "m"),
    "attitude_error_deg_p99": ("Pointing error, 99th percentile", "deg"),
    "nav_error_m_p99": ("Navigation position error, 99th percentile", "m"),
    "delta_v_mps": ("Delta-v spent", "m/s"),
    "acs_impulse_ns": ("Attitude-control thruster impulse", "N·s"),
    "branch_b_impulse_ns": ("Impulse on the B thruster branch", "N·s"),
    "min_clearance_m": ("Closest approach to the surface", "m"),
    "max_radius_m": ("Farthest distance from the body's centre", "m"),
    "surface_impacts": ("Surface impacts", "count"),
    "surface_contacts": ("Surface contacts", "count"),
    "escaped": ("Escaped the body", "1 = yes"),
    "monitor_trips": ("Fault monitor trips", "count"),
    "events_total": ("Events downlinked", "count"),
    "metrics_from_s": ("Start of the settled window", "s"),
    "site_truth_rank": ("True rank of the chosen site (1 = best)", "rank"),
    "survey_coverage": ("Survey coverage of the surface", "fraction"),
    "spectra_processed": ("Spectra processed", "count"),
    "band_detection_precision": ("Band detection precision", "fraction"),
    "band_detection_recall": ("Band detection recall", "fraction"),
    # What the run cost its host.
    "sim_duration_s": ("Simulated duration", "s"),
    "wall_duration_s": ("Host wall-clock time", "s"),
    "realtime_factor": ("Host speed, times real time", "×"),
    "peak_rss_mb": ("Host peak memory", "MB"),
    "messages_logged": ("Messages logged", "count"),
    "gravity_exact_evaluations": ("Exact gravity evaluations", "count"),
}

# The dispersed inputs of the packaged scenarios, by scenario key.
INPUTS: dict[str, tuple[str, str]] = {
    "body.gm_error_frac": ("Body GM error", "fraction"),
    "spacecraft.thrusters.magnitude_error_frac": ("Thrust error common to all thrusters",
                                                  "fraction"),
    "spacecraft.thrusters.cant_deg": ("Thruster set cant", "deg"),
    "initial.position_offset_i_m": ("Initial position offset, inertial", "m"),
    "initial.velocity_offset_i_mps": ("Initial velocity offset, inertial", "m/s"),
    "sensors.imu.accel_bias_sc_mps2": ("IMU accelerometer bias, spacecraft axes", "m/s²"),
    "sensors.imu.gyro_bias_sc_radps": ("IMU gyro bias, spacecraft axes", "rad/s"),
    "sensors.imu.accel_noise_mps2": ("IMU accelerometer noise, 1 sigma", "m/s²"),
    "sensors.imu.gyro_noise_radps": ("IMU gyro noise, 1 sigma", "rad/s"),
    "sensors.star_tracker.sigma_arcsec": ("Star tracker noise, 1 sigma", "arcsec"),
    "sensors.lidar.sigma_m": ("Lidar range noise, 1 sigma", "m"),
    "sensors.navcam.landmark_sigma_rad": ("Navigation camera landmark noise, 1 sigma", "rad"),
    "prospect.boulder_facet_fraction": ("Share of boulder facets", "fraction"),
    "prospect.scan_lidar_sigma_m": ("Scanning lidar noise, 1 sigma", "m"),
    "tag.fine_fraction_true": ("Fine regolith fraction (truth)", "fraction"),
    "tag.regolith_density_true_kgm3": ("Regolith bulk density (truth)", "kg/m³"),
}

# Unit suffixes of keys, longest first so that `_mps2` is not read as `_mps`.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_m3s2", "m³/s²"), ("_kgm3", "kg/m³"), ("_kgm2", "kg·m²"), ("_mps2", "m/s²"),
    ("_radps", "rad/s"), ("_degps", "deg/s"), ("_arcsec", "arcsec"), ("_frac", "fraction"),
    ("_fraction", "fraction"),
    ("_mps", "m/s"), ("_deg", "deg"), ("_rad", "rad"), ("_kg", "kg"), ("_ns", "N·s"),
    ("_nm", "N·m"), ("_hz", "Hz"), ("_us", "µs"), ("_ms", "ms"), ("_mb", "MB"),
    ("_au", "au"), ("_m", "m"), ("_s", "s"), ("_n", "N"), ("_h", "h"),
)
STATISTICS = (("_p50", "median"), ("_p99", "99th percentile"), ("_max", "maximum"),
              ("_min", "minimum"), ("_mean", "mean"), ("_count", "count"))
# Words of scenario keys and figure names that read better spelled out.
WORDS = {"gm": "GM", "imu": "IMU", "acs": "ACS", "nav": "navigation", "dv": "delta-v",
         "sc": "spacecraft axes", "i": "inertial", "bf": "body-fixed", "tag": "touch-and-go",
         "lidar": "lidar", "navcam": "navigation camera", "rss": "RSS", "fp": "fault protection"}
AXES = ("x", "y", "z")
_ELEMENT = re.compile(r"^(?P<base>.*)\[(?P<index>\d+)\]$")


def _split_unit(key: str) -> tuple[str, str]:
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)], unit
    return key, ""


def _words(stem: str) -> str:
    return " ".join(WORDS.get(w, w) for w in stem.replace(".", " ").replace("_", " ").split())


def words_and_unit(key: str) -> tuple[str, str]:
    """(words, unit) of a figure or input column; unit '' when it has none."""
    if key in FIGURES:
        return FIGURES[key]
    if key in INPUTS:
        return INPUTS[key]
    if key.startswith("|in.") and key.endswith("|"):
        words, unit = words_and_unit(key[4:-1])
        return f"{words}, magnitude (dispersed)", unit
    if key.startswith("in."):
        words, unit = words_and_unit(key[3:])
        return f"{words} (dispersed)", unit
    element = _ELEMENT.match(key)
    if element:
        words, unit = words_and_unit(element["base"])
        i = int(element["index"])
        return f"{words}, {AXES[i] if i < 3 else f'element {i}'}", unit
    stem, statistic = key, ""
    for suffix, name in STATISTICS:
        if stem.endswith(suffix):
            stem, statistic = stem[: -len(suffix)], name
            break
    stem, unit = _split_unit(stem)
    words = _words(stem)
    if statistic:
        words = f"{words}, {statistic}" if statistic != "count" else words
        unit = unit or ("count" if statistic == "count" else "")
    return words[:1].upper() + words[1:], unit


def label(key: str) -> str:
    """'Words [unit]' (or just the words when there is no unit)."""
    words, unit = words_and_unit(key)
    return f"{words} [{unit}]" if unit else words
