"""What the flight software told the ground, decoded from the Bus traffic it sent.

The simulator scores a run from this and its own truth, never from the flight
software's objects: a judge that reads the judged's memory cannot catch it
misreporting.  The same decoder runs live (fed every recorded frame as it is
logged) and after the fact (fed the frames of flight.tlog), so a finished run can
be scored again from its log alone.

Kept: the latest mode, hover target and navigation estimate (what the 1 Hz
history samples), every event (STATUSTEXT, long ones reassembled), the
touch-and-go event times and wave-off reasons read from those events, the mass
estimates, the parameter values the probe reported (PARAM_VALUE), and the
survey's downlink (status, per-spectrum results, the resource map, ranked
candidates, co-added site band analysis, example and co-added spectra), and fault
protection's (every mode change, the "faultprot" events and the "watchdog" ones, each
change of the tripped monitors in PROBE_FAULT_STATUS and the latest status;
sim/fault_figures.py reads them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flightsw.icd import FLIGHT_SYSTEM_ID, mavlink, new_codec

_MAGIC_V2 = 0xFD
STATUSTEXT_LEN = 50
NO_SITE = 65535

# Touch-and-go event texts (source "tag") and the sequence event each marks.
_TAG_EVENT_PREFIXES = (
    ("descent started", "descent"),
    ("checkpoint burn", "checkpoint"),
    ("matchpoint burn", "matchpoint"),
    ("contact at head height", "contact"),
    ("back-away burn", "backaway"),
    ("wave-off: ", "backaway"),
)
_CONTACT_PLAN_PREFIX = "contact timed for t = "
# Guidance announces a planned flight to the hover point (back from SAFE's orbit).
_TRANSFER_PREFIX = "transfer to the hover point over "


@dataclass(frozen=True, slots=True)
class FlightEvent:
    """An event as the ground receives it: mission time, severity, source, text."""

    time_us: int
    severity: int
    source: str
    text: str


_WANTED = frozenset({
    mavlink.MAVLINK_MSG_ID_HEARTBEAT, mavlink.MAVLINK_MSG_ID_STATUSTEXT,
    mavlink.MAVLINK_MSG_ID_PROBE_NAV_STATE, mavlink.MAVLINK_MSG_ID_PROBE_GUIDANCE_STATUS,
    mavlink.MAVLINK_MSG_ID_PROBE_MASS_ESTIMATE, mavlink.MAVLINK_MSG_ID_PROBE_SURVEY_STATUS,
    mavlink.MAVLINK_MSG_ID_PROBE_SPECTRUM_RESULT, mavlink.MAVLINK_MSG_ID_PROBE_SITE_CANDIDATE,
    mavlink.MAVLINK_MSG_ID_PROBE_SITE_BANDS, mavlink.MAVLINK_MSG_ID_PROBE_RESOURCE_MAP,
    mavlink.MAVLINK_MSG_ID_PROBE_SPECTRUM_PRODUCT, mavlink.MAVLINK_MSG_ID_PARAM_VALUE,
    mavlink.MAVLINK_MSG_ID_PROBE_FAULT_STATUS,
})
FAULT_PROTECTION_SOURCE = "faultprot"  # the event source of monitor trips and clears
# The executive's watchdog over fault protection reports its bites in the same forms.
WATCHDOG_SOURCE = "watchdog"
EXAMPLE_SPECTRUM, SITE_COADD = 0, 1  # PROBE_SPECTRUM_PRODUCT kinds


class FlightTelemetry:
    """The ground's picture of the flight, built message by message.

    `on_record(t_us, raw)` takes every frame that crossed the Bus (both ways, as the
    recorder sees them) and keeps what the flight software (FLIGHT_SYSTEM_ID) sent;
    `on_message(t_us, msg)` takes one already decoded.  `event_sinks` are called with
    each complete FlightEvent.
    """

    def __init__(self, n_sites: int = 0):
        self._codec = new_codec(0, 0)
        self._chunks: dict[int, list[str]] = {}
        self.event_sinks: list = []
        self.mode: int | None = None
        self.hover_target_bf_m: tuple | None = None
        # The flight's own pointing error from the attitude it is steering to (its
        # reference): large while it slews on purpose; the judge reads it to tell a
        # planned slew from a pointing failure (sim/phase_windows.py).
        self.flight_att_err_rad: float | None = None
        self.transfers: list[tuple[float, float]] = []  # (start s, planned duration s)
        self.nav_pos_i_m: tuple | None = None
        self.nav_pos_sigma_m: tuple | None = None
        self.events_total = 0
        self.waveoffs: list[str] = []
        self.tag_event_times: dict[str, float] = {}
        self.mass_estimates: dict[int, tuple[float, float, float, float]] = {}
        self.contact_planned_t_s: float | None = None
        self.survey_status = None
        self.spectrum_results: list[tuple] = []
        self.candidates: list = []
        self._candidates_t_us = None
        self.site_bands: dict[int, object] = {}
        self.resource_value = np.full(n_sites, math.nan)
        self.resource_sigma = np.full(n_sites, math.nan)
        self.resource_n = np.zeros(n_sites, dtype=np.int64)
        # Calibrated spectra, as their slices arrive: (kind, id, site) -> (refl, sigma).
        self._spectra: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.param_values: dict[str, float] = {}  # PARAM_VALUE: the table as flown
        # Fault protection as the ground sees it: each mode change (HEARTBEAT), each
        # event of the fault-protection source, each change of the tripped monitors
        # (PROBE_FAULT_STATUS) and the latest status; read by sim/fault_figures.py.
        self.mode_changes: list[tuple[int, int]] = []  # (t_us, mode)
        self.faultprot_events: list[FlightEvent] = []
        self.tripped_changes: list[tuple[int, int]] = []  # (t_us, tripped bits)
        self.fault_status = None

    # -- input -------------------------------------------------------------------------
    def on_record(self, t_us: int, raw: bytes) -> None:
        if len(raw) < 12 or raw[0] != _MAGIC_V2 or raw[5] != FLIGHT_SYSTEM_ID:
            return
        if (raw[7] | raw[8] << 8 | raw[9] << 16) not in _WANTED:
            return
        msg = self._codec.decode(bytearray(raw))
        if msg is not None:
            self.on_message(t_us, msg)

    def on_message(self, t_us: int, msg) -> None:
        handler = _HANDLERS.get(msg.get_type())
        if handler is not None:
            handler(self, t_us, msg)

    # -- per message -------------------------------------------------------------------
    def _heartbeat(self, t_us, m) -> None:
        self.mode = int(m.custom_mode)
        if not self.mode_changes or self.mode_changes[-1][1] != self.mode:
            self.mode_changes.append((t_us, self.mode))

    def _fault_status(self, t_us, m) -> None:
        self.fault_status = m
        tripped = int(m.tripped)
        if (self.tripped_changes[-1][1] if self.tripped_changes else 0) != tripped:
            self.tripped_changes.append((t_us, tripped))

    def _guidance(self, t_us, m) -> None:
        self.hover_target_bf_m = tuple(float(x) for x in m.target_bf_m)
        self.flight_att_err_rad = float(m.att_err_rad)

    def _nav(self, t_us, m) -> None:
        self.nav_pos_i_m = tuple(float(x) for x in m.pos_i_m)
        self.nav_pos_sigma_m = tuple(float(x) for x in m.pos_sigma_m)

    def _statustext(self, t_us, m) -> None:
        text = m.text
        if m.id == 0:
            self._event(t_us, m.severity, text)
            return
        parts = self._chunks.setdefault(m.id, [])
        parts.append(text)
        if len(text.encode("ascii", "replace")) < STATUSTEXT_LEN:
            del self._chunks[m.id]
            self._event(t_us, m.severity, "".join(parts))

    def _event(self, t_us: int, severity: int, full: str) -> None:
        source, _, text = full.partition(": ")
        event = FlightEvent(t_us, int(severity), source, text)
        self.events_total += 1
        if source == "tag":
            self._tag_event(t_us * 1e-6, text)
        elif source == "survey" and text.startswith(_CONTACT_PLAN_PREFIX):
            number = text[len(_CONTACT_PLAN_PREFIX):].split(" ", 1)[0]
            self.contact_planned_t_s = float(number)
        elif source in (FAULT_PROTECTION_SOURCE, WATCHDOG_SOURCE):
            self.faultprot_events.append(event)
        elif source == "guidance" and text.startswith(_TRANSFER_PREFIX):
            number = text[len(_TRANSFER_PREFIX):].split(" ", 1)[0]
            try:
                self.transfers.append((t_us * 1e-6, float(number)))
            except ValueError:
                pass  # a text the ground cannot read is no planned transfer
        for sink in self.event_sinks:
            sink(event)

    def _tag_event(self, t_s: float, text: str) -> None:
        if text.startswith("wave-off: "):
            self.waveoffs.append(text[len("wave-off: "):])
        for prefix, name in _TAG_EVENT_PREFIXES:
            if text.startswith(prefix):
                if name == "backaway":
                    self.tag_event_times.setdefault(name, t_s)
                else:
                    self.tag_event_times[name] = t_s
                return

    def _mass(self, t_us, m) -> None:
        self.mass_estimates[int(m.which)] = (m.inertia_kgm2, m.inertia_sigma_kgm2,
                                             m.sample_mass_kg, m.sample_mass_sigma_kg)

    def _survey_status(self, t_us, m) -> None:
        self.survey_status = m

    def _spectrum(self, t_us, m) -> None:
        self.spectrum_results.append((int(m.spectrum_id), int(m.site_id), int(m.reject_reason),
                                      int(m.detected), tuple(m.depth), tuple(m.centre_um),
                                      float(m.coadd_weight)))

    def _candidate(self, t_us, m) -> None:
        if self._candidates_t_us != t_us:  # a new ranking replaces the last one
            self.candidates, self._candidates_t_us = [], t_us
        self.candidates.append(m)

    def _site_bands(self, t_us, m) -> None:
        self.site_bands[int(m.site_id)] = m

    def _resource_map(self, t_us, m) -> None:
        first, n = int(m.first_site), int(m.n_sites)
        end = min(first + n, self.resource_value.size)
        k = end - first
        if k <= 0:
            return
        self.resource_value[first:end] = m.value[:k]
        self.resource_sigma[first:end] = m.sigma[:k]
        self.resource_n[first:end] = m.n_spectra[:k]

    def _spectrum_product(self, t_us, m) -> None:
        n = int(m.n_channels)
        key = (int(m.kind), int(m.spectrum_id) if m.kind == EXAMPLE_SPECTRUM else 0,
               int(m.site_id))
        if key not in self._spectra or len(self._spectra[key][0]) != n:
            self._spectra[key] = (np.full(n, math.nan), np.full(n, math.nan))
        first = int(m.first_channel)
        k = max(0, min(len(m.reflectance), n - first))
        refl, sigma = self._spectra[key]
        refl[first:first + k] = m.reflectance[:k]
        sigma[first:first + k] = m.sigma[:k]

    def _param_value(self, t_us, m) -> None:
        self.param_values[m.param_id] = float(m.param_value)

    # -- read-outs ----------------------------------------------------------------------
    @property
    def examples(self) -> list[tuple[int, int, np.ndarray]]:
        """(spectrum id, site, reflectance) of the downlinked example spectra."""
        return [(ident, site, refl) for (kind, ident, site), (refl, _) in self._spectra.items()
                if kind == EXAMPLE_SPECTRUM]

    def site_coadds(self, sites, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
        """(reflectance, sigma) rows of the downlinked co-added spectra of `sites`
        (NaN rows for a site whose co-add did not come down)."""
        refl = np.full((len(sites), n_channels), math.nan)
        sigma = np.full((len(sites), n_channels), math.nan)
        for j, site in enumerate(sites):
            got = self._spectra.get((SITE_COADD, 0, int(site)))
            if got is not None and len(got[0]) == n_channels:
                refl[j], sigma[j] = got
        return refl, sigma

    @property
    def chosen(self):
        """The candidate handed to touch-and-go (its PROBE_SITE_CANDIDATE), or None."""
        for c in self.candidates:
            if c.chosen:
                return c
        return None

    def sample_mass(self) -> tuple[float, float] | None:
        """(mass, sigma) of the after-sampling spin test, None before it reported."""
        after = self.mass_estimates.get(1)
        return None if after is None else (after[2], after[3])

    def site_band_table(self) -> dict | None:
        """Every downlinked site band analysis as arrays (sites in order of id)."""
        if not self.site_bands:
            return None
        sites = sorted(self.site_bands)
        rows = [self.site_bands[s] for s in sites]
        nb = len(rows[0].depth)
        bits = np.array([r.detected for r in rows], dtype=np.int64)
        return {"site": np.array(sites, dtype=np.int64),
                "n_spectra": np.array([r.n_spectra for r in rows], dtype=np.int64),
                "detected": (bits[:, None] >> np.arange(nb)) & 1 == 1,
                "depth": np.array([r.depth for r in rows], dtype=float),
                "centre_um": np.array([r.centre_um for r in rows], dtype=float)}


_HANDLERS = {
    "HEARTBEAT": FlightTelemetry._heartbeat,
    "STATUSTEXT": FlightTelemetry._statustext,
    "PROBE_GUIDANCE_STATUS": FlightTelemetry._guidance,
    "PROBE_NAV_STATE": FlightTelemetry._nav,
    "PROBE_MASS_ESTIMATE": FlightTelemetry._mass,
    "PROBE_SURVEY_STATUS": FlightTelemetry._survey_status,
    "PROBE_SPECTRUM_RESULT": FlightTelemetry._spectrum,
    "PROBE_SITE_CANDIDATE": FlightTelemetry._candidate,
    "PROBE_SITE_BANDS": FlightTelemetry._site_bands,
    "PROBE_RESOURCE_MAP": FlightTelemetry._resource_map,
    "PROBE_SPECTRUM_PRODUCT": FlightTelemetry._spectrum_product,
    "PARAM_VALUE": FlightTelemetry._param_value,
    "PROBE_FAULT_STATUS": FlightTelemetry._fault_status,
}
