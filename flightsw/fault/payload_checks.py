"""Fault protection's checks of the payload, at 1 Hz: the sampler's gas and the
spectrometer's liveness.  Their state is here, so a restart of fault protection starts
them afresh with the rest.

SAMPLER: the bottles left are judged against the count before the firing, from
GAS_CHECK_S after the firing is first seen; gas fired but no bottle used fires the
next bottle (and the monitor is armed again for it).  SPECTROMETER: while it is on,
no spectrum for FP_SPEC_STALE_S.
"""

from flightsw.core.events import Severity
from flightsw.fault.monitor_bank import SOURCE
from flightsw.fault.monitor_table import MonitorId
from flightsw.icd import mavlink

GAS_CHECK_S = 2.0


class PayloadChecks:
    def __init__(self, bank, params, events, devices):
        self.bank = bank
        self.params = params
        self.events = events
        self.devices = devices
        self._spec_seen = None  # (spectra counted, at us) when the count last changed
        self._gas = None  # (fired at us, bottles left before)
        self._bottles_before = None

    def check_sampler(self, t_us: int, gas_fired: bool) -> None:
        """gas_fired: the touch-and-go sequence has fired the sampler's gas."""
        status = self.devices.sampler.latest
        if status is None:
            return
        if not gas_fired:
            # The count before the firing: the status may show the bottle used before
            # this 1 Hz check first sees that the gas was fired.
            self._gas = None
            self._bottles_before = status.gas_bottles_left
            self.bank.check(MonitorId.SAMPLER, False)
            return
        if self._gas is None:
            if self._bottles_before is None:
                return  # no count seen before the firing: nothing to compare with
            self._gas = (t_us, self._bottles_before)
        if (t_us - self._gas[0]) * 1e-6 < GAS_CHECK_S:
            return
        if self.bank.check(MonitorId.SAMPLER, status.gas_bottles_left >= self._gas[1],
                           "gas fired but no bottle used") and status.gas_bottles_left > 0:
            self.devices.sampler.command(t_us, mavlink.PROBE_SAMPLER_FIRE_GAS)
            self.events.emit(Severity.WARNING, SOURCE, "firing the next gas bottle")
            self._gas = (t_us, status.gas_bottles_left)
            self.bank.reset(MonitorId.SAMPLER)  # armed again should that bottle fail too

    def check_spectrometer(self, t_us: int) -> None:
        spec = self.devices.spectrometer
        on = self.devices.instruments.state.get(mavlink.PROBE_INSTRUMENT_SPECTROMETER)
        if not on or not on[0]:
            self._spec_seen = None
            self.bank.check(MonitorId.SPECTROMETER, False)  # not applicable: clear
            return
        seen = self._spec_seen
        if seen is None or spec.count != seen[0]:
            self._spec_seen = (spec.count, t_us)
            stale = 0.0
        else:
            stale = (t_us - seen[1]) * 1e-6
        self.bank.check(MonitorId.SPECTROMETER, stale > self.params.get("FP_SPEC_STALE_S"),
                        f"no spectrum for {stale:.0f} s")
