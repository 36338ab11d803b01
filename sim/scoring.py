"""The judge: a run's figures from what the flight software sent and the world's truth.

Inputs are the decoded downlink (sim/telemetry.py), the world's truth record
(sim/truth_record.py), the 1 Hz history (truth columns and the telemetry sampled
with them) and the static truth of the scenario (the World built from it).  No
flight object is read, so the same function scores a live run and a finished run
from its flight.tlog, with the same result.
"""

from __future__ import annotations

import math

import numpy as np

from sim.fault_figures import fault_figures
from sim.phase_windows import (
    DEFAULT_SLEW_RADPS,
    Judged,
    hover_window,
    pointing_window,
    window_keys,
)
from sim.report_requirements import ATTITUDE_REQ_DEG

BAND_NAMES = ("PHYLLO_07", "PYX_09", "OL_105", "PYX_19", "OH_27")  # ICD band order
OUTCOMES = ("sampled", "waved_off", "failed")
BAND_PRESENT_DEPTH = 0.03  # truth depth above which a band counts as present
BAND_ABSENT_DEPTH = 0.01  # below which it counts as absent (between: not scored)
SITE_MIN_SPECTRA = 3  # a site's band figures are scored from this many accepted spectra
POINTING_NOT_JUDGED_OVER_A_SITE = (
    "a touch-and-go or prospecting run points down the site's local normal, not at the "
    "body's centre the pointing truth is measured from")
SETTLE_S = 600.0  # the navigation figure is taken after the initial transient


def percentile(x: np.ndarray, q: float) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")


def mission_figures(sc, hist: dict, tele, truth, world, contact_mps: float,
                    sim_s: float) -> dict:
    """Every figure of summary.json that judges the flight (host figures are added by
    the runner: wall time, real-time factor, memory, the scheduler's host profile)."""
    t = hist["t_s"]
    settled = t >= min(SETTLE_S, 0.5 * sim_s)
    tag = tag_summary(truth, tele, world.site, contact_mps) if world.site is not None else {}
    if world.prospect is not None:
        tag = tag | prospect_summary(world.prospect, tele, truth)
    return tag | {
        "scenario": sc.scenario.name,
        "scenario_file": sc.source,
        "seed": sc.scenario.seed,
        # The navigation figure's window: after the initial transient, as before phases.
        "metrics_from_s": float(t[settled][0]) if settled.any() else 0.0,
        "nav_error_m_p99": percentile(hist["nav_err_m"][settled], 99),
        "delta_v_mps": float(hist["dv_cum_mps"][-1]) if len(t) else 0.0,
        "final_mode": _mode_name(tele.mode),
        "events_total": tele.events_total,
        "gravity_exact_evaluations": truth.gravity_exact_evaluations,
    } | hover_figures(hist, tele, judge_pointing=not tag) | fault_figures(tele, truth)


def hover_figures(hist: dict, tele, judge_pointing: bool = True) -> dict:
    """Hover and pointing figures, each over its own phase (sim/phase_windows.py):
    hover_error_m_* over the samples where the probe held a hover point after it settled
    (hover_judged_* say which), attitude_error_deg_p99 over HOVER outside the planned
    slews (attitude_judged_*).  A figure with nothing to judge is None with its
    *_not_judged_reason.  Pointing is left unjudged on a touch-and-go or prospecting run
    (``judge_pointing`` False): the truth here is the boresight's angle from the body's
    centre, and over a site the flight points down the site's local normal, degrees off
    that line by intent, with no downlinked target the judge could hold it to."""
    t = np.asarray(hist["t_s"], dtype=float)
    target = np.asarray(hist["pos_bf_m"], dtype=float).reshape(len(t), 3) - \
        np.asarray(hist["pos_err_bf_m"], dtype=float).reshape(len(t), 3)
    transfers = list(getattr(tele, "transfers", ()))
    hover_w = hover_window(t, hist["mode"], target, hist["hover_err_m"], transfers)
    if judge_pointing:
        slew = tele.param_values.get("ATT_SLEW_RADPS", DEFAULT_SLEW_RADPS)
        flight_att = hist.get("flight_att_err_deg", np.full(len(t), np.nan))
        att_w = pointing_window(t, hist["mode"], target, flight_att, hist["att_err_deg"],
                                requirement_deg=ATTITUDE_REQ_DEG, slew_radps=slew,
                                transfers=transfers)
    else:
        att_w = Judged(np.zeros(len(t), dtype=bool), POINTING_NOT_JUDGED_OVER_A_SITE)
    hover = np.asarray(hist["hover_err_m"], dtype=float)[hover_w.mask]
    att = np.asarray(hist["att_err_deg"], dtype=float)[att_w.mask]
    return {
        # Over hover_judged_windows_s only; None when hover_not_judged_reason says why.
        "hover_error_m_p50": percentile(hover, 50) if hover.size else None,
        "hover_error_m_p99": percentile(hover, 99) if hover.size else None,
        "hover_error_m_max": percentile(hover, 100) if hover.size else None,
        # Over attitude_judged_windows_s only (HOVER, planned slews left out).
        "attitude_error_deg_p99": percentile(att, 99) if att.size else None,
    } | window_keys("hover", t, hover_w) | window_keys("attitude", t, att_w)


