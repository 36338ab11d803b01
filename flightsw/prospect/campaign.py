"""The survey campaign: from HOVER to a chosen, safe, resource-rich site.

States (ICD PROBE_SURVEY_STATE):
  TO_STATION  blend from the body-fixed hover point to an inertial station on
              the sun side (the asteroid then turns beneath the probe)
  SCANNING    spectrometer and flash lidar on; the planner points the boresight
              at lit, observable sites not yet covered; spectra go through the
              pipeline into the resource map, scans into the hazard map
  TO_SITE     sites ranked, the best handed to touch-and-go guidance; blend from
              the station to safe-home above the chosen site
  DONE        the host (app) takes over: hover at safe-home, then the descent

Everything here runs in the flight software's 1 Hz prospect task; inputs are
the drivers' samples and the navigation estimate, time is the task's argument.
"""

import math
from enum import IntEnum

import numpy as np

from flightsw.config import ProspectConfig
from flightsw.core.events import Severity
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import Vec3, q_rotate, unit
from flightsw.gnc.guidance import HoverReference
from flightsw.gnc.transfer import (
    BlendedReference,
    aim_reference,
    station_reference,
    transfer_duration_s,
)
from flightsw.icd import mavlink
from flightsw.prospect.calibrate import CalibrationState
from flightsw.prospect.hazard import HazardMap
from flightsw.prospect.pipeline import ProspectPipeline, pack_detected_bits
from flightsw.prospect.resource import ResourceMap
from flightsw.prospect.shape_model import ShapeModel
from flightsw.prospect.site_spectra import SiteSpectra, coadd_weight
from flightsw.prospect.sites import contact_time_s, rank_sites
from flightsw.prospect.survey import SurveyPlanner


class SurveyState(IntEnum):
    """State of the campaign; its values travel as the ICD's PROBE_SURVEY_STATE."""

    IDLE = mavlink.PROBE_SURVEY_STATE_IDLE
    TO_STATION = mavlink.PROBE_SURVEY_STATE_TO_STATION
    SCANNING = mavlink.PROBE_SURVEY_STATE_SCANNING
    TO_SITE = mavlink.PROBE_SURVEY_STATE_TO_SITE
    DONE = mavlink.PROBE_SURVEY_STATE_DONE


NO_SITE = 65535
MAP_TILE = 24  # PROBE_RESOURCE_MAP entries per message
SPECTRUM_SLICE = 24  # PROBE_SPECTRUM_PRODUCT channels per message
EXAMPLE_SPECTRUM, SITE_COADD = 0, 1  # PROBE_SPECTRUM_PRODUCT kinds


