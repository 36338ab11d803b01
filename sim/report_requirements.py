"""The requirements a run report judges a run against, and the verdict on each.

The limits live here once: the plots draw the same lines (``HOVER_REQ_M``,
``ATTITUDE_REQ_DEG``) that the outcome table checks.  Each requirement belongs to a
mission phase (``Requirement.phase``): hover error to a settled hover hold, pointing
error to HOVER outside planned slews, contact figures to the contact, the mass figures
to the spin test after sampling.  A run that never reached that phase cannot judge the
requirement: its status is ``"not_judged"`` with the reason (``not_judged_reason``),
neither a pass nor a fail.  The spans judged are published by
``sim.phase_windows.judged_windows``.

The host's speed is no requirement of the mission: the real-time factor and the
scheduler's host timings are information about the machine (the report's Host section).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.report_format import as_float

ATTITUDE_REQ_DEG = 0.1
HOVER_REQ_M = 1.0
# What a requirement's status can be.
PASS, FAIL, NOT_JUDGED, MISSING = "pass", "fail", "not_judged", "na"


@dataclass(frozen=True)
class Requirement:
    key: str  # summary key
    label: str
    unit: str
    op: str  # "<=" or ">="
    limit: float
    phase: str = ""  # "hover", "attitude", "contact", "mass" or "" (whole run)

    def check(self, value: object) -> str:
        """``"pass"``, ``"fail"`` or ``"na"`` (missing or non-numeric value)."""
        v = as_float(value)
        if v is None:
            return MISSING
        ok = v <= self.limit if self.op == "<=" else v >= self.limit
        return PASS if ok else FAIL

    def status(self, summary: Mapping) -> str:
        """check() of the summary's figure, or ``"not_judged"`` where the figure is
        missing because the run never reached the requirement's phase."""
        st = self.check(summary.get(self.key))
        if st == MISSING and not_judged_reason(self, summary) is not None:
            return NOT_JUDGED
        return st


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("hover_error_m_p99", "Hover position error p99", "m", "<=", HOVER_REQ_M,
                "hover"),
    Requirement("attitude_error_deg_p99", "Pointing error p99", "deg", "<=", ATTITUDE_REQ_DEG,
                "attitude"),
)


# A touch-and-go run is judged on its own figures (issue 3's numbers).
TAG_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("touchdown_miss_m", "Touchdown miss distance", "m", "<=", 1.0, "contact"),
    Requirement("contact_speed_error_mps", "Contact speed error from 10 cm/s", "m/s", "<=",
                0.02, "contact"),
    Requirement("sample_mass_error_in_3sigma", "Mass error / its 3-sigma", "", "<=", 1.0,
                "mass"),
    Requirement("sample_mass_3sigma_kg", "Mass 3-sigma", "kg", "<=", 0.03, "mass"),
)


# A prospecting run adds issue 4's numbers (the rank is judged over many seeds; one run
# is checked for a safe choice within the true top three).
PROSPECT_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("survey_coverage", "Survey coverage of the illuminated surface", "", ">=",
                0.95),
    Requirement("site_choice_top3", "Chosen site safe and in the truth's top 3", "", ">=", 1.0),
)


def requirements_for(summary: Mapping) -> tuple[Requirement, ...]:
    # A touch-and-go or prospecting run holds hover points too (the station, safe-home, after
    # the back-away): its hover is judged there; its pointing is not (sim/scoring.py).
    base = TAG_REQUIREMENTS + REQUIREMENTS[:1] if "outcome" in summary else REQUIREMENTS
    if summary.get("survey_coverage") is not None:
        base = PROSPECT_REQUIREMENTS + base
    return base


def not_judged_reason(req: Requirement, summary: Mapping) -> str | None:
    """Why the run could not judge ``req`` (its phase never came), or None."""
    if req.phase in ("hover", "attitude"):
        why = summary.get(f"{req.phase}_not_judged_reason")
        return str(why) if why else None
    if req.phase == "contact" and "outcome" in summary and summary.get("contact_t_s") is None:
        return (f"no contact: {summary.get('outcome')}"
                + (f" ({summary['outcome_reason']})" if summary.get("outcome_reason") else ""))
    if req.phase == "mass" and "outcome" in summary and summary.get("sample_mass_est_kg") is None:
        return "no sample-mass estimate came down (no spin test after sampling)"
    return None


def requirement_status(summary: Mapping) -> dict[str, str]:
    """Map each requirement's summary key to ``"pass"``, ``"fail"``, ``"not_judged"``
    (the run never reached its phase) or ``"na"`` (the figure is missing)."""
    return {r.key: r.status(summary) for r in requirements_for(summary)}
