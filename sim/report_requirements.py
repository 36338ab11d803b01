"""The requirements a run report judges a run against, and the pass/fail of each.

The limits live here once: the plots draw the same lines (``HOVER_REQ_M``,
``ATTITUDE_REQ_DEG``) that the outcome table checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.report_format import as_float

ATTITUDE_REQ_DEG = 0.1
HOVER_REQ_M = 1.0
REALTIME_REQ = 300.0


@dataclass(frozen=True)
class Requirement:
    key: str  # summary key
    label: str
    unit: str
    op: str  # "<=" or ">="
    limit: float

    def check(self, value: object) -> str:
        """``"pass"``, ``"fail"`` or ``"na"`` (missing or non-numeric value)."""
        v = as_float(value)
        if v is None:
            return "na"
        ok = v <= self.limit if self.op == "<=" else v >= self.limit
        return "pass" if ok else "fail"


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("hover_error_m_p99", "Hover position error p99", "m", "<=", HOVER_REQ_M),
    Requirement("attitude_error_deg_p99", "Pointing error p99", "deg", "<=", ATTITUDE_REQ_DEG),
    Requirement("realtime_factor", "Real-time factor", "x", ">=", REALTIME_REQ),
)


# A touch-and-go run is judged on its own figures (issue 3's numbers).
TAG_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("touchdown_miss_m", "Touchdown miss distance", "m", "<=", 1.0),
    Requirement("contact_speed_error_mps", "Contact speed error from 10 cm/s", "m/s", "<=",
                0.02),
    Requirement("sample_mass_error_in_3sigma", "Mass error / its 3-sigma", "", "<=", 1.0),
    Requirement("sample_mass_3sigma_kg", "Mass 3-sigma", "kg", "<=", 0.03),
    Requirement("realtime_factor", "Real-time factor", "x", ">=", REALTIME_REQ),
)


# A prospecting run adds issue 4's numbers (the rank is judged over many seeds; one run
# is checked for a safe choice within the true top three).
PROSPECT_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("survey_coverage", "Survey coverage of the illuminated surface", "", ">=",
                0.95),
    Requirement("site_choice_top3", "Chosen site safe and in the truth's top 3", "", ">=", 1.0),
)


def requirements_for(summary: Mapping) -> tuple[Requirement, ...]:
    base = TAG_REQUIREMENTS if "outcome" in summary else REQUIREMENTS
    if summary.get("survey_coverage") is not None:
        base = PROSPECT_REQUIREMENTS + base
    return base


def requirement_status(summary: Mapping) -> dict[str, str]:
    """Map each requirement's summary key to ``"pass"``, ``"fail"`` or ``"na"``."""
    return {r.key: r.check(summary.get(r.key)) for r in requirements_for(summary)}