class SurveyCampaign:
    def __init__(self, cfg: ProspectConfig, body: SpinningBody, params, events, send,
                 instruments, arm_length_m: float, descent_s_fn=None):
        self.cfg = cfg
        self.body = body
        self.params = params
        self.events = events
        self.send = send
        self.instruments = instruments
        self.arm_length_m = arm_length_m  # safe-home height is for the sampler head
        # Safe-home to contact, s (the host's descent profile); 4 h if the host has none.
        self.descent_s_fn = descent_s_fn or (lambda: 4.0 * 3600.0)
        self.shape = ShapeModel(np.asarray(cfg.vertices_m, dtype=float),
                                np.asarray(cfg.faces, dtype=np.int64),
                                np.asarray(cfg.down_bf, dtype=float))
        n = len(cfg.faces)
        self.n_sites = n
        self.sun_i = unit(tuple(cfg.sun_dir_i))
        # Dark and gain per channel: the detector's pattern is not smooth across channels.
        self.pipeline = ProspectPipeline(calibration=CalibrationState(
            dark_smooth_degree=None, gain_smooth_degree=None))
        self.examples: list = []  # (spectrum_id, site, reflectance) for the report
        # (spectrum_id, site, reject, detected bits, depths, centres, co-add weight):
        # what the host may score.
        self.result_log: list = []
        self.resource = ResourceMap(n)
        self.site_spectra = SiteSpectra(n, self.pipeline.wavelength_um)
        self.site_bands: dict | None = None  # band analysis of co-added site spectra
        self.hazard = HazardMap(self.shape)
        self.planner = None
        self.state = SurveyState.IDLE
        self.target_site = NO_SITE
        self.candidates: list = []
        self.chosen = None  # the Candidate handed to touch-and-go guidance
        self.reference_fn = None
        self.t_scan_start_s = None
        self.scanned_s = 0.0  # scan time before an interruption (a SAFE), carried on
        self.max_scan_s = 0.0
        self.spectra_processed = 0
        self.results: list = []  # (spectrum_id, site_id, reject, depths...) for the report
        self._map_cursor = 0
        self._station_i = None
        self._station_ref = None
        self.t_contact_planned_s = None  # when the ranking expected the contact
        self._pending: list = []  # (spectrum, site, cos_i, cos_e, phase_deg, geometry_ok)
        self._last_batch_s = -math.inf

    # -- geometry helpers --------------------------------------------------------------------
    def sun_bf(self, t_s: float) -> Vec3:
        return self.body.i_to_bf(t_s, self.sun_i)

    def _station_reference(self, t_s: float) -> HoverReference:
        """The inertial station with the boresight on the planned site (or the centre)."""
        pos = self._station_i
        if self.target_site != NO_SITE:
            c = self.shape.centroids[self.target_site]
            target_bf = (float(c[0]), float(c[1]), float(c[2]))
        else:
            target_bf = (0.0, 0.0, 0.0)
        q, rate = aim_reference(pos, self.body.bf_to_i(t_s, target_bf), pos,
                                self.body.bf_to_i(t_s + 1.0, target_bf), 1.0, self.body.pole_i)
        return station_reference(pos, q, rate)

    # -- commands --------------------------------------------------------------------------
    def start(self, t_s: float, from_ref, max_scan_s: float) -> None:
        prm = self.params
        self.planner = SurveyPlanner(self.shape, prm.get("PRS_MAX_INC_DEG"),
                                     prm.get("PRS_MAX_EMI_DEG"), prm.get("PRS_SPEC_SITE"))
        self._station_i = tuple(float(x) for x in self.planner.station_position_i(
            self.sun_i, self.body.pole_i, prm.get("PRS_STATION_M"), prm.get("PRS_PHASE_DEG")))
        self.max_scan_s = max_scan_s if max_scan_s > 0 else prm.get("PRS_MAX_SCAN_S")
        self.scanned_s = 0.0
        duration = transfer_duration_s(from_ref(t_s).pos_i_m, self._station_i,
                                       prm.get("PRS_XFER_ACC"), prm.get("PRS_XFER_S"))
        self.reference_fn = BlendedReference(from_ref, self._station_reference, t_s,
                                             duration, self.body.pole_i)
        self.state = SurveyState.TO_STATION
        self.events.emit(Severity.INFO, "survey",
                         f"to the survey station, {prm.get('PRS_STATION_M'):.0f} m from the "
                         f"centre, {prm.get('PRS_PHASE_DEG'):.0f} deg phase, in "
                         f"{duration:.0f} s")

    def start_on_station(self, t_us: int, max_scan_s: float) -> tuple:
        """Begin the scan at once, the probe being on the station already (a survey
        resumed on station; the site-choice sweep, which starts there).  Returns the
        station's inertial position, m."""
        self.start(t_us * 1e-6, self._station_reference, max_scan_s)
        self._begin_scan(t_us)
        return self._station_i

    def interrupt(self, t_s: float) -> None:
        """SAFE broke the survey off at t_s: the scan time so far is kept for a resume."""
        if self.state == SurveyState.SCANNING and self.t_scan_start_s is not None:
            self.scanned_s = t_s - self.t_scan_start_s

    def resume(self, t_s: float, from_ref, state: "SurveyState", home_ref_fn) -> bool:
        """Take the survey up again where a SAFE broke it off, flying from `from_ref`: back to
        the station, the scan's coverage kept, or on to the chosen site (False: nothing to do)."""
        prm, t_us = self.params, round(t_s * 1e6)
        if state in (SurveyState.TO_STATION, SurveyState.SCANNING) and self.planner is not None:
            for instrument in (mavlink.PROBE_INSTRUMENT_SPECTROMETER,
                               mavlink.PROBE_INSTRUMENT_SCAN_LIDAR):
                self.instruments.command(t_us, instrument, False, 0.0)  # off till the station
            target, self.state, what = self._station_reference, SurveyState.TO_STATION, "station"
        elif state == SurveyState.TO_SITE and self.chosen is not None:
            target, self.state, what = home_ref_fn(self), SurveyState.TO_SITE, "chosen site"
        else:
            return False
        duration = prm.get("PRS_XFER_S")
        for _ in range(2):  # the target turns with the body while the probe flies
            duration = transfer_duration_s(from_ref(t_s).pos_i_m, target(t_s + duration).pos_i_m,
                                           prm.get("PRS_XFER_ACC"), prm.get("PRS_XFER_S"))
        self.reference_fn = BlendedReference(from_ref, target, t_s, duration, self.body.pole_i)
        self.events.emit(Severity.NOTICE, "survey",
                         f"resumed after SAFE: back to the {what} in {duration:.0f} s")
        if self.state == SurveyState.TO_SITE:
            self.plan_contact(t_s)
        return True

    def choose(self, t_s: float, rank: int, plan: bool = True) -> bool:
        """Hand the candidate of `rank` (1 = best) to guidance and time its contact (unless
        plan is False: the caller plans once the transfer is known); False if none."""
        if rank < 1 or rank > len(self.candidates):
            return False
        self.chosen = self.candidates[rank - 1]
        self._send_candidates(round(t_s * 1e6))
        if plan:
            self.plan_contact(t_s)
        c = self.chosen
        self.events.emit(Severity.NOTICE, "survey",
                         f"site {c.site_id} chosen (rank {rank}): resource {c.resource:.3f} +- "
                         f"{c.resource_sigma:.3f}, slope {c.slope_deg:.1f} deg, relief "
                         f"{c.roughness_m:.2f} m")
        return True

    def safe_home_bf(self) -> Vec3:
        c = self.chosen
        n = self.shape.normals[c.site_id]
        h = self.params.get("PRS_HOME_M") + self.arm_length_m
        p = c.point_bf_m
        return (p[0] + h * float(n[0]), p[1] + h * float(n[1]), p[2] + h * float(n[2]))

    # -- the 1 Hz step -----------------------------------------------------------------------
    def step(self, t_us: int, pose_at, spectra, scans, home_ref_fn) -> None:
        """One 1 Hz cycle.  pose_at(t_us) -> (position_i, q_i_to_sc): navigation's estimate
        when a sample was taken (each spectrum and scan is placed with its own pose)."""
        t_s = t_us * 1e-6
        if self.state == SurveyState.IDLE or self.state == SurveyState.DONE:
            return
        if self.state == SurveyState.TO_STATION and self.reference_fn.done(t_s):
            self._begin_scan(t_us)
        if self.state == SurveyState.SCANNING:
            self._queue_spectra(spectra, pose_at)
            for scan in scans:
                pos_bf, axes_bf = self._pose_bf(scan.t_us, pose_at)
                self.hazard.add_scan(np.asarray(pos_bf), np.asarray(axes_bf), scan.fov_full_rad,
                                     scan.grid_n, np.asarray(scan.ranges_m))
            if t_s - self._last_batch_s >= self.params.get("PRS_BATCH_S"):
                self._process_pending()
                self._last_batch_s = t_s
            pos_bf, axes_bf = self._pose_bf(t_us, pose_at)
            sun_bf = self.sun_bf(t_s)
            self.planner.update(np.asarray(pos_bf), np.asarray(sun_bf))
            site = self.planner.next_target(np.asarray(pos_bf), np.asarray(axes_bf[2]),
                                            np.asarray(sun_bf))
            self.target_site = NO_SITE if site is None else int(site)
            if self._scan_finished(t_s):
                self._finish_scan(t_us, home_ref_fn)
        elif self.state == SurveyState.TO_SITE and self.reference_fn.done(t_s):
            self.state = SurveyState.DONE
            self.events.emit(Severity.INFO, "survey", "at safe-home above the chosen site")
        self._send_status(t_us)

    def _pose_bf(self, t_us: int, pose_at) -> tuple:
        """Spacecraft position and x, y, z axes in the body-fixed frame at t_us."""
        t_s = t_us * 1e-6
        pos_i, q = pose_at(t_us)
        axes_bf = tuple(self.body.i_to_bf(t_s, q_rotate(q, e))
                        for e in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
        return self.body.i_to_bf(t_s, pos_i), axes_bf

    def _begin_scan(self, t_us: int) -> None:
        self.state = SurveyState.SCANNING
        self.t_scan_start_s = t_us * 1e-6 - self.scanned_s
        self.reference_fn = self._station_reference
        prm = self.params
        self.instruments.command(t_us, mavlink.PROBE_INSTRUMENT_SPECTROMETER, True,
                                 prm.get("PRS_SPEC_HZ"))
        self.instruments.command(t_us, mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, True,
                                 prm.get("PRS_SCAN_HZ"))
        self.events.emit(Severity.INFO, "survey", "at the station: scanning")

    def _scan_finished(self, t_s: float) -> bool:
        elapsed = t_s - self.t_scan_start_s
        if elapsed >= self.max_scan_s:
            return True
        rotations = elapsed * self.body.rate_radps / (2.0 * math.pi)
        return rotations >= self.params.get("PRS_MIN_ROT") and \
            self.planner.coverage >= self.params.get("PRS_COVER_GOAL")

    def _finish_scan(self, t_us: int, home_ref_fn) -> None:
        t_s = t_us * 1e-6
        self._process_pending()
        for instrument in (mavlink.PROBE_INSTRUMENT_SPECTROMETER,
                           mavlink.PROBE_INSTRUMENT_SCAN_LIDAR):
            self.instruments.command(t_us, instrument, False, 0.0)
        self.events.emit(Severity.INFO, "survey",
                         f"scan done: coverage {self.planner.coverage:.3f} of the illuminated "
                         f"surface, {self.spectra_processed} spectra")
        self.target_site = NO_SITE
        self.candidates = self.rank(t_s)
        self.site_bands = self.site_spectra.analyse(
            np.flatnonzero(self.site_spectra.n_spectra), self.params.get("PRS_MIN_SPEC"))
        self._send_map(t_us, everything=True)
        # The whole band map goes down once: the ground scores and maps every site's
        # co-added spectrum, not only the candidates'.
        self._send_site_bands(t_us, self.site_bands["site"])
        if not self.candidates:
            self.events.emit(Severity.WARNING, "survey",
                             "no safe site with a resource estimate: holding")
            self.state = SurveyState.DONE
            return
        self.choose(t_s, 1, plan=False)
        self.state = SurveyState.TO_SITE
        home = home_ref_fn(self)
        prm = self.params
        # Safe-home turns with the body: size the transfer for where it will be when a
        # minimal transfer ends (the duration grows with the angle, so check once more).
        duration = prm.get("PRS_XFER_S")
        for _ in range(2):
            duration = transfer_duration_s(self._station_i, home(t_s + duration).pos_i_m,
                                           prm.get("PRS_XFER_ACC"), prm.get("PRS_XFER_S"))
        self.reference_fn = BlendedReference(self._station_reference, home, t_s, duration,
                                             self.body.pole_i)
        self.plan_contact(t_s)

    def rank(self, t_s: float) -> list:
        h = self.hazard
        return rank_sites(self.resource.value, self.resource.sigma, self.resource.n_spectra,
                          h.slope_deg, h.roughness_m, h.n_points, self.shape,
                          _RankParams(self.params), self.sun_bf(t_s))

    def plan_contact(self, t_s: float) -> None:
        """Time the contact on the chosen site for its light: the earliest time after the
        transfer, the settling and the descent at which it is well lit."""
        prm = self.params
        arrival = t_s
        if self.state == SurveyState.TO_SITE and isinstance(self.reference_fn, BlendedReference):
            arrival = max(t_s, self.reference_fn.t0_s + self.reference_fn.duration_s)
        t_min = arrival + prm.get("PRS_SETTLE_S") + self.descent_s_fn()
        t_contact, inc_deg = contact_time_s(self.shape, self.chosen.site_id, self.sun_bf,
                                            self.body.rate_radps, t_min,
                                            prm.get("PRS_MAX_INC_DEG"))
        self.t_contact_planned_s = t_contact
        self.events.emit(Severity.INFO, "survey",
                         f"contact timed for t = {t_contact:.0f} s (sun incidence "
                         f"{inc_deg:.0f} deg on the site); descent starts "
                         f"{self.descent_s_fn():.0f} s before")

    def descent_start_s(self) -> float | None:
        """When the descent must start for the planned contact (None: no plan)."""
        if self.t_contact_planned_s is None:
            return None
        return self.t_contact_planned_s - self.descent_s_fn()

    # -- spectra -----------------------------------------------------------------------------
    def _queue_spectra(self, spectra, pose_at) -> None:
        """Dark and calibration frames to the calibration; science spectra, with the geometry
        of their footprint at the time each was taken, to the queue the next batch empties."""
        prm = self.params
        cos_inc_max = math.cos(math.radians(prm.get("PRS_MAX_INC_DEG")))
        cos_emi_max = math.cos(math.radians(prm.get("PRS_MAX_EMI_DEG")))
        for sp in spectra:
            if sp.kind != mavlink.PROBE_SPECTRUM_KIND_SCIENCE:
                if sp.counts is not None:
                    self.pipeline.add_frame(sp.kind, np.asarray(sp.counts, dtype=np.float64),
                                            sp.detector_temp_c, sp.integration_s)
                continue
            pos_bf, axes_bf = self._pose_bf(sp.t_us, pose_at)
            site, cos_i, cos_e, phase_deg = self.geometry(pos_bf, axes_bf[2],
                                                          self.sun_bf(sp.t_us * 1e-6))
            ok = site != NO_SITE and cos_i >= cos_inc_max and cos_e >= cos_emi_max
            self._pending.append((sp, site, cos_i, cos_e, phase_deg, ok))
            if ok:
                # Counted at once so the planner moves on; a spectrum the pipeline then
                # rejects is taken back when its batch is processed.
                self.planner.record(site)

    def _process_pending(self) -> None:
        """The queued science spectra through the pipeline in one batch.

        The pipeline's cost is mostly per call at these batch sizes (about 5 ms for one
        spectrum, 0.05 ms each in a batch of thousands), so the 1 Hz task batches
        PRS_BATCH_S seconds of spectra.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        science = [p[0] for p in pending]
        col = lambda k: np.array([p[k] for p in pending])  # noqa: E731
        site = col(1).astype(np.int64)
        res = self.pipeline.process(
            [sp.counts for sp in science], np.array([sp.detector_temp_c for sp in science]),
            col(2), col(3), col(4), np.full(len(pending), self.cfg.sun_distance_au),
            geometry_ok=col(5).astype(bool), site_ids=site,
            integration_s=np.array([sp.integration_s for sp in science]))
        metal = self.params.get("PRS_RESOURCE") == 1
        value = res.metal_index if metal else res.hydration_index
        sigma = res.metal_sigma if metal else res.hydration_sigma
        bits = res.detected_bits
        # The pipeline keeps reflectance (its default): accepted rows go to the co-add.
        weight = np.zeros(len(science))
        accepted = res.reject_reason == 0
        weight[accepted] = coadd_weight(res.reflectance_sigma[accepted])
        self.site_spectra.add(site[accepted], res.reflectance[accepted],
                              res.reflectance_sigma[accepted], weight[accepted])
        for k, sp in enumerate(science):
            self.spectra_processed += 1
            reason = int(res.reject_reason[k])
            sk = int(site[k])
            if len(self.result_log) < 200_000:
                self.result_log.append((sp.spectrum_id, sk, reason, int(bits[k]),
                                        tuple(float(x) for x in res.depth[k]),
                                        tuple(float(x) for x in res.centre_um[k]),
                                        float(weight[k])))
            if reason == 0:
                self.resource.add(np.array([sk]), value[k:k + 1], sigma[k:k + 1])
            elif pending[k][5]:
                self.planner.unrecord(sk)
            self.send(mavlink.MAVLink_probe_spectrum_result_message(
                sp.t_us, sp.spectrum_id, sk if reason == 0 else NO_SITE, reason,
                int(bits[k]), [float(x) for x in res.depth[k]],
                [float(x) for x in res.depth_sigma[k]], [float(x) for x in res.centre_um[k]],
                float(res.hydration_index[k]), float(res.metal_index[k]),
                float(res.surface_temp_k[k]), float(weight[k])))
            if reason == 0 and res.reflectance is not None and len(self.examples) < 12 and \
                    self.spectra_processed % 97 == 0:
                self.examples.append((sp.spectrum_id, sk, res.reflectance[k].copy()))
                self._send_spectrum(sp.t_us, EXAMPLE_SPECTRUM, sp.spectrum_id, sk,
                                    res.reflectance[k], None)

    def geometry(self, pos_bf, boresight_bf, sun_bf) -> tuple:
        """Site under the boresight and its incidence, emission and phase (from navigation)."""
        ids, dist = self.shape.ray_hits(np.asarray([pos_bf], dtype=float),
                                        np.asarray([boresight_bf], dtype=float))
        site = int(ids[0])
        if site < 0:
            return NO_SITE, 0.0, 0.0, 0.0
        p = np.asarray(pos_bf, dtype=float)
        hit = p + float(dist[0]) * np.asarray(boresight_bf, dtype=float)
        n = self.shape.normals[site]
        view = (p - hit) / np.linalg.norm(p - hit)
        sun = np.asarray(sun_bf, dtype=float)
        phase = math.degrees(math.acos(max(-1.0, min(1.0, float(view @ sun)))))
        return site, float(n @ sun), float(n @ view), phase

    # -- telemetry ---------------------------------------------------------------------------
    def _send_status(self, t_us: int) -> None:
        p = self.planner
        rejected = [0] * 7
        for reason, count in self.pipeline.rejected.items():
            if 0 < reason < 7:
                rejected[reason] = min(count, 2 ** 32 - 1)
        self.send(mavlink.MAVLink_probe_survey_status_message(
            t_us, self.state, float(p.coverage) if p else 0.0,
            int(p.n_covered) if p else 0, int(p.n_illuminated) if p else 0,
            self.target_site, self.spectra_processed, rejected))
        if self.state == SurveyState.SCANNING and (t_us // 1_000_000) % 10 == 0:
            self._send_map(t_us)

    def _send_map(self, t_us: int, everything: bool = False) -> None:
        tiles = range(0, self.n_sites, MAP_TILE) if everything else [self._map_cursor]
        for first in tiles:
            sl = slice(first, min(first + MAP_TILE, self.n_sites))
            value = [float(v) for v in self.resource.value[sl]]
            sigma = [float(v) for v in self.resource.sigma[sl]]
            n = [int(min(k, 255)) for k in self.resource.n_spectra[sl]]
            k = len(value)
            pad = MAP_TILE - k
            self.send(mavlink.MAVLink_probe_resource_map_message(
                t_us, first, k, value + [math.nan] * pad, sigma + [math.nan] * pad,
                n + [0] * pad))
        if not everything:
            self._map_cursor = (self._map_cursor + MAP_TILE) % self.n_sites

    def _send_candidates(self, t_us: int) -> None:
        for c in self.candidates:
            self.send(mavlink.MAVLink_probe_site_candidate_message(
                t_us, c.rank, c.site_id, [float(x) for x in c.point_bf_m], float(c.resource),
                float(c.resource_sigma), float(c.slope_deg), float(c.roughness_m),
                float(c.score), 1 if c is self.chosen else 0))
        self._send_site_bands(t_us, [c.site_id for c in self.candidates])
        sites = np.array([c.site_id for c in self.candidates], dtype=np.int64)
        refl, sigma = self.site_spectra.mean(sites)
        for j, site in enumerate(sites.tolist()):
            self._send_spectrum(t_us, SITE_COADD, int(self.site_spectra.n_spectra[site]), site,
                                refl[j], sigma[j])

    def _send_spectrum(self, t_us: int, kind: int, ident: int, site: int, refl,
                       sigma) -> None:
        """A calibrated spectrum down in PROBE_SPECTRUM_PRODUCT slices."""
        n = len(refl)
        for first in range(0, n, SPECTRUM_SLICE):
            part = [float(x) for x in refl[first:first + SPECTRUM_SLICE]]
            sig = [math.nan] * len(part) if sigma is None else \
                [float(x) for x in sigma[first:first + SPECTRUM_SLICE]]
            pad = SPECTRUM_SLICE - len(part)
            self.send(mavlink.MAVLink_probe_spectrum_product_message(
                t_us, kind, min(int(ident), 2 ** 32 - 1), int(site), first, n,
                part + [math.nan] * pad, sig + [math.nan] * pad))

    def _send_site_bands(self, t_us: int, sites) -> None:
        sb = self.site_bands
        if sb is None:
            return
        row_of = {int(s): j for j, s in enumerate(sb["site"])}
        bits = pack_detected_bits(sb["detected"])
        for site in sites:
            j = row_of.get(int(site))
            if j is None:
                continue
            self.send(mavlink.MAVLink_probe_site_bands_message(
                t_us, int(site), int(min(sb["n_spectra"][j], 65535)), int(bits[j]),
                [float(x) for x in sb["depth"][j]], [float(x) for x in sb["depth_sigma"][j]],
                [float(x) for x in sb["centre_um"][j]],
                [float(x) for x in sb["centre_sigma_um"][j]]))


class _RankParams:
    """The ranking's limits, read from the parameter table."""

    def __init__(self, prm):
        self.slope_max_deg = prm.get("PRS_SLOPE_MAX")
        self.boulder_max_m = prm.get("PRS_BOULDER_M")
        self.lat_max_deg = prm.get("PRS_LAT_MAX")
        self.min_lidar_points = prm.get("PRS_MIN_LIDAR")
        self.min_spectra = prm.get("PRS_MIN_SPEC")
        self.n_candidates = prm.get("PRS_N_CAND")
        self.home_height_m = prm.get("PRS_HOME_M")
        self.max_incidence_deg = prm.get("PRS_MAX_INC_DEG")