def _mode_name(mode: int | None) -> str | None:
    from flightsw.core.modes import Mode
    if mode is None:
        return None
    return Mode(mode).name if mode in Mode._value2member_map_ else str(mode)


def tag_summary(truth, tele, site, contact_mps: float) -> dict:
    """Touch-and-go figures: the world's truth of the contact and the sample against
    the probe's downlinked estimates, wave-offs and sequence events."""
    tt = truth.tag
    contact = tt["first_contact_t_s"] is not None
    mass_true = tt["sample_mass_true_kg"]
    est = tele.sample_mass()
    waveoffs = tele.waveoffs
    mass_est, mass_sigma = (est if est is not None else (None, None))
    if tt["crash"] is not None:
        outcome, why = "failed", tt["crash"]
    elif contact and mass_true > 0.0:
        outcome, why = "sampled", "contact with sample collected"
    elif waveoffs:
        # Safe either way: a touch the probe never sensed, then left, took nothing.
        outcome, why = "waved_off", waveoffs[0] + (" (after an unsensed touch)"
                                                   if contact else "")
    elif contact:
        outcome, why = "failed", "contact without a sample"
    else:
        outcome, why = "failed", "the sequence did not reach contact or a wave-off"
    miss = math.dist(tt["touchdown_point_bf_m"], site.point_bf_m) if contact else None
    speed = tt["contact_speed_mps"]
    return {
        "outcome": outcome,
        "outcome_reason": why,
        "target_bf_m": list(site.point_bf_m),
        "target_slope_deg": site.slope_deg,
        "touchdown_bf_m": list(tt["touchdown_point_bf_m"]) if contact else None,
        "touchdown_miss_m": miss,
        "contact_speed_mps": speed,
        "contact_speed_error_mps": abs(speed - contact_mps) if speed is not None else None,
        "contact_duration_s": tt["contact_duration_s"] if contact else None,
        "contact_t_s": tt["first_contact_t_s"],
        "max_penetration_m": tt["max_penetration_m"] if contact else None,
        "backaway_dv_mps": tt["backaway_impulse_ns"] / tt["mass_kg"],
        "waveoffs": {"count": len(waveoffs), "reasons": list(waveoffs)},
        "sample_mass_true_kg": mass_true,
        "sample_mass_est_kg": mass_est,
        "sample_mass_sigma_kg": mass_sigma,
        "sample_mass_3sigma_kg": 3.0 * mass_sigma if mass_sigma is not None else None,
        "sample_mass_error_kg": (mass_est - mass_true) if mass_est is not None else None,
        # |error| / 3 sigma: <= 1 means the estimate is within its reported 3-sigma.
        "sample_mass_error_in_3sigma": abs(mass_est - mass_true) / (3.0 * mass_sigma)
        if mass_sigma else None,
        "regolith_density_kgm3": tt["regolith_density_kgm3"],
        "gm_true_m3s2": tt["gm_true_m3s2"],
        "tag_events_s": dict(tele.tag_event_times),
    }


def facet_lat_lon_deg(vertices_m, faces) -> tuple[np.ndarray, np.ndarray]:
    """Planetocentric latitude and east longitude of each facet's centroid, degrees."""
    c = np.asarray(vertices_m, dtype=float)[np.asarray(faces)].mean(axis=1)
    r = np.sqrt((c * c).sum(axis=1))
    return (np.degrees(np.arcsin(np.clip(c[:, 2] / r, -1.0, 1.0))),
            np.degrees(np.arctan2(c[:, 1], c[:, 0])))


def prospect_summary(pw, tele, truth) -> dict:
    """Survey, pipeline and site-choice figures: the downlinked survey status, spectrum
    results, band map and candidates against the simulator's truth."""
    out = {"survey_coverage": None, "spectra_processed": 0, "site_chosen": None,
           "site_truth_rank": None, "resource_name": pw.surface.resource_name}
    st = tele.survey_status
    if st is None:
        return out
    out["survey_coverage"] = round(float(st.coverage), 4)
    out["sites_covered"] = int(st.sites_covered)
    out["sites_illuminated"] = int(st.sites_illuminated)
    out["spectra_processed"] = int(st.spectra_processed)
    out["spectra_rejected"] = {str(k): int(v) for k, v in enumerate(st.rejected) if v}
    # Per-spectrum band results against the truth of the footprint.
    est, tru, sites, weights = [], [], [], []
    for sid, site_id, reject, bits, depth, centre, weight in tele.spectrum_results:
        t = truth.spectrum_truth.get(sid)
        if reject == 0 and t is not None:
            est.append((bits, depth, centre))
            tru.append(t)
            sites.append(site_id)
            weights.append(weight)
    out.update(_spectrum_scores(est, tru))
    site_scores = site_band_scores(tele.site_band_table(), pw, tru, sites, weights)
    out["band_errors_per_site"] = site_scores.pop("bands")
    out.update(site_scores)
    chosen = tele.chosen
    if chosen is not None:
        site = int(chosen.site_id)
        lat, lon = facet_lat_lon_deg(pw.vertices_m, pw.faces)
        resource = pw.surface.resource_truth
        out["site_chosen"] = {"id": site, "lat_deg": round(float(lat[site]), 3),
                              "lon_deg": round(float(lon[site]), 3),
                              "point_bf_m": [round(float(x), 3) for x in chosen.point_bf_m]}
        out["site_truth_rank"] = pw.site_truth_rank(site)
        out["site_choice_top3"] = int(1 <= out["site_truth_rank"] <= 3)
        out["contact_planned_t_s"] = tele.contact_planned_t_s
        out["site_chosen_safe_truth"] = bool(pw.safe[site])
        out["resource_estimate"] = {"value": float(chosen.resource),
                                    "sigma": float(chosen.resource_sigma)}
        out["resource_truth"] = float(resource[site])
        out["candidates"] = [{"rank": int(c.rank), "site": int(c.site_id),
                              "resource": float(c.resource), "sigma": float(c.resource_sigma),
                              "truth": float(resource[c.site_id]),
                              "safe_truth": bool(pw.safe[c.site_id])}
                             for c in tele.candidates]
    return out


def _spectrum_scores(est: list, tru: list) -> dict:
    bands = {}
    tp = fp = fn = 0
    for k, name in enumerate(BAND_NAMES):
        d_err, c_err = [], []
        for (bits, depth, centre), (t_depth, t_centre, *_) in zip(est, tru, strict=True):
            det = bool(bits >> k & 1)
            if t_depth[k] >= BAND_PRESENT_DEPTH:
                tp += det
                fn += not det
                d_err.append(abs(depth[k] - t_depth[k]))
                c_err.append(abs(centre[k] - t_centre[k]) * 1000.0)
            elif t_depth[k] < BAND_ABSENT_DEPTH:
                fp += det
        bands[name] = {
            "scored_spectra": len(d_err),
            "depth_error_p95": percentile(np.asarray(d_err), 95) if d_err else None,
            "centre_error_nm_p95": percentile(np.asarray(c_err), 95) if c_err else None}
    return {"band_detection_precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "band_detection_recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "band_errors": bands}


def site_band_scores(sb: dict | None, pw, tru, sites, weights) -> dict:
    """The flight's band analysis of each site's co-added spectrum (the downlinked
    PROBE_SITE_BANDS) against the truth of the same mixture: the weighted mean of the
    footprints' abundances with the flight's own co-add weights (the surface is an
    areal mixture, so that is exactly what the co-added spectrum saw).  Sites with
    fewer than SITE_MIN_SPECTRA spectra, or with a spectrum whose truth was not kept,
    are not scored.  Returns per-band depth and centre error p95 ("bands") and the
    detection precision and recall over sites."""
    out = {"bands": {}, "site_band_detection_precision": None,
           "site_band_detection_recall": None}
    if sb is None or not len(sb["site"]):
        return out
    site = np.asarray(sites, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    ab = np.array([t[4] for t in tru], dtype=float).reshape(len(tru), -1)
    order = np.argsort(site, kind="stable")
    ids, first, counts = np.unique(site[order], return_index=True, return_counts=True)
    where = {int(i): (int(f), int(c)) for i, f, c in zip(ids, first, counts, strict=True)}
    nb = len(BAND_NAMES)
    d_err = [[] for _ in range(nb)]
    c_err = [[] for _ in range(nb)]
    tp = fp = fn = 0
    for j, s in enumerate(sb["site"].tolist()):
        n_flight = int(sb["n_spectra"][j])
        f, c = where.get(s, (0, 0))
        if n_flight < SITE_MIN_SPECTRA or c != n_flight:
            continue
        rows = order[f:f + c]
        mix = (w[rows, None] * ab[rows]).sum(axis=0) / w[rows].sum()
        truth = pw.surface.mixture_truth(mix)
        for k in range(nb):
            t_depth = float(truth["band_depth"][k])
            det = bool(sb["detected"][j, k])
            if t_depth >= BAND_PRESENT_DEPTH:
                tp += det
                fn += not det
                if np.isfinite(sb["depth"][j, k]) and np.isfinite(sb["centre_um"][j, k]):
                    d_err[k].append(abs(sb["depth"][j, k] - t_depth))
                    c_err[k].append(abs(sb["centre_um"][j, k]
                                        - truth["band_centre_um"][k]) * 1000.0)
            elif t_depth < BAND_ABSENT_DEPTH:
                fp += det
    for k, name in enumerate(BAND_NAMES):
        out["bands"][name] = {
            "scored_sites": len(d_err[k]),
            "depth_error_p95": percentile(np.asarray(d_err[k]), 95) if d_err[k] else None,
            "centre_error_nm_p95": percentile(np.asarray(c_err[k]), 95) if c_err[k] else None}
    out["site_band_detection_precision"] = round(tp / (tp + fp), 4) if tp + fp else None
    out["site_band_detection_recall"] = round(tp / (tp + fn), 4) if tp + fn else None
    return out
